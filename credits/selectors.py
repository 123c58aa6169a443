from __future__ import annotations

from django.db.models import QuerySet

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
