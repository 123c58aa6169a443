"""The billing family (Frontier-style): usage reports, balance ledger, reverts, top-ups, limits."""

import json
import uuid

import jsonschema
import pytest
from django.db.models import Sum

from billing import services
from billing.models import BillingAccount, BillingTransaction, FeatureUsage
from config.api import dialects
from tests.concurrency import run_simultaneously
from tests.conftest import SYSTEM, Api, snapshot

pytestmark = pytest.mark.django_db
ERROR_SCHEMA = dialects.get("billing").error_schema()
# The vendor's Transaction message: every field, always present.
TRANSACTION_FIELDS = {
    "id",
    "customer_id",
    "source",
    "amount",
    "type",
    "description",
    "user_id",
    "metadata",
    "created_at",
    "updated_at",
}


def assert_error(response, status: int, grpc: int):
    assert response.status_code == status, response.content
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    assert body["code"] == grpc and body["message"], body
    return body


def read_json(response):
    """The JSON of an answer, streamed (the complete transactions list) or not."""
    if response.streaming:
        return json.loads(b"".join(response.streaming_content))
    return response.json()


def ledger_state() -> dict:
    return {
        "accounts": sorted((str(a.pk), a.balance) for a in BillingAccount.objects.all()),
        "transactions": BillingTransaction.objects.count(),
        "features": FeatureUsage.objects.count(),
        **snapshot(),
    }


def usage(amount=1, **values):
    return {"id": str(uuid.uuid4()), "amount": amount, **values}


def account_url(wallet, suffix=""):
    return f"/v1beta1/organizations/{wallet.customer_id}/billing/{wallet.pk}{suffix}"


def balance(wallet) -> int:
    wallet.refresh_from_db()
    return wallet.balance


def ledger_sum(wallet) -> int:
    rows = BillingTransaction.objects.filter(billing_account=wallet)
    credit = rows.filter(type="credit").aggregate(s=Sum("amount"))["s"] or 0
    debit = rows.filter(type="debit").aggregate(s=Sum("amount"))["s"] or 0
    return credit - debit


# --- reporting usages -----------------------------------------------------------------------------


def test_report_by_org_id_debits_the_default_account(api, wallet, customer):
    response = api.post(
        "/v1beta1/organizations/billing/usages",
        {"org_id": str(customer.pk), "usages": [usage(25, source="API.Calls"), usage("5")]},
    )
    assert response.status_code == 200 and response.json() == {}
    assert balance(wallet) == 270 == ledger_sum(wallet)
    tx = BillingTransaction.objects.filter(type="debit").order_by("amount").last()
    assert (tx.source, tx.created_by) == ("api.calls", "client:pos-frontdesk")


def test_report_by_path_by_billing_id_and_by_project(api, wallet, customer, account):
    assert api.post(account_url(wallet, "/usages"), {"usages": [usage(10)]}).status_code == 200
    assert (
        api.post(
            "/v1beta1/organizations/billing/usages", {"billing_id": str(wallet.pk), "usages": [usage(10)]}
        ).status_code
        == 200
    )
    project = services.project_create(account=account, org_id=customer.pk, name="web", actor=SYSTEM)
    assert (
        api.post(
            "/v1beta1/organizations/billing/usages", {"project_id": str(project.pk), "usages": [usage(10)]}
        ).status_code
        == 200
    )
    assert balance(wallet) == 270


def test_feature_usages_are_recorded_not_debited(api, wallet, customer):
    api.post(account_url(wallet, "/usages"), {"usages": [usage(3, type="feature", source="Exports")]})
    assert balance(wallet) == 300
    feature = FeatureUsage.objects.get()
    assert (feature.feature, feature.amount) == ("exports", 3)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"usages": [usage(-1)]}, "usages.0.amount"),
        ({"usages": [usage("12a")]}, "usages.0.amount"),
        ({"usages": [usage(True)]}, "usages.0.amount"),
        ({"usages": [usage(2**63)]}, "usages.0.amount"),
        ({"usages": [usage(1, type="refund")]}, "usages.0.type"),
        ({"usages": [{"amount": 1}]}, "usages.0.id"),
        ({"usages": [{"id": "not-a-uuid", "amount": 1}]}, "usages.0.id"),
        ({"usages": [usage(1, metadata=[1])]}, "usages.0.metadata"),
        ({"usages": "many"}, "usages"),
        ({"usages": [usage(1)] * 2}, "usages.1.id"),
        ({"usages": [usage(1) for _ in range(1001)]}, "usages"),
    ],
)
def test_bad_usages_are_400_and_apply_nothing(api, wallet, body, field):
    before = ledger_state()
    error = assert_error(api.post(account_url(wallet, "/usages"), body), 400, 3)
    violations = [v["field"] for d in error["details"] for v in d.get("field_violations", [])]
    assert field in violations
    assert ledger_state() == before


@pytest.mark.parametrize(
    "body, status, grpc",
    [
        ({"usages": []}, 400, 3),
        (
            {
                "org_id": "00000000-0000-0000-0000-000000000000",
                "project_id": "00000000-0000-0000-0000-000000000001",
                "usages": [],
            },
            400,
            3,
        ),
        ({"org_id": "bad", "usages": []}, 400, 3),
        ({"org_id": "00000000-0000-0000-0000-000000000000", "usages": []}, 404, 5),
        ({"billing_id": "00000000-0000-0000-0000-000000000000", "usages": []}, 404, 5),
        ({"project_id": "00000000-0000-0000-0000-000000000000", "usages": []}, 404, 5),
    ],
)
def test_billing_account_resolution_errors(api, wallet, body, status, grpc):
    before = ledger_state()
    assert_error(api.post("/v1beta1/organizations/billing/usages", body), status, grpc)
    assert ledger_state() == before


def test_a_batch_whose_last_usage_overdraws_applies_nothing(api, wallet):
    before = ledger_state()
    response = api.post(account_url(wallet, "/usages"), {"usages": [usage(100), usage(100), usage(101)]})
    body = assert_error(response, 400, 3)
    assert body["message"] == "insufficient credits"
    assert ledger_state() == before and balance(wallet) == 300


def test_replaying_a_batch_changes_nothing_and_a_changed_value_is_409(api, wallet):
    batch = {"usages": [usage(10, description="a"), usage(5, type="feature")]}
    assert api.post(account_url(wallet, "/usages"), batch).status_code == 200
    before = ledger_state()
    assert api.post(account_url(wallet, "/usages"), batch).status_code == 200
    assert ledger_state() == before
    changed = {"usages": [batch["usages"][0], {**batch["usages"][1], "amount": 6}, usage(1)]}
    body = assert_error(api.post(account_url(wallet, "/usages"), changed), 409, 6)
    assert "credits already applied" in body["message"]
    assert ledger_state() == before


def test_negative_credit_min_allows_an_overdraft(api, wallet):
    assert (
        api.put(account_url(wallet, "/limits"), {"credit_min": "-100"}).json()["billing_account"]["credit_min"]
        == "-100"
    )
    wallet.refresh_from_db()
    assert wallet.updated_by == api.client.actor_label
    assert api.post(account_url(wallet, "/usages"), {"usages": [usage(400)]}).status_code == 200
    assert balance(wallet) == -100
    assert_error(api.post(account_url(wallet, "/usages"), {"usages": [usage(1)]}), 400, 3)
    assert_error(api.put(account_url(wallet, "/limits"), {"credit_min": 0}), 400, 3)


# --- reading --------------------------------------------------------------------------------------


def test_balance_transactions_and_pages(api, wallet):
    for i in range(5):
        api.post(account_url(wallet, "/usages"), {"usages": [usage(i + 1)]})
    body = api.get(account_url(wallet, "/balance")).json()
    assert body["balance"]["amount"] == "285" and body["balance"]["currency"] == "VC" and body["balance"]["updated_at"]
    first = api.get(account_url(wallet, "/transactions"), {"page_size": 4}).json()
    assert [t["amount"] for t in first["transactions"]] == ["5", "4", "3", "2"]
    assert set(first["transactions"][0]) == TRANSACTION_FIELDS
    assert first["transactions"][0]["customer_id"] == str(wallet.pk)
    second = api.get(
        account_url(wallet, "/transactions"), {"page_size": 4, "page_token": first["next_page_token"]}
    ).json()
    assert [t["amount"] for t in second["transactions"]] == ["1", "300"] and second["next_page_token"] == ""
    assert_error(api.get(account_url(wallet, "/transactions"), {"page_token": "garbage!"}), 400, 3)
    assert_error(api.get(account_url(wallet, "/transactions"), {"page_size": 0}), 400, 3)
    assert_error(api.get(account_url(wallet, "/transactions"), {"start_range": "yesterday"}), 400, 3)
    late = read_json(api.get(account_url(wallet, "/transactions"), {"start_range": "2999-01-01T00:00:00Z"}))
    assert late["transactions"] == []


def test_check(api, wallet, customer):
    assert api.post("/v1beta1/billing/check", {"org_id": str(customer.pk), "amount": "300"}).json() == {"status": True}
    assert api.post("/v1beta1/billing/check", {"org_id": str(customer.pk), "amount": 301}).json() == {"status": False}
    assert_error(api.post("/v1beta1/billing/check", {"org_id": "x", "amount": 1}), 400, 3)


# --- reverts --------------------------------------------------------------------------------------


def test_reverts(api, wallet, customer):
    spent = usage(100, source="llm")
    api.post(account_url(wallet, "/usages"), {"usages": [spent]})
    revert = {"org_id": str(customer.pk), "usage_id": spent["id"]}
    assert api.post("/v1beta1/organizations/billing/usages/revert", {**revert, "amount": 60}).status_code == 200
    assert api.post("/v1beta1/organizations/billing/usages/revert", {**revert, "amount": "40"}).status_code == 200
    assert balance(wallet) == 300 == ledger_sum(wallet)
    before = ledger_state()
    assert_error(api.post("/v1beta1/organizations/billing/usages/revert", {**revert, "amount": 1}), 400, 3)
    assert ledger_state() == before
    back = BillingTransaction.objects.filter(reverts__isnull=False).first()
    assert back.source == "system.revert.llm" and back.metadata == {"revert_request_using": spent["id"]}
    assert_error(
        api.post(
            "/v1beta1/organizations/billing/usages/revert",
            {"org_id": str(customer.pk), "usage_id": str(back.usage_id), "amount": 1},
        ),
        409,
        6,
    )
    assert_error(
        api.post(
            "/v1beta1/organizations/billing/usages/revert",
            {"org_id": str(customer.pk), "usage_id": str(uuid.uuid4()), "amount": 1},
        ),
        400,
        3,
    )
    debited = api.get(account_url(wallet, "/debited_transactions_total")).json()["debited"]
    assert (debited["amount"], debited["currency"]) == ("0", "VC")


def test_debited_total_follows_partial_reverts(api, wallet, customer):
    spent = usage(100)
    api.post(account_url(wallet, "/usages"), {"usages": [spent, usage(20)]})
    api.post(
        "/v1beta1/organizations/billing/usages/revert",
        {"org_id": str(customer.pk), "usage_id": spent["id"], "amount": 30},
    )
    assert api.get(account_url(wallet, "/debited_transactions_total")).json()["debited"]["amount"] == "90"


def test_revert_a_top_up_is_400_and_needs_admin(api, wallet, customer, account, make_api):
    # The vendor answers InvalidArgument for a usage it does not find (credit.ErrNotFound).
    topup = BillingTransaction.objects.get(type="credit")
    before = ledger_state()
    assert_error(
        api.post(
            "/v1beta1/organizations/billing/usages/revert",
            {"org_id": str(customer.pk), "usage_id": str(topup.usage_id), "amount": 1},
        ),
        400,
        3,
    )
    assert ledger_state() == before
    writer = make_api(account, scopes=["billing:write"], name="writer")
    assert_error(
        writer.post(
            "/v1beta1/organizations/billing/usages/revert",
            {"org_id": str(customer.pk), "usage_id": str(topup.usage_id), "amount": 1},
        ),
        403,
        7,
    )


# --- accounts, top-ups, limits, projects ----------------------------------------------------------


def test_billing_accounts_top_up_and_projects(api, customer):
    created = api.post(f"/v1beta1/organizations/{customer.pk}/billing", {"currency": "NOK"})
    assert created.status_code == 200
    account = created.json()["billing_account"]
    assert (account["currency"], account["balance"], account["credit_min"]) == ("NOK", "0", "0")
    listed = api.get(f"/v1beta1/organizations/{customer.pk}/billing").json()["billing_accounts"]
    assert [a["id"] for a in listed] == [account["id"]]
    url = f"/v1beta1/organizations/{customer.pk}/billing/{account['id']}/credits"
    topup = {"id": str(uuid.uuid4()), "amount": "500", "description": "welcome"}
    first = api.post(url, topup)
    assert first.status_code == 200 and first.json()["transaction"]["source"] == "system.awarded"
    assert api.post(url, topup).json() == first.json()
    assert_error(api.post(url, {**topup, "amount": 501}), 409, 6)
    assert_error(api.post(url, {"id": str(uuid.uuid4()), "amount": 0}), 400, 3)
    assert BillingAccount.objects.get(pk=account["id"]).balance == 500
    project = api.post(f"/v1beta1/organizations/{customer.pk}/projects", {"name": "web"})
    assert project.status_code == 200 and project.json()["project"]["org_id"] == str(customer.pk)
    assert len(api.get(f"/v1beta1/organizations/{customer.pk}/projects").json()["projects"]) == 1


def test_unknown_and_foreign_ids(api, wallet, other_account, make_api):
    assert_error(api.get(f"/v1beta1/organizations/{uuid.uuid4()}/billing"), 404, 5)
    assert_error(api.get(f"/v1beta1/organizations/{wallet.customer_id}/billing/{uuid.uuid4()}/balance"), 404, 5)
    assert_error(api.get(f"/v1beta1/organizations/{wallet.customer_id}/billing/not-a-uuid/balance"), 400, 3)
    foreign = make_api(other_account)
    before = ledger_state()
    assert_error(foreign.get(account_url(wallet, "/balance")), 404, 5)
    assert_error(foreign.post(account_url(wallet, "/usages"), {"usages": [usage(1)]}), 404, 5)
    assert_error(
        foreign.post("/v1beta1/organizations/billing/usages", {"billing_id": str(wallet.pk), "usages": [usage(1)]}),
        404,
        5,
    )
    assert ledger_state() == before


def test_auth_and_scopes(anonymous, account, make_api, wallet):
    assert_error(anonymous.get(account_url(wallet, "/balance")), 401, 16)
    reader = make_api(account, scopes=["billing:read"], name="reader")
    assert reader.get(account_url(wallet, "/balance")).status_code == 200
    before = ledger_state()
    assert_error(reader.post(account_url(wallet, "/usages"), {"usages": [usage(1)]}), 403, 7)
    assert ledger_state() == before
    admin = make_api(account, scopes=["billing:admin"], name="admin")
    assert admin.post(account_url(wallet, "/usages"), {"usages": [usage(1)]}).status_code == 200  # admin implies write


def test_unknown_path_and_malformed_json(api, wallet):
    assert_error(api.get("/v1beta1/nothing"), 404, 5)
    assert_error(api.post(account_url(wallet, "/usages"), raw="{oops"), 400, 3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_batches_against_a_balance_of_300(account, make_client, customer):
    _, secret = make_client(account)
    billing = services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    services.billing_top_up(
        account=account, billing_account_id=billing.pk, usage_id=uuid.uuid4(), amount=300, actor=SYSTEM
    )

    def batch(index: int) -> int:
        body = {"usages": [usage(1) for _ in range(10)]}
        return Api(secret).post(f"/v1beta1/organizations/{customer.pk}/billing/{billing.pk}/usages", body).status_code

    assert run_simultaneously(50, batch) == {200: 30, 400: 20}
    billing.refresh_from_db()
    assert billing.balance == 0 == ledger_sum(billing)
    assert BillingTransaction.objects.filter(type="debit").count() == 300
