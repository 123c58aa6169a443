"""Simultaneous redeems of one credit, from 20 threads with their own PostgreSQL connections: never
more successes than uses left, the rest 409, never a 5xx."""

import pytest

from credits.models import CreditUse, CustomerCredit
from tests.concurrency import run_simultaneously
from tests.conftest import Api, credit_path

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _redeem_all(credit, secret, count=20):
    def redeem(index: int) -> int:
        return Api(secret).post(credit_path(credit, "/redeem"), {"reference": f"till-{index}"}).status_code

    return run_simultaneously(count, redeem)


def _use_benefit_all(customer, secret, count):
    def use(index: int) -> int:
        return Api(secret).post(f"/v1/customers/{customer.number}/benefits/massage/use").status_code

    return run_simultaneously(count, use)


def test_twenty_simultaneous_redeems_of_a_single_use_credit(account, make_client, credit):
    _, secret = make_client(account)
    outcome = _redeem_all(credit, secret)
    assert outcome == {200: 1, 409: 19}
    credit.refresh_from_db()
    assert credit.uses == 1 and credit.status == "redeemed"
    assert CreditUse.objects.filter(credit=credit).count() == 1


def test_twenty_simultaneous_redeems_of_a_three_use_credit(account, make_client, customer, make_coupon, make_credit):
    _, secret = make_client(account)
    credit = make_credit(customer, make_coupon(account, name="3-pack", multi_use=True, max_uses=3), revenue=100)
    outcome = _redeem_all(credit, secret)
    assert outcome == {200: 3, 409: 17}
    credit.refresh_from_db()
    assert credit.uses == 3 and credit.revenue_recognised == 100
    assert sum(u.revenue for u in CreditUse.objects.filter(credit=credit)) == 100


def test_the_database_refuses_more_uses_than_the_limit(credit):
    """The CHECK constraint holds even when application code is bypassed."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerCredit.objects.filter(pk=credit.pk).update(uses=2)


def test_the_database_refuses_deleting_credit_history(credit):
    from django.db import connection, transaction
    from django.db.utils import IntegrityError

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM credits_creditevent WHERE credit_id = %s", [credit.pk])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM credits_customercredit WHERE id = %s", [credit.pk])
    assert CustomerCredit.objects.filter(pk=credit.pk).exists()


def test_twenty_simultaneous_benefit_uses_against_a_contingent_of_five(
    account, make_client, customer, coupon, make_credit
):
    _, secret = make_client(account)
    credits = [make_credit(customer, coupon) for _ in range(5)]
    assert _use_benefit_all(customer, secret, 20) == {204: 5, 409: 15}
    assert [CustomerCredit.objects.get(pk=c.pk).uses for c in credits] == [1] * 5
    assert CreditUse.objects.filter(credit__customer=customer).count() == 5


def test_benefit_uses_and_credit_redeems_share_one_contingent(account, make_client, customer, make_coupon, make_credit):
    """The two families are one ledger: 10 uses through each API at once against 4 uses left."""
    _, secret = make_client(account)
    credit = make_credit(customer, make_coupon(account, name="4-pack", multi_use=True, max_uses=4))

    def either(index: int) -> int:
        if index % 2:
            return Api(secret).post(f"/v1/customers/{customer.number}/benefits/massage/use").status_code
        return Api(secret).post(credit_path(credit, "/redeem")).status_code

    outcome = run_simultaneously(20, either)
    assert outcome[204] + outcome[200] == 4 and outcome[409] == 16
    credit.refresh_from_db()
    assert credit.uses == 4


@pytest.mark.parametrize("max_uses", [None, 3], ids=["single-use", "three-use"])
def test_twenty_simultaneous_retries_with_one_reference_use_once(
    account, make_client, customer, make_coupon, make_credit, max_uses
):
    """A reference recorded by the winner answers every retry with the credit unchanged (200), also
    when the retry waited for the row lock while the winner committed."""
    _, secret = make_client(account)
    coupon = make_coupon(account, name="pack", multi_use=max_uses is not None, max_uses=max_uses)
    credit = make_credit(customer, coupon)

    def redeem(index: int) -> int:
        return Api(secret).post(credit_path(credit, "/redeem"), {"reference": "till-1"}).status_code

    assert run_simultaneously(20, redeem) == {200: 20}
    credit.refresh_from_db()
    assert credit.uses == 1
    assert CreditUse.objects.filter(credit=credit).count() == 1


def test_simultaneous_uses_through_the_orm_path_too(account, make_client, customer, coupon, make_credit, monkeypatch):
    """The locked ORM path (SQLite's, and PostgreSQL's fallback) keeps the same guarantee."""
    from credits.services import redeem

    monkeypatch.setattr(redeem, "FAST_PATH", False)
    _, secret = make_client(account)
    credits = [make_credit(customer, coupon) for _ in range(3)]
    assert _use_benefit_all(customer, secret, 10) == {204: 3, 409: 7}
    assert [CustomerCredit.objects.get(pk=c.pk).uses for c in credits] == [1] * 3
