"""A monetary credit used in parts (README, "Partial redeem of a monetary credit"): the redeem's optional
`amount`, the credit's `remaining_value`, each use's `amount`, revenue in proportion, reversal, the
idempotent reference, refused amounts, the benefits family, the events, the database's own checks and
simultaneous partial redeems."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from credits import selectors
from credits import services as credit_services
from credits.models import CreditEvent, CreditUse, CustomerCredit
from events import catalogue
from events.models import Event
from tests.concurrency import run_simultaneously
from tests.conftest import SYSTEM, Api, credit_path
from tests.snapshots import snapshot
from webhooks.render import resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(account, make_coupon):
    """A NOK 200 voucher whose use recognises NOK 200 of revenue."""
    return make_coupon(
        account, name="Gift voucher", kind="monetary", value=20000, offering=None, benefit_key="gift",
        default_revenue=20000,
    )  # fmt: skip


@pytest.fixture
def voucher_credit(customer, voucher, make_credit):
    return make_credit(customer, voucher)


def _redeem(api, credit, **body):
    return api.post(credit_path(credit, "/redeem"), body)


def test_a_monetary_credit_starts_with_its_coupons_value_and_an_offering_with_none(api, voucher_credit, credit):
    assert api.get(credit_path(voucher_credit)).json()["data"]["remaining_value"] == 20000
    assert api.get(credit_path(credit)).json()["data"]["remaining_value"] is None


def test_a_nok_200_voucher_used_for_80_has_120_left_then_the_rest(api, voucher_credit):
    response = _redeem(api, voucher_credit, amount=8000, reference="till-1")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["remaining_value"], data["uses"], data["status"], data["redeemed_at"]) == (12000, 1, "active", None)
    data = _redeem(api, voucher_credit, reference="till-2").json()["data"]  # no amount: all that is left
    assert (data["remaining_value"], data["uses"], data["status"]) == (0, 2, "redeemed")
    assert data["redeemed_at"] is not None
    uses = api.get(credit_path(voucher_credit, "/uses")).json()["data"]
    assert [(u["amount"], u["revenue"]) for u in uses] == [(8000, 8000), (12000, 12000)]
    assert _redeem(api, voucher_credit, amount=1).status_code == 409  # redeemed: nothing left to use


def test_a_single_use_voucher_without_an_amount_is_used_up_at_once(api, voucher_credit):
    data = _redeem(api, voucher_credit).json()["data"]
    assert (data["remaining_value"], data["uses"], data["status"]) == (0, 1, "redeemed")
    (use,) = CreditUse.objects.filter(credit=voucher_credit)
    assert (use.amount, use.revenue) == (20000, 20000)


def test_revenue_is_recognised_in_proportion_and_the_uses_sum_exactly_to_it(api, customer, make_coupon, make_credit):
    coupon = make_coupon(customer.account, name="Odd", kind="monetary", value=300, offering=None, default_revenue=100)
    credit = make_credit(customer, coupon)
    for amount in (100, 100, 100):
        assert _redeem(api, credit, amount=amount).status_code == 200
    revenues = list(CreditUse.objects.filter(credit=credit).order_by("used_at", "id").values_list("revenue", flat=True))
    assert revenues == [33, 33, 34] and sum(revenues) == 100
    credit.refresh_from_db()
    assert (credit.revenue_recognised, credit.remaining_value, credit.status) == (100, 0, "redeemed")


def test_a_limited_multi_use_voucher_without_amounts_spends_even_shares(api, customer, make_coupon, make_credit):
    coupon = make_coupon(
        customer.account, name="4 x 50", kind="monetary", value=20000, offering=None, multi_use=True, max_uses=4,
        default_revenue=1000,
    )  # fmt: skip
    credit = make_credit(customer, coupon)
    assert _redeem(api, credit).status_code == 200  # 200 over 4 uses left
    assert _redeem(api, credit, amount=3000).status_code == 200  # a partial use counts as one of the four
    for _ in range(2):  # 120 over the 2 uses left
        assert _redeem(api, credit).status_code == 200
    uses = CreditUse.objects.filter(credit=credit).order_by("used_at", "id")
    assert [u.amount for u in uses] == [5000, 3000, 6000, 6000]
    assert sum(u.revenue for u in uses) == 1000
    credit.refresh_from_db()
    assert (credit.remaining_value, credit.uses, credit.status) == (0, 4, "redeemed")
    assert _redeem(api, credit).status_code == 409


def test_reversing_a_use_gives_its_amount_and_revenue_back(api, voucher_credit):
    _redeem(api, voucher_credit, amount=8000)
    _redeem(api, voucher_credit)
    last = CreditUse.objects.filter(credit=voucher_credit).order_by("-used_at", "-id").first()
    response = api.post(credit_path(voucher_credit, f"/uses/{last.pk}/reverse"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["remaining_value"], data["uses"], data["status"], data["redeemed_at"]) == (12000, 1, "active", None)
    voucher_credit.refresh_from_db()
    assert voucher_credit.revenue_recognised == 8000
    event = CreditEvent.objects.get(credit=voucher_credit, action="use_reversed")
    assert event.data == {"revenue": 12000, "amount": 12000}


def test_a_retried_redeem_with_its_reference_uses_nothing_more(api, voucher_credit):
    assert _redeem(api, voucher_credit, amount=8000, reference="pos-7").status_code == 200
    before = snapshot()
    for amount in (8000, 500, None):
        body = {"reference": "pos-7"} | ({} if amount is None else {"amount": amount})
        response = api.post(credit_path(voucher_credit, "/redeem"), body)
        assert response.status_code == 200 and response.json()["data"]["remaining_value"] == 12000
    assert snapshot() == before


def test_a_retry_of_the_use_that_spent_the_rest_is_answered_unchanged(api, voucher_credit):
    assert _redeem(api, voucher_credit, amount=20000, reference="pos-8").status_code == 200
    before = snapshot()
    response = _redeem(api, voucher_credit, amount=20000, reference="pos-8")
    assert response.status_code == 200 and response.json()["data"]["status"] == "redeemed"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (-500, "Ensure this value is greater than or equal to 1."),
        ("lots", "A valid integer is required."),
        (12.5, "A valid integer is required."),
        (True, "A valid integer is required."),
        (2**63, "Ensure this value is less than or equal to 9223372036854775807."),
        (20001, "Must be at most the value left on the credit (20000 minor units)."),
    ],
)
def test_a_bad_amount_is_422_on_amount_and_writes_nothing(api, voucher_credit, amount, message):
    before = snapshot()
    response = _redeem(api, voucher_credit, amount=amount)
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"amount": [message]} and response.json()["message"]
    assert snapshot() == before


def test_an_amount_on_a_credit_that_is_not_monetary_is_422_and_writes_nothing(api, credit):
    before = snapshot()
    response = _redeem(api, credit, amount=100)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["amount"]
    assert snapshot() == before


def test_more_than_is_left_after_a_partial_use_is_refused(api, voucher_credit):
    _redeem(api, voucher_credit, amount=15000)
    before = snapshot()
    response = _redeem(api, voucher_credit, amount=5001)
    assert response.status_code == 422
    assert response.json()["errors"] == {"amount": ["Must be at most the value left on the credit (5000 minor units)."]}
    assert snapshot() == before
    assert _redeem(api, voucher_credit, amount=5000).json()["data"]["status"] == "redeemed"


def test_a_partly_used_voucher_can_be_revoked_and_a_used_up_one_cannot(api, customer, voucher, make_credit):
    partly, used_up = make_credit(customer, voucher), make_credit(customer, voucher)
    _redeem(api, partly, amount=100)
    _redeem(api, used_up, amount=20000)
    assert api.delete(credit_path(partly)).json()["data"]["status"] == "revoked"
    assert api.delete(credit_path(used_up)).status_code == 400


def test_the_use_event_carries_the_amount_as_the_family_answers_it(api, voucher_credit):
    _redeem(api, voucher_credit, amount=8000, reference="till-1")
    event = Event.objects.get(type=catalogue.CREDIT_REDEEMED, resource_id=str(voucher_credit.pk))
    rendered = resource(event)
    assert rendered["use"]["amount"] == 8000 and rendered["use"]["reference"] == "till-1"
    assert rendered["credit"]["remaining_value"] == 12000 and rendered["credit"]["status"] == "active"
    history = CreditEvent.objects.get(credit=voucher_credit, action="used")
    assert history.data == {"reference": "till-1", "revenue": 8000, "amount": 8000}


def test_a_benefit_use_of_a_voucher_spends_what_is_left(api, customer, voucher_credit):
    _redeem(api, voucher_credit, amount=5000)
    assert api.post(f"/v1/customers/{customer.number}/benefits/gift/use").status_code == 204
    voucher_credit.refresh_from_db()
    assert (voucher_credit.remaining_value, voucher_credit.uses, voucher_credit.status) == (0, 2, "redeemed")
    assert CreditUse.objects.filter(credit=voucher_credit).order_by("used_at").last().amount == 15000
    event = Event.objects.get(type=catalogue.BENEFIT_USED)
    assert resource(event)["use"]["amount"] == 15000


def test_a_benefit_use_burns_down_a_partly_used_voucher_first(
    api, customer, account, voucher, make_coupon, make_credit
):
    """Both kinds under one benefit key: the one expiring first is used, whether monetary or not, on the
    one-statement path and the locked path alike (the statement locks the voucher and leaves it to the
    locked path)."""
    from datetime import timedelta

    from django.utils import timezone

    soon = make_credit(customer, voucher, expiry_date=timezone.now() + timedelta(days=2))
    later = make_credit(
        customer, make_coupon(account, name="Gift massage", benefit_key="gift"),
        expiry_date=timezone.now() + timedelta(days=9),
    )  # fmt: skip
    _redeem(api, soon, amount=100)  # single-use by kind, still usable by value
    assert api.post(f"/v1/customers/{customer.number}/benefits/gift/use").status_code == 204
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.remaining_value, soon.status, later.uses) == (0, "redeemed", 0)
    assert api.get(f"/v1/customers/{customer.number}/benefits").status_code == 200


def test_the_benefits_summary_and_the_holdings_count_what_is_left(api, customer, voucher_credit):
    _redeem(api, voucher_credit, amount=8000)
    assert selectors.benefits_of(customer=customer, keys=["gift"]) == [{"key": "gift", "valid": True, "uses_left": 1}]
    assert selectors.holdings_of(customer=customer).vouchers == {"NOK": 12000}


@pytest.mark.postgres
def test_an_offering_credit_without_a_body_is_still_one_statement_and_a_voucher_takes_the_locked_path(
    api, credit, voucher_credit
):
    api.get("/customers/coupons")
    with CaptureQueriesContext(connection) as captured:
        assert _redeem(api, credit).status_code == 200
    sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sql) == 1 and sql[0].startswith("WITH locked AS")
    with CaptureQueriesContext(connection) as captured:
        assert _redeem(api, voucher_credit, amount=100).status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert not any(s.startswith("WITH locked AS") for s in sql)  # an amount goes to the locked path at once
    assert any("FOR UPDATE" in s for s in sql)


def test_the_database_refuses_a_negative_remaining_value_and_amount(voucher_credit):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerCredit.objects.filter(pk=voucher_credit.pk).update(remaining_value=-1)
    use = credit_services.credit_redeem(
        account=voucher_credit.account, customer_id=voucher_credit.customer_id, credit_id=voucher_credit.pk,
        actor=SYSTEM, amount=100,
    )  # fmt: skip
    assert use.remaining_value == 19900
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditUse.objects.filter(credit=voucher_credit).update(amount=-1)


def test_a_revoked_voucher_with_nothing_left_is_refused_by_the_database(voucher_credit):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerCredit.objects.filter(pk=voucher_credit.pk).update(
            remaining_value=0, revoked_at=voucher_credit.created_at
        )


# --- simultaneous partial redeems (real transactions, one connection per thread) ----------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_partial_redeems_never_overdraw(account, make_client, customer, voucher, make_credit):
    """12 redeems of NOK 30 at once against NOK 200: 6 succeed (NOK 180), the other 6 find NOK 20 left."""
    _, secret = make_client(account)
    credit = make_credit(customer, voucher)

    def redeem(index: int) -> int:
        return Api(secret).post(credit_path(credit, "/redeem"), {"amount": 3000, "reference": f"t-{index}"}).status_code

    assert run_simultaneously(12, redeem) == {200: 6, 422: 6}
    credit.refresh_from_db()
    uses = CreditUse.objects.filter(credit=credit)
    assert (credit.remaining_value, credit.uses, credit.status) == (2000, 6, "active")
    assert sum(u.amount for u in uses) == 18000 and sum(u.revenue for u in uses) == credit.revenue_recognised


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_partial_and_whole_redeems_spend_exactly_the_value(
    account, make_client, customer, voucher, make_credit
):
    """Redeems of NOK 50 and redeems without an amount at once: the value is spent exactly once, every
    refusal is 409 (nothing left) or 422 (less left than asked), never a 5xx."""
    _, secret = make_client(account)
    credit = make_credit(customer, voucher)

    def redeem(index: int) -> int:
        body = {"amount": 5000} if index % 2 else {}
        return Api(secret).post(credit_path(credit, "/redeem"), body).status_code

    outcome = run_simultaneously(16, redeem)
    assert set(outcome) <= {200, 409, 422} and outcome[200] >= 1
    credit.refresh_from_db()
    uses = CreditUse.objects.filter(credit=credit)
    assert (credit.remaining_value, credit.status) == (0, "redeemed")
    assert sum(u.amount for u in uses) == 20000 and sum(u.revenue for u in uses) == 20000
    assert uses.count() == outcome[200]


# --- the migration that added amounts fills existing rows ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_existing_monetary_credits_and_uses_as_the_old_rules_spent_them(
    customer, make_coupon, coupon
):
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    account = customer.account
    single = make_coupon(account, name="200", kind="monetary", value=20000, offering=None)
    limited = make_coupon(account, name="3 x", kind="monetary", value=1000, offering=None, multi_use=True, max_uses=3)
    unlimited = make_coupon(account, name="any", kind="monetary", value=500, offering=None, multi_use=True)
    before, after = [("credits", "0010_approval_request_permissions")], [("credits", "0011_monetary_remaining_value")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Credit, Use = old.get_model("credits", "CustomerCredit"), old.get_model("credits", "CreditUse")
    now = timezone.now()

    def make(coupon, uses: int, reversed_uses: int = 0, **values):
        credit = Credit.objects.create(
            account_id=account.pk, customer_id=customer.pk, coupon_id=coupon.pk, source="manual",
            multi_use=coupon.multi_use, max_uses=coupon.max_uses, uses=uses, revenue=0, issued_by="test",
            created_at=now, **values,
        )  # fmt: skip
        for n in range(uses + reversed_uses):
            Use.objects.create(
                credit_id=credit.pk, used_at=now + timezone.timedelta(seconds=n), revenue=0, used_by="test",
                reversed_at=now if n < reversed_uses else None,
            )  # fmt: skip
        return credit.pk

    ids = {
        "single unused": make(single, 0),
        "single used": make(single, 1, redeemed_at=now),
        "limited, one used, one reversed": make(limited, 1, reversed_uses=1),
        "limited used up": make(limited, 3, redeemed_at=now),
        "unlimited used twice": make(unlimited, 2),
        "offering used": make(coupon, 1, redeemed_at=now),
    }
    executor = MigrationExecutor(connection)
    executor.migrate(after)

    def state(name):
        credit = CustomerCredit.objects.get(pk=ids[name])
        amounts = [
            u.amount for u in CreditUse.objects.filter(credit=credit, reversed_at__isnull=True).order_by("used_at")
        ]
        return credit.remaining_value, amounts, credit.status

    assert state("single unused") == (20000, [], "active")
    assert state("single used") == (0, [20000], "redeemed")
    assert state("limited, one used, one reversed") == (667, [333], "active")
    assert state("limited used up") == (0, [333, 333, 334], "redeemed")
    assert state("unlimited used twice") == (500, [0, 0], "active")
    assert state("offering used") == (None, [None], "redeemed")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
