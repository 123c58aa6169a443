"""The event log is written with each change: every committed change has its event, in its account, with
gapless per-account sequence numbers; a change that rolled back left none."""

from __future__ import annotations

import io
import uuid
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from billing import services as billing_services
from config.kernel.exceptions import NotPossible
from credits import services as credit_services
from credits.models import CustomerCredit
from credits.services import redeem
from discounts import services as discount_services
from events import catalogue
from events.models import Event
from events.services import events_sequence
from tests.world import SYSTEM

pytestmark = pytest.mark.django_db


def _types(account) -> Counter:
    return Counter(Event.objects.filter(account=account).values_list("type", flat=True))


def _gapless(account) -> None:
    events_sequence()
    sequences = list(Event.objects.filter(account=account).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


@pytest.mark.parametrize("fast", [True, False], ids=["one-statement", "orm"])
def test_every_committed_change_of_the_world_has_its_event(world, fast, monkeypatch):
    monkeypatch.setattr(redeem, "FAST_PATH", fast)
    a = world.a
    before = _types(a.account)
    # build_tenant: 3 issued, 1 redeemed, discount usage recorded, private rule given, claim (a recorded
    # usage), a top-up and a debit (two transactions).
    assert before == {
        catalogue.CREDIT_ISSUED: 3,
        catalogue.CREDIT_REDEEMED: 1,
        catalogue.DISCOUNT_USAGE_RECORDED: 2,
        catalogue.DISCOUNT_RULE_GIVEN: 1,
        catalogue.BILLING_TRANSACTION_CREATED: 2,
    }
    customer = a.customer
    credit_services.benefit_use(
        account=a.account, customer_lookup={"number": customer.number}, benefit_key="massage", actor=SYSTEM
    )
    credit_services.credit_use_reverse(
        account=a.account, customer_id=customer.pk, credit_id=a.used_credit.pk, use_id=a.use.pk, actor=SYSTEM
    )
    unused = CustomerCredit.objects.filter(customer=customer, uses=0).first()
    credit_services.credit_revoke(account=a.account, customer_id=customer.pk, credit_id=unused.pk, actor=SYSTEM)
    discount_services.discount_usage_record(
        rule=a.discount,
        receipt=discount_services.Receipt(customer_id=customer.pk, ref="R-1", ref_type="receipt_remove"),
        actor=SYSTEM,
    )
    billing_services.billing_usage_revert(
        account=a.account, org_id=customer.pk, usage_id=a.debit, amount=5, actor=SYSTEM
    )
    after = _types(a.account) - before
    assert after == {
        catalogue.BENEFIT_USED: 1,
        catalogue.CREDIT_USE_REVERSED: 1,
        catalogue.CREDIT_REVOKED: 1,
        catalogue.DISCOUNT_USAGE_REVERTED: 1,
        catalogue.BILLING_TRANSACTION_CREATED: 1,
        catalogue.BILLING_USAGE_REVERTED: 1,
    }
    _gapless(a.account)
    _gapless(world.b.account)
    # The redeem's event carries the rows as written, whichever path wrote them.
    used = Event.objects.get(account=a.account, type=catalogue.CREDIT_REDEEMED)
    assert used.resource_id == str(a.used_credit.pk)
    assert used.data["credit"]["uses"] == 1 and used.data["use"]["id"] == str(a.use.pk)
    assert used.data["coupon"]["id"] == str(a.coupon.pk)
    assert set(used.data["credit"]) == {f.attname for f in CustomerCredit._meta.concrete_fields}


def test_a_change_that_rolled_back_left_no_event(world):
    a = world.a
    count = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        credit_services.credit_redeem(account=a.account, customer_id=a.customer.pk, credit_id=a.credit.pk, actor=SYSTEM)
        a.top_up(7)
        assert Event.objects.count() == count + 2
        raise RuntimeError("the request failed after its writes")
    assert Event.objects.count() == count
    # A refused change writes nothing either.
    with pytest.raises(NotPossible):
        billing_services.billing_usage_report(
            account=a.account,
            billing_account_id=a.wallet.pk,
            actor=SYSTEM,
            usages=[billing_services.Usage(id=uuid.uuid4(), type="credit", amount=10**9)],
        )
    assert Event.objects.count() == count
    credit_services.credit_redeem(account=a.account, customer_id=a.customer.pk, credit_id=a.credit.pk, actor=SYSTEM)
    _gapless(a.account)  # the rolled-back numbers were given out again


def test_events_are_immutable(world):
    event = Event.objects.filter(account=world.a.account).first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_a_large_usage_batch_and_balance_crossings(world):
    """A COPYed batch (50 or more debits) has an event per debit; the low-balance and depleted events
    fire once per crossing, not for each batch below the line."""
    a = world.a
    wallet = a.wallet
    wallet.balance_low_threshold = 400
    wallet.save(update_fields=["balance_low_threshold"])
    wallet.refresh_from_db()
    balance = wallet.balance  # 495

    def debit(n: int, amount: int = 1) -> None:
        billing_services.billing_usage_report(
            account=a.account,
            billing_account_id=wallet.pk,
            actor=SYSTEM,
            usages=[billing_services.Usage(id=uuid.uuid4(), type="credit", amount=amount) for _ in range(n)],
        )

    before = _types(a.account)
    debit(60)  # 435: above the threshold
    debit(50)  # 385: crossed
    debit(1)  # 384: still below, no second event
    billing_services.billing_top_up(
        account=a.account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=100, actor=SYSTEM
    )  # 484: back above
    debit(1, amount=484)  # 0: crosses the threshold again, and depletes
    assert _types(a.account) - before == {
        catalogue.BILLING_TRANSACTION_CREATED: 60 + 50 + 1 + 1 + 1,
        catalogue.BILLING_BALANCE_LOW: 2,
        catalogue.BILLING_BALANCE_DEPLETED: 1,
    }
    assert balance == 495
    _gapless(a.account)


@pytest.mark.postgres
def test_the_one_statement_redeem_event_is_numbered_by_the_next_numbering(world):
    """The redeem statement writes its event without a number (holding the account's counter row to the
    commit would queue every redeem of the account); the account's next writer numbers it before taking
    its own (or events_sequence does); the guard lets only that change through."""
    a = world.a
    events_sequence()
    credit_services.credit_redeem(account=a.account, customer_id=a.customer.pk, credit_id=a.credit.pk, actor=SYSTEM)
    unnumbered = Event.objects.get(account=a.account, sequence=None)
    assert unnumbered.type == catalogue.CREDIT_REDEEMED
    topped = a.top_up(3)[0]
    assert events_sequence() == 0
    last = Event.objects.filter(account=a.account).order_by("-sequence")
    assert [e.resource_id for e in last[:2]] == [str(topped.pk), str(a.credit.pk)]
    use = credit_services.benefit_use(
        account=a.account, customer_lookup={"number": a.customer.number}, benefit_key="massage", actor=SYSTEM
    )
    assert events_sequence() == 1
    assert last.first().data["use"]["id"] == str(use.pk)
    _gapless(a.account)
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=unnumbered.pk).update(type="credit.revoked")
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=unnumbered.pk).update(sequence=None)


def test_a_bulk_grant_writes_one_issued_event_per_credit_granted(account, make_customer, coupon):
    """The set-based grant (PostgreSQL) writes its events in its statement, the ORM path (SQLite) in its
    transaction; a re-run grants nothing and writes nothing."""
    customers = [make_customer(account, email=f"c{i}@example.com") for i in range(4)]
    call_command("grant_credits", account.pk, "--coupon", str(coupon.pk), "--all-customers", stdout=io.StringIO())
    issued = Event.objects.filter(account=account, type=catalogue.CREDIT_ISSUED)
    credits = set(CustomerCredit.objects.filter(coupon=coupon).values_list("id", flat=True))
    assert len(credits) == len(customers)
    assert {uuid.UUID(e.resource_id) for e in issued} == credits
    assert all(e.data["coupon"]["id"] == str(coupon.pk) for e in issued)
    call_command("grant_credits", account.pk, "--coupon", str(coupon.pk), "--all-customers", stdout=io.StringIO())
    assert issued.count() == len(customers)
    _gapless(account)
