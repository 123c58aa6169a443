from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from customers.models import Account

from .models import DiscountRef, DiscountRule, UsageRef

STATES = ("active", "inactive", "deleted", "all")


def rules_of(*, account: Account, state: str | None = None) -> QuerySet[DiscountRule]:
    rules = DiscountRule.objects.filter(account=account)
    if state == "active":
        return rules.filter(deleted_at__isnull=True, active=True)
    if state == "inactive":
        return rules.filter(deleted_at__isnull=True, active=False)
    if state == "deleted":
        return rules.filter(deleted_at__isnull=False)
    if state == "all":
        return rules
    return rules.filter(deleted_at__isnull=True)


def refs_of(*, rule: DiscountRule) -> QuerySet[DiscountRef]:
    """A rule's discount refs with their entries in the order they were recorded."""
    return DiscountRef.objects.filter(rule=rule).prefetch_related(
        Prefetch("entries", queryset=UsageRef.objects.order_by("created_at", "id"))
    )


def given_refs_of(*, rule: DiscountRule) -> QuerySet[DiscountRef]:
    return DiscountRef.objects.filter(rule=rule, given=True)
