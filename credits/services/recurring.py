"""Recurring grants: membership credit rules issue a coupon's credits to the members of a type.

For a rule and a membership, periods start at the membership's `started_at` and repeat every
`issuing_frequency` (`billing_cycle` and `P1M` monthly, `P3M`, `P6M`, `P1Y`; `P0D` once, at signup).
A period is due when its start is <= as_of, the membership was active at that start, and the start is
not before the rule was created. With `issue_on_signup` the first period (at `started_at`) is issued;
without it the first issue is at the second period's start. Each due period gives `quantity` credits;
with `roll_over` false they expire at the end of their period, with `roll_over` true they follow the
coupon's `valid_for` from the period start (or never expire). Missed periods are caught up, and each
(rule, membership, period, n-th credit) is issued exactly once by a unique constraint, however often or
concurrently this runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import isodate
from django.db.models import Max, Q
from django.utils import timezone

from config.kernel.actors import Actor
from customers.models import Membership

from .. import durations
from ..models import CustomerCredit, MembershipCreditRule
from . import bulk

MONTHS = {"billing_cycle": 1, "P1M": 1, "P3M": 3, "P6M": 6, "P1Y": 12, "P0D": None}


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole months, counted from `moment` itself (31 Jan + 1 month = 28/29 Feb; + 2 = 31 Mar)."""
    return moment + isodate.Duration(months=months)


@dataclass(frozen=True)
class MembershipSpan:
    id: object
    customer_id: object
    started_at: datetime
    ends_at: datetime | None
    cancelled_at: datetime | None

    def active_at(self, moment: datetime) -> bool:
        if moment < self.started_at:
            return False
        if self.ends_at is not None and moment >= self.ends_at:
            return False
        return self.cancelled_at is None or moment < self.cancelled_at


def due_periods(
    rule: MembershipCreditRule, membership: MembershipSpan, *, as_of: datetime, after: datetime | None = None
) -> Iterator[tuple[datetime, datetime | None]]:
    """(period start, period end) of every due period, oldest first, starting after `after`."""
    step = MONTHS[rule.issuing_frequency]
    if step is None:  # P0D: once, at signup
        start = membership.started_at
        if rule.created_at <= start <= as_of and (after is None or start > after) and membership.active_at(start):
            yield start, None
        return
    first = 0 if rule.issue_on_signup else 1
    lower = max(rule.created_at, after) if after is not None else rule.created_at
    # Jump close to the first candidate instead of walking every period since signup.
    elapsed = (lower.year - membership.started_at.year) * 12 + lower.month - membership.started_at.month
    k = max(first, elapsed // step - 1)
    while True:
        start = add_months(membership.started_at, k * step)
        if start > as_of:
            return
        if membership.ends_at is not None and start >= membership.ends_at:
            return
        if start >= rule.created_at and (after is None or start > after) and membership.active_at(start):
            yield start, add_months(membership.started_at, (k + 1) * step)
        k += 1


@dataclass
class IssueSummary:
    rules: int = 0
    memberships: int = 0
    issued: int = 0
    dry_run: bool = False

    def line(self) -> str:
        verb = "would issue" if self.dry_run else "issued"
        return f"{self.rules} rules, {self.memberships} memberships, {verb} {self.issued} credits"


def membership_credits_issue(
    *,
    account_id: str | None = None,
    as_of: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> IssueSummary:
    as_of = as_of or timezone.now()
    now = timezone.now()
    summary = IssueSummary(dry_run=dry_run)
    rules = MembershipCreditRule.objects.filter(active=True, coupon__active=True, created_at__lte=as_of)
    if account_id:
        rules = rules.filter(account_id=account_id)
    for rule in rules.select_related("coupon").order_by("created_at", "id"):
        summary.rules += 1
        coupon = rule.coupon
        batch = bulk.Batch(
            coupon=coupon, source=CustomerCredit.Source.MEMBERSHIP, actor=Actor.rule(rule.pk), rule_id=rule.pk
        )
        memberships = (
            Membership.objects.filter(membership_type_id=rule.membership_type_id, started_at__lte=as_of)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=rule.created_at))
            .order_by("id")
            .values_list("id", "customer_id", "started_at", "ends_at", "cancelled_at")
        )
        chunk: list[MembershipSpan] = []
        for values in memberships.iterator(chunk_size=batch_size):
            chunk.append(MembershipSpan(*values))
            if len(chunk) >= batch_size:
                summary.issued += _issue_chunk(rule, batch, chunk, as_of=as_of, now=now, dry_run=dry_run)
                summary.memberships += len(chunk)
                if on_progress:
                    on_progress(len(chunk))
                chunk = []
        if chunk:
            summary.issued += _issue_chunk(rule, batch, chunk, as_of=as_of, now=now, dry_run=dry_run)
            summary.memberships += len(chunk)
            if on_progress:
                on_progress(len(chunk))
    return summary


def _expiry(rule: MembershipCreditRule, start: datetime, end: datetime | None) -> datetime | None:
    if not rule.roll_over and end is not None:
        return end
    return durations.add(start, rule.coupon.valid_for) if rule.coupon.valid_for else None


def _issue_chunk(rule, batch, chunk: list[MembershipSpan], *, as_of, now, dry_run: bool) -> int:
    last_issued = dict(
        CustomerCredit.objects.filter(rule=rule, membership_id__in=[m.id for m in chunk])
        .values("membership_id")
        .annotate(last=Max("period_start"))
        .values_list("membership_id", "last")
    )
    wanted = [
        bulk.Wanted(
            customer_id=membership.customer_id,
            membership_id=membership.id,
            revenue=rule.coupon.default_revenue,
            expiry_date=_expiry(rule, start, end),
            period_start=start,
            period_nth=nth,
        )
        for membership in chunk
        for start, end in due_periods(rule, membership, as_of=as_of, after=last_issued.get(membership.id))
        for nth in range(1, rule.quantity + 1)
    ]
    if dry_run:
        existing = bulk.existing_keys(batch, wanted) if wanted else {}
        return sum(1 for w in wanted if batch.key_of(w) not in existing)
    return len(bulk.insert(batch, wanted, now=now))
