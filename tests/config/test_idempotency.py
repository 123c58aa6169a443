"""Idempotency-Key on every POST, PUT, PATCH and DELETE of an API client."""

import time
import uuid

import pytest
from django.test import override_settings

from billing import services as billing_services
from config.models import IdempotencyRecord
from credits.models import CreditUse, CustomerCredit
from tests.conftest import SYSTEM, Api, credit_path, snapshot

pytestmark = pytest.mark.django_db


def test_a_retry_gets_the_first_answer_and_changes_nothing(api, customer, coupon):
    url = f"/customers/customers/{customer.pk}/credits"
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)}
    first = api.post(url, body, HTTP_IDEMPOTENCY_KEY="issue-1")
    assert first.status_code == 201
    before = snapshot()
    retry = api.post(url, body, HTTP_IDEMPOTENCY_KEY="issue-1")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert snapshot() == before and CustomerCredit.objects.count() == 1


def test_errors_are_replayed_too(api, credit):
    api.post(credit_path(credit, "/redeem"))
    first = api.post(credit_path(credit, "/redeem"), HTTP_IDEMPOTENCY_KEY="again")
    assert first.status_code == 409
    retry = api.post(credit_path(credit, "/redeem"), HTTP_IDEMPOTENCY_KEY="again")
    assert retry.status_code == 409 and retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_request_is_refused_in_the_dialect(api, customer, coupon, account, make_customer):
    url = f"/customers/customers/{customer.pk}/credits"
    api.post(url, {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)}, HTTP_IDEMPOTENCY_KEY="k")
    before = snapshot()
    other = api.post(
        url, {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "revenue": 1}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other.status_code == 422
    assert other.json() == {
        "message": "This Idempotency-Key was used for another request.",
        "errors": {"Idempotency-Key": ["This Idempotency-Key was used for another request."]},
    }
    benefits = api.post(f"/v1/customers/{customer.number}/benefits/massage/use", HTTP_IDEMPOTENCY_KEY="k")
    assert benefits.status_code == 400 and benefits.json()["errorCode"] == "idempotency_key.reused"
    assert benefits.json()["reference"] == "Idempotency-Key"
    assert snapshot() == before


def test_keys_are_scoped_to_the_client(account, make_api, customer, coupon):
    first, second = make_api(account, name="a"), make_api(account, name="b")
    url = f"/customers/customers/{customer.pk}/credits"
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)}
    assert first.post(url, body, HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert second.post(url, body, HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert CustomerCredit.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_key_in_flight_answers_409_with_retry_after(account, make_client, credit):
    """A claim held by a request that is still running (its transaction open on another connection):
    the retry waits IDEMPOTENCY_WAIT_MS, then 409 with Retry-After and nothing written; once the holder
    is gone (rolled back), the retry runs."""
    import threading

    from django.db import connections
    from django.test import RequestFactory

    from config.api.idempotency import _fingerprint

    api_client, secret = make_client(account)
    api = Api(secret)
    client_id = api_client.pk
    pending = RequestFactory().post(credit_path(credit, "/redeem"), data=b"", content_type="application/json")
    held, release = threading.Event(), threading.Event()

    def holder():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(
                    "INSERT INTO config_idempotencyrecord (api_client_id, key, fingerprint, state, headers, "
                    "created_at, expires_at) VALUES (%s, 'slow', %s, 'in_flight', '{}', now(), now() + '1 hour')",
                    [client_id, _fingerprint(pending)],
                )
                held.set()
                release.wait(20)
                cursor.execute("ROLLBACK")  # the holder dies: its transaction is rolled back
        finally:
            other.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        before = snapshot()
        started = time.monotonic()
        busy = api.post(credit_path(credit, "/redeem"), HTTP_IDEMPOTENCY_KEY="slow")
        assert time.monotonic() - started < 3
        assert busy.status_code == 409 and busy["Retry-After"] == "1"
        assert busy.json() == {
            "message": "A request with this Idempotency-Key is still being processed; retry shortly."
        }
        assert snapshot() == before and not CreditUse.objects.exists()
    finally:
        release.set()
        thread.join()
    assert api.post(credit_path(credit, "/redeem"), HTTP_IDEMPOTENCY_KEY="slow").status_code == 200
    assert CreditUse.objects.count() == 1


def test_answers_worth_retrying_are_not_stored(api, customer, coupon, monkeypatch):
    from credits import services

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "credit_issue", broken)
    url = f"/customers/customers/{customer.pk}/credits"
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)}
    assert api.post(url, body, HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 500
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    assert api.post(url, body, HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 201


def test_expired_keys_run_again(api, customer, coupon):
    url = f"/customers/customers/{customer.pk}/credits"
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)}
    with override_settings(IDEMPOTENCY_KEY_TTL_SECONDS=0):
        api.post(url, body, HTTP_IDEMPOTENCY_KEY="old")
    assert api.post(url, body, HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    assert CustomerCredit.objects.count() == 2


def test_every_family_honours_the_key(api, account, customer):
    rule = api.post(
        "/v1/accounts/T00000001/discounts/rules",
        {"name": "R", "reward": {"type": "discount_amount", "value": 5}},
        HTTP_IDEMPOTENCY_KEY="rule-1",
    )
    again = api.post(
        "/v1/accounts/T00000001/discounts/rules",
        {"name": "R", "reward": {"type": "discount_amount", "value": 5}},
        HTTP_IDEMPOTENCY_KEY="rule-1",
    )
    assert rule.status_code == again.status_code == 201 and rule.json()["id"] == again.json()["id"]
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    url = f"/v1beta1/organizations/{customer.pk}/billing/{wallet.pk}/credits"
    top_up = {"id": str(uuid.uuid4()), "amount": 5}
    assert api.post(url, top_up, HTTP_IDEMPOTENCY_KEY="t").status_code == 200
    assert api.post(url, top_up, HTTP_IDEMPOTENCY_KEY="t")["Idempotent-Replayed"] == "true"


def test_bad_keys_and_safe_methods(api, customer):
    response = api.post("/customers/customers", {"email": "x@example.com"}, HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["errors"]
    assert api.get("/customers/customers", HTTP_IDEMPOTENCY_KEY="ignored").status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_the_header_is_in_the_openapi_document(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = document["paths"]["/customers/customers/{customer_id}/credits/{credit_id}/redeem"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_with_one_key_redeem_once(account, make_client, customer, make_coupon, make_credit):
    from tests.concurrency import run_simultaneously

    _, secret = make_client(account)
    credit = make_credit(customer, make_coupon(account, name="10-pack", multi_use=True, max_uses=10))

    def retry(index: int) -> int:
        return Api(secret).post(credit_path(credit, "/redeem"), HTTP_IDEMPOTENCY_KEY="till-7").status_code

    outcome = run_simultaneously(10, retry)
    assert outcome[200] >= 1 and set(outcome) <= {200, 409}
    credit.refresh_from_db()
    assert credit.uses == 1


def test_purge_deletes_only_expired_records(api, customer):
    from io import StringIO

    from django.core.management import call_command

    with override_settings(IDEMPOTENCY_KEY_TTL_SECONDS=0):
        api.post("/customers/customers", {"email": "a@example.com"}, HTTP_IDEMPOTENCY_KEY="old")
    api.post("/customers/customers", {"email": "b@example.com"}, HTTP_IDEMPOTENCY_KEY="new")
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "Deleted 1 expired" in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
