from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Account, Customer

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


def credit_of(*, account: Account, customer_id, credit_id) -> CustomerCredit | None:
    return (
        CustomerCredit.objects.select_related("coupon")
        .filter(account=account, customer_id=customer_id, pk=credit_id)
        .first()
    )


def uses_of(*, credit: CustomerCredit) -> QuerySet[CreditUse]:
    return credit.use_records.order_by("used_at", "id")


def coupons_of(*, account: Account) -> QuerySet[Coupon]:
    return Coupon.objects.filter(account=account).order_by("-created_at", "-id")


def rules_of(*, account: Account) -> QuerySet[MembershipCreditRule]:
    return MembershipCreditRule.objects.filter(account=account).order_by("-created_at", "-id")


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
        "coupon__benefit_key", "revoked_at", "multi_use", "max_uses", "uses", "expiry_date"
    ):
        entry = summary.setdefault(credit.coupon.benefit_key, {"valid": False, "uses_left": 0})
        if credit.status_at(now) == CustomerCredit.Status.ACTIVE:
            entry["valid"] = True
            limit = credit.use_limit
            entry["uses_left"] = (
                None if limit is None or entry["uses_left"] is None else entry["uses_left"] + limit - credit.uses
            )
    ordered = keys if keys is not None else sorted(summary)
    return [{"key": key, **summary.get(key, {"valid": False, "uses_left": 0})} for key in ordered]
