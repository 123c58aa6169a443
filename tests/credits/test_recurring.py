"""issue_membership_credits: the recurring grant engine of spec/operations.md."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from credits import services as credit_services
from credits.models import CreditEvent, CustomerCredit, MembershipCreditRule
from credits.services import recurring
from customers import services as customer_services
from tests.concurrency import run_simultaneously
from tests.conftest import SYSTEM, snapshot

pytestmark = pytest.mark.django_db

SIGNUP = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def make_rule(account, membership_type, coupon):
    def make(created_at=datetime(2026, 1, 1, tzinfo=UTC), **values) -> MembershipCreditRule:
        with time_machine.travel(created_at, tick=False):
            return credit_services.membership_credit_rule_create(
                account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM, **values
            )

    return make


@pytest.fixture
def member(customer, membership_type):
    return customer_services.membership_create(
        customer=customer, membership_type_id=membership_type.pk, started_at=SIGNUP, actor=SYSTEM
    )


def issue(as_of: str, **kwargs) -> recurring.IssueSummary:
    return recurring.membership_credits_issue(as_of=at(as_of), **kwargs)


def periods(rule) -> list[tuple[str, str | None, int]]:
    return [
        (c.period_start.isoformat(), c.expiry_date.isoformat() if c.expiry_date else None, c.period_nth)
        for c in CustomerCredit.objects.filter(rule=rule).order_by("period_start", "period_nth")
    ]


@pytest.mark.parametrize(
    "frequency, as_of, starts",
    [
        ("billing_cycle", "2026-04-30T09:00:00Z", ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]),
        ("P1M", "2026-03-30T00:00:00Z", ["2026-01-31", "2026-02-28"]),
        ("P3M", "2027-01-31T09:00:00Z", ["2026-01-31", "2026-04-30", "2026-07-31", "2026-10-31", "2027-01-31"]),
        ("P6M", "2027-01-31T09:00:00Z", ["2026-01-31", "2026-07-31", "2027-01-31"]),
        ("P1Y", "2028-06-01T00:00:00Z", ["2026-01-31", "2027-01-31", "2028-01-31"]),
        ("P0D", "2030-01-01T00:00:00Z", ["2026-01-31"]),
    ],
)
def test_each_frequency_counts_periods_from_the_membership_start(make_rule, member, frequency, as_of, starts):
    rule = make_rule(issuing_frequency=frequency)
    summary = issue(as_of)
    assert summary.issued == len(starts)
    assert [p[0][:10] for p in periods(rule)] == starts


def test_without_issue_on_signup_the_first_issue_is_the_second_period(make_rule, member):
    rule = make_rule(issuing_frequency="P1M", issue_on_signup=False)
    issue("2026-03-31T09:00:00Z")
    assert [p[0][:10] for p in periods(rule)] == ["2026-02-28", "2026-03-31"]


def test_roll_over_false_expires_at_the_period_end(make_rule, member):
    rule = make_rule(issuing_frequency="P1M", roll_over=False)
    issue("2026-02-01T00:00:00Z")
    assert periods(rule) == [("2026-01-31T09:00:00+00:00", "2026-02-28T09:00:00+00:00", 1)]


def test_roll_over_true_follows_the_coupons_valid_for(make_rule, member, coupon):
    credit_services.coupon_update(coupon=coupon, actor=SYSTEM, valid_for="P90D")
    rule = make_rule(issuing_frequency="P1M", roll_over=True)
    issue("2026-02-01T00:00:00Z")
    assert periods(rule) == [("2026-01-31T09:00:00+00:00", "2026-05-01T09:00:00+00:00", 1)]


def test_roll_over_true_without_valid_for_never_expires(make_rule, member):
    rule = make_rule(issuing_frequency="P1M", roll_over=True)
    issue("2026-02-01T00:00:00Z")
    assert periods(rule) == [("2026-01-31T09:00:00+00:00", None, 1)]


def test_quantity_issues_that_many_per_period(make_rule, member):
    rule = make_rule(issuing_frequency="P1M", quantity=3)
    assert issue("2026-02-28T09:00:00Z").issued == 6
    assert [p[2] for p in periods(rule)] == [1, 2, 3, 1, 2, 3]
    credit = CustomerCredit.objects.filter(rule=rule).first()
    assert (credit.source, credit.membership_id, credit.issued_by) == ("membership", member.pk, f"rule:{rule.pk}")
    assert CreditEvent.objects.filter(action="issued", actor=f"rule:{rule.pk}").count() == 6


def test_missed_periods_are_caught_up_and_reruns_change_nothing(make_rule, member):
    rule = make_rule(issuing_frequency="P1M")
    assert issue("2026-02-01T00:00:00Z").issued == 1
    assert issue("2026-02-01T00:00:00Z").issued == 0
    assert issue("2026-06-01T00:00:00Z").issued == 4  # Feb, Mar, Apr, May: the command did not run
    before = snapshot()
    assert issue("2026-06-01T00:00:00Z").issued == 0
    assert snapshot() == before
    assert len(periods(rule)) == 5


def test_periods_before_the_rule_was_created_are_not_issued(make_rule, member):
    rule = make_rule(created_at=datetime(2026, 3, 15, tzinfo=UTC), issuing_frequency="P1M")
    issue("2026-05-01T00:00:00Z")
    assert [p[0][:10] for p in periods(rule)] == ["2026-03-31", "2026-04-30"]


def test_no_periods_after_the_membership_was_cancelled(make_rule, member):
    rule = make_rule(issuing_frequency="P1M")
    customer_services.membership_cancel(membership=member, actor=SYSTEM, at=at("2026-03-15T00:00:00Z"))
    issue("2026-08-01T00:00:00Z")
    assert [p[0][:10] for p in periods(rule)] == ["2026-01-31", "2026-02-28"]


def test_inactive_rules_and_coupons_issue_nothing(make_rule, member, coupon):
    make_rule(issuing_frequency="P1M", active=False)
    assert issue("2026-03-01T00:00:00Z").issued == 0
    MembershipCreditRule.objects.update(active=True)
    credit_services.coupon_update(coupon=coupon, actor=SYSTEM, active=False)
    assert issue("2026-03-01T00:00:00Z").issued == 0


def test_dry_run_counts_and_writes_nothing(make_rule, member):
    make_rule(issuing_frequency="P1M")
    before = snapshot()
    summary = issue("2026-03-01T00:00:00Z", dry_run=True)
    assert summary.issued == 2 and summary.dry_run
    assert snapshot() == before


def test_command(make_rule, member, account):
    rule = make_rule(issuing_frequency="P1M")
    out = io.StringIO()
    call_command("issue_membership_credits", "--account", account.pk, "--as-of", "2026-02-01T00:00:00Z", stdout=out)
    assert out.getvalue().strip() == "1 rules, 1 memberships, issued 1 credits"
    assert len(periods(rule)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_issue_each_credit_once(make_rule, account, membership_type, make_customer):
    rule = make_rule(issuing_frequency="P1M", quantity=2)
    for i in range(200):
        customer = make_customer(account, email=f"m{i}@example.com")
        customer_services.membership_create(
            customer=customer, membership_type_id=membership_type.pk, started_at=SIGNUP, actor=SYSTEM
        )

    def run(index: int) -> int:
        return issue("2026-04-01T00:00:00Z", batch_size=50).issued

    results = run_simultaneously(2, run)

    issued = sum(count * times for count, times in results.items())
    assert issued == 200 * 3 * 2  # Jan, Feb, Mar x quantity 2, split between the two runs
    assert CustomerCredit.objects.filter(rule=rule).count() == 1200
    assert CreditEvent.objects.filter(action="issued").count() == 1200
