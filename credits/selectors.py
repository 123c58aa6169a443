from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone

from config.kernel.selectors import found
from customers.models import Account, Customer

from .errors import CreditError
from .models import Coupon, CreditUse, CustomerCredit, MembershipCreditRule

STATUS_INCLUDE_FLAGS = ("redeemed", "expired", "revoked")


def credits_of(*, customer: Customer) -> QuerySet[CustomerCredit]:
    """A customer's credits, newest first, with what the API shows of each."""
    return CustomerCredit.objects.filter(customer=customer).select_related("coupon").order_by("-created_at", "-id")


def credit_list_filter(
    queryset: QuerySet[CustomerCredit],
    *,
    redeemed: bool | None = None,
    expired: bool | None = None,
    revoked: bool | None = None,
    multi_use: bool | None = None,
) -> QuerySet[CustomerCredit]:
    """Active credits always; redeemed, expired and revoked ones only when their flag is true."""
    flags = {"redeemed": redeemed, "expired": expired, "revoked": revoked}
    statuses = {"active"} | {name for name, wanted in flags.items() if wanted}
    if statuses != {"active", *STATUS_INCLUDE_FLAGS}:
        queryset = queryset.with_status().filter(computed_status__in=sorted(statuses))
    if multi_use is not None:
        queryset = queryset.filter(multi_use=multi_use)
    return queryset


def credit_get(*, account: Account, id, customer_id=None) -> CustomerCredit:
    """A credit of `account` (and of the customer `customer_id`, when given: a path names both)."""
    queryset = CustomerCredit.objects.select_related("coupon").filter(account=account)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    return found(queryset, pk=id, code=CreditError.CREDIT_NOT_FOUND, message="Credit not found.")


def uses_of(*, credit: CustomerCredit) -> QuerySet[CreditUse]:
    return credit.use_records.order_by("used_at", "id")


def credit_use_get(*, credit: CustomerCredit, id) -> CreditUse:
    return found(credit.use_records.all(), pk=id, code=CreditError.CREDIT_USE_NOT_FOUND, message="Use not found.")


def coupons_of(*, account: Account) -> QuerySet[Coupon]:
    return Coupon.objects.filter(account=account).order_by("-created_at", "-id")


def coupon_get(*, account: Account, id) -> Coupon:
    return found(
        Coupon.objects.filter(account=account), pk=id, code=CreditError.COUPON_NOT_FOUND, message="Coupon not found."
    )


def rules_of(*, account: Account) -> QuerySet[MembershipCreditRule]:
    return MembershipCreditRule.objects.filter(account=account).order_by("-created_at", "-id")


def membership_credit_rule_get(*, account: Account, id) -> MembershipCreditRule:
    return found(
        MembershipCreditRule.objects.filter(account=account),
        pk=id,
        code=CreditError.RULE_NOT_FOUND,
        message="Membership credit rule not found.",
    )


def benefits_of(*, customer: Customer, keys: list[str] | None = None) -> list[dict]:
    """The customer's benefits: `[{"key", "valid", "uses_left"}]`. With `keys`, exactly those in that
    order (duplicates dropped, unknown keys not valid); without, every key the customer holds any credit
    for, sorted. `uses_left` is None when some usable credit has no use limit."""
    now = timezone.now()
    credits = CustomerCredit.objects.filter(customer=customer, coupon__benefit_key__isnull=False)
    if keys is not None:
        keys = list(dict.fromkeys(keys))
        credits = credits.filter(coupon__benefit_key__in=keys)
    summary: dict[str, dict] = {}
    for credit in credits.select_related("coupon").only(
        "coupon__benefit_key", "revoked_at", "multi_use", "max_uses", "uses", "remaining_value", "expiry_date"
    ):
        entry = summary.setdefault(credit.coupon.benefit_key, {"valid": False, "uses_left": 0})
        if credit.status_at(now) == CustomerCredit.Status.ACTIVE:
            entry["valid"] = True
            left = credit.uses_left
            entry["uses_left"] = None if left is None or entry["uses_left"] is None else entry["uses_left"] + left
    ordered = keys if keys is not None else sorted(summary)
    return [{"key": key, **summary.get(key, {"valid": False, "uses_left": 0})} for key in ordered]


@dataclass
class HoldingSummary:
    """What a customer holds now, every kind of credit counted: `remaining` is the revenue still to be
    recognised on the active credits (what they are worth to the business, in the account's currency);
    `vouchers` the money left to spend on monetary credits, per currency; `services` each offering with
    its uses left (None: unlimited); `next_expiring` the active credit that expires first."""

    active: list[CustomerCredit]
    closed: list[CustomerCredit]
    remaining: int = 0
    vouchers: dict[str, int] = field(default_factory=dict)
    services: dict[str, int | None] = field(default_factory=dict)
    next_expiring: CustomerCredit | None = None


def holdings_of(*, customer: Customer, now: datetime | None = None) -> HoldingSummary:
    now = now or timezone.now()
    account = customer.account
    credits = list(
        CustomerCredit.objects.filter(customer=customer).select_related("coupon").order_by("expiry_date", "-created_at")
    )
    summary = HoldingSummary(active=[], closed=[])
    for credit in credits:
        credit.account = account
        (summary.active if credit.status_at(now) == CustomerCredit.Status.ACTIVE else summary.closed).append(credit)
    for credit in summary.active:
        summary.remaining += credit.revenue - credit.revenue_recognised
        left = credit.uses_left
        coupon = credit.coupon
        if credit.monetary:
            currency = coupon.currency or account.currency
            summary.vouchers[currency] = summary.vouchers.get(currency, 0) + credit.remaining_value
        else:
            name = coupon.offering or coupon.name
            known = summary.services.get(name, 0)
            summary.services[name] = None if left is None or known is None else known + left
        if credit.expiry_date and (
            summary.next_expiring is None or credit.expiry_date < summary.next_expiring.expiry_date
        ):
            summary.next_expiring = credit
    return summary


def recent_bulk_batches(*, days: int = 90, limit: int = 20) -> list[dict]:
    """The bulk grants of the last `days` days, newest first: batch key, coupon, account, who ran it, when
    it started and how many credits it granted (from the credits themselves, so nothing else to keep)."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        CustomerCredit.objects.filter(source=CustomerCredit.Source.BULK, created_at__gte=since)
        .values("issued_by", "coupon__name", "account_id")
        .annotate(credits=Count("id"), started=Min("created_at"), by=Max("issued_by_user__username"))
        .order_by("-started")[:limit]
    )
    return [{**row, "batch_key": row["issued_by"].removeprefix("bulk:")} for row in rows]
