"""credits/services/redeem.py: the one-statement write (PostgreSQL) and the locked ORM path (SQLite, and the
fallback) write the same rows under the same rules. Every test runs on both paths; on SQLite both
parameters run the ORM path."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from config.kernel.exceptions import Conflict, NotFound
from credits import services
from credits.models import CreditEvent, CreditUse, CustomerCredit
from credits.services import redeem
from tests.conftest import ON_POSTGRES, SYSTEM, credit_path

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[True, False], ids=["one-statement", "orm"])
def path(request, monkeypatch):
    monkeypatch.setattr(redeem, "FAST_PATH", request.param)
    return request.param


def _redeem(credit, **kwargs):
    return services.credit_redeem(
        account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=SYSTEM, **kwargs
    )


def test_revenue_is_split_over_a_limited_credit_and_the_last_use_fills_it(path, customer, make_coupon, make_credit):
    credit = make_credit(customer, make_coupon(customer.account, name="3", multi_use=True, max_uses=3), revenue=100)
    answers = [_redeem(credit, reference=f"r{i}") for i in range(3)]
    assert [a.uses for a in answers] == [1, 2, 3]
    assert answers[0].redeemed_at is None and answers[2].redeemed_at is not None
    assert answers[2].status == "redeemed" and answers[2].coupon.name == "3"
    assert [u.revenue for u in CreditUse.objects.filter(credit=credit).order_by("used_at")] == [33, 33, 34]
    credit.refresh_from_db()
    assert credit.revenue_recognised == 100
    with pytest.raises(Conflict) as refused:
        _redeem(credit)
    assert refused.value.code == "credit.not_active"


def test_an_unlimited_credit_recognises_its_revenue_on_the_first_use(path, customer, make_coupon, make_credit):
    credit = make_credit(customer, make_coupon(customer.account, name="u", multi_use=True), revenue=4500)
    for _ in range(3):
        _redeem(credit)
    assert sorted(u.revenue for u in CreditUse.objects.filter(credit=credit)) == [0, 0, 4500]
    credit.refresh_from_db()
    assert credit.uses == 3 and credit.redeemed_at is None


def test_the_use_and_its_history_event(path, credit):
    answer = _redeem(credit, reference="till-9", note="front desk")
    use = CreditUse.objects.get(credit=credit)
    assert (use.reference, use.note, use.revenue, use.used_by) == ("till-9", "front desk", 4500, SYSTEM.label)
    event = CreditEvent.objects.get(credit=credit, action="used")
    assert event.use_id == use.pk and event.actor == SYSTEM.label
    assert event.data == {"reference": "till-9", "revenue": 4500}
    assert answer.uses == 1 and answer.status == "redeemed" and answer.revenue_recognised == 4500


def test_a_known_reference_answers_the_credit_unchanged(path, customer, make_coupon, make_credit):
    credit = make_credit(customer, make_coupon(customer.account, name="3", multi_use=True, max_uses=3))
    _redeem(credit, reference="till-1")
    again = _redeem(credit, reference="till-1")
    assert again.uses == 1 and CreditUse.objects.filter(credit=credit).count() == 1
    assert CreditEvent.objects.filter(credit=credit, action="used").count() == 1


def test_a_known_reference_on_a_used_up_credit_is_still_unchanged(path, credit):
    _redeem(credit, reference="till-1")
    assert _redeem(credit, reference="till-1").uses == 1


def test_a_reversed_use_frees_its_reference_and_its_revenue(path, credit):
    _redeem(credit, reference="till-1")
    use = CreditUse.objects.get(credit=credit)
    services.credit_use_reverse(
        account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, use_id=use.pk, actor=SYSTEM
    )
    again = _redeem(credit, reference="till-1")
    assert again.uses == 1 and again.revenue_recognised == 4500
    assert CreditUse.objects.filter(credit=credit, reversed_at__isnull=True).get().revenue == 4500


@pytest.mark.parametrize("change", ["expired", "revoked"])
def test_an_unusable_credit_is_refused_and_nothing_is_written(path, credit, change):
    if change == "expired":
        CustomerCredit.objects.filter(pk=credit.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    else:
        services.credit_revoke(
            account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=SYSTEM
        )
    with pytest.raises(Conflict) as refused:
        _redeem(credit)
    assert refused.value.code == "credit.not_active" and change in str(refused.value)
    assert not CreditUse.objects.filter(credit=credit).exists()
    assert not CreditEvent.objects.filter(credit=credit, action="used").exists()


def test_another_accounts_or_customers_credit_is_not_found(path, credit, other_account, make_customer):
    stranger = make_customer(credit.account, email="x@example.com")
    for account, customer_id in ((other_account, credit.customer_id), (credit.account, stranger.pk)):
        with pytest.raises(NotFound):
            services.credit_redeem(account=account, customer_id=customer_id, credit_id=credit.pk, actor=SYSTEM)
    assert not CreditUse.objects.filter(credit=credit).exists()


def test_benefit_use_burns_down_soonest_expiry_first_and_no_expiry_last(path, api, customer, coupon, make_credit):
    now = timezone.now()
    never = make_credit(customer, coupon)
    late = make_credit(customer, coupon, expiry_date=now + timedelta(days=30))
    soon = make_credit(customer, coupon, expiry_date=now + timedelta(days=2))
    order = []
    for _ in range(3):
        assert api.post(f"/v1/customers/{customer.number}/benefits/massage/use").status_code == 204
        order.append(CreditUse.objects.order_by("-used_at").values_list("credit_id", flat=True).first())
    assert order == [soon.pk, late.pk, never.pk]
    response = api.post(f"/v1/customers/{customer.number}/benefits/massage/use")
    assert response.status_code == 409 and response.json()["errorCode"] == "benefit.not_available"
    assert CreditEvent.objects.filter(action="used", credit__customer=customer).count() == 3


def test_benefit_use_by_card_and_barcode_and_unknown_customer(path, api, account, make_customer, coupon, make_credit):
    customer = make_customer(account, card_number="3735928559", barcode="B-7")
    credits = [make_credit(customer, coupon) for _ in range(2)]
    assert api.post("/v1/customers/benefits/massage/use?cardNumber=3735928559").status_code == 204
    assert api.post("/v1/customers/benefits/massage/use?barcode=B-7").status_code == 204
    assert [CustomerCredit.objects.get(pk=c.pk).uses for c in credits] == [1, 1]
    unknown = api.post("/v1/customers/benefits/massage/use?barcode=nobody")
    assert unknown.status_code == 404 and unknown.json()["errorCode"] == "customer.not_found"


def test_benefit_use_of_another_accounts_customer_is_not_found(path, make_api, other_account, customer, credit):
    response = make_api(other_account).post(f"/v1/customers/{customer.number}/benefits/massage/use")
    assert response.status_code == 404
    assert not CreditUse.objects.exists()


def test_the_api_answer_after_a_redeem(path, api, credit):
    body = api.post(credit_path(credit, "/redeem"), {"reference": "r"}).json()["data"]
    assert body["uses"] == 1 and body["status"] == "redeemed" and body["coupon"]["name"] == credit.coupon.name
    assert body["id"] == str(credit.pk) and body["customer_id"] == str(credit.customer_id)


def test_credit_answers_built_from_shared_field_definitions_stay_apart(credit, customer, coupon, make_credit):
    """The answer's fields are built once per class and copied per serializer: each copy is bound to its
    own serializer, so one answer's context (its clock) never leaks into another's."""
    from credits.api.serializers import CreditOutputSerializer

    soon = make_credit(customer, coupon, expiry_date=timezone.now() + timedelta(hours=1))
    later = timezone.now() + timedelta(days=1)
    first = CreditOutputSerializer(credit, context={})
    second = CreditOutputSerializer(soon, context={"now": later})
    assert first.data["status"] == "active" and second.data["status"] == "expired"
    assert first.fields["status"] is not second.fields["status"]
    assert first.fields["status"].parent is first and second.fields["coupon"].parent is second
    assert first.data["coupon"]["id"] == str(coupon.pk) and second.data["id"] == str(soon.pk)


@pytest.mark.skipif(not ON_POSTGRES, reason="the one-statement path is PostgreSQL's")
def test_the_redeemed_credit_is_the_instance_the_orm_would_load(credit):
    """try_redeem builds its answer's credit and coupon from the statement's row (Model.from_db): each must
    equal what the ORM loads afterwards, field by field, and be a saved instance of this database."""
    from credits.models import Coupon

    answered = _redeem(credit)
    loaded = CustomerCredit.objects.select_related("coupon").get(pk=credit.pk)
    for model, ours, orm in ((CustomerCredit, answered, loaded), (Coupon, answered.coupon, loaded.coupon)):
        assert type(ours) is model and not ours._state.adding and ours._state.db == orm._state.db
        for field in model._meta.concrete_fields:
            assert getattr(ours, field.attname) == getattr(orm, field.attname), field.attname
    assert answered.uses == 1 and answered.coupon_id == answered.coupon.pk


@pytest.mark.skipif(not ON_POSTGRES, reason="the one-statement path is PostgreSQL's")
def test_the_statement_is_prepared_once_per_connection_and_logged_with_its_text(credit, make_credit, customer, coupon):
    """The server parses and plans the redeem statement once per connection (DB_PREPARED_STATEMENTS), not
    per redeem; Django's query log still records it (CaptureQueriesContext is how the statement budgets
    and the harness count statements)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'WITH locked AS%%'")
            return [row[0] for row in cursor.fetchall()]

    others = [make_credit(customer, coupon) for _ in range(2)]
    with CaptureQueriesContext(connection) as captured:
        for each in (credit, *others):
            assert _redeem(each).uses == 1
    assert len(prepared()) == 1
    writes = [
        q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SELECT", "SAVEPOINT", "RELEASE"))
    ]
    assert len(writes) == 3 and all(sql.startswith("WITH locked AS") for sql in writes)
    assert CreditUse.objects.filter(credit__in=[credit, *others]).count() == 3


def test_prepared_statements_can_be_switched_off_for_a_transaction_pooler():
    script = "import django; django.setup(); from django.conf import settings as s; "
    script += "print(s.DATABASES['default']['OPTIONS'].get('prepare_threshold'))"

    def threshold(**extra) -> str:
        env = {**os.environ, "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", **extra}
        env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        return run.stdout.strip()

    assert threshold() == "5"
    assert threshold(DB_PREPARED_STATEMENTS="false") == "None"
