"""Every read of the discounts family. Views reach the database only through these."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from config.kernel.selectors import found
from config.kernel.values import uuid_or_none
from customers.models import Account, Customer
from customers.selectors import customer_by_external_id

from .errors import DiscountError
from .models import DiscountClaim, DiscountRef, DiscountRule, UsageRef

# Ours first, then the vendor's: scheduled (starts later), completed (ended), available (takes purchases now).
STATES = ("active", "inactive", "deleted", "all", "scheduled", "completed", "available")


def rules_of(*, account: Account, state: str | None = None) -> QuerySet[DiscountRule]:
    rules = DiscountRule.objects.filter(account=account)
    if state == "all":
        return rules
    if state == "deleted":
        return rules.filter(deleted_at__isnull=False)
    rules = rules.filter(deleted_at__isnull=True)
    now = timezone.now()
    if state == "active":
        return rules.filter(active=True)
    if state == "inactive":
        return rules.filter(active=False)
    if state == "scheduled":
        return rules.filter(purchase_from__gt=now)
    if state == "completed":
        return rules.filter(purchase_to__lte=now)
    if state == "available":
        return rules.filter(Q(purchase_to__isnull=True) | Q(purchase_to__gt=now), active=True, purchase_from__lte=now)
    return rules


def discount_rule_get(*, account: Account, id) -> DiscountRule:
    """The account's rule (deleted ones too)."""
    return found(
        DiscountRule.objects.filter(account=account),
        pk=id,
        code=DiscountError.RULE_NOT_FOUND,
        message="Discount rule not found.",
    )


def discount_rule_lock(*, rule: DiscountRule) -> DiscountRule:
    return DiscountRule.objects.select_for_update().get(pk=rule.pk)


def discount_rules_by_id(*, account: Account, ids: list[str]) -> dict[str, DiscountRule]:
    pks = [pk for pk in map(uuid_or_none, ids) if pk is not None]
    return {str(rule.pk): rule for rule in DiscountRule.objects.filter(account=account, pk__in=pks)}


def refs_of(*, rule: DiscountRule) -> QuerySet[DiscountRef]:
    """A rule's discount refs with their entries in the order they were recorded."""
    return (
        DiscountRef.objects.filter(rule=rule)
        .select_related("customer")
        .prefetch_related(Prefetch("entries", queryset=UsageRef.objects.order_by("created_at", "id")))
    )


def discount_ref_usage_get(*, rule: DiscountRule, pk) -> DiscountRef:
    ref = refs_of(rule=rule).get(pk=pk)
    ref.rule = rule
    return ref


def given_refs_of(*, rule: DiscountRule, state: str | None = None) -> QuerySet[DiscountRef]:
    """The customers a rule was given to. A given is never taken back (yet): `deleted` lists none."""
    refs = DiscountRef.objects.filter(rule=rule, given=True).select_related("customer")
    return refs.none() if state == "deleted" else refs


def customer_rules_of(*, account: Account, customer_id: str, state: str | None = None) -> QuerySet[DiscountRule]:
    """The rules a customer holds (given to them, or used by them), named by the client's id. A customer
    id never seen holds none (a read creates nothing)."""
    customer = customer_by_external_id(account=account, external_id=customer_id)
    if customer is None:
        return DiscountRule.objects.none()
    held = DiscountRef.objects.filter(customer=customer).values("rule_id")
    return rules_of(account=account, state=state).filter(pk__in=held)


def claims_of(*, account: Account) -> QuerySet[DiscountClaim]:
    return DiscountClaim.objects.filter(account=account)


def discount_claim_by_ref(*, account: Account, ref: str) -> DiscountClaim | None:
    return DiscountClaim.objects.filter(account=account, ref=ref).first()


def customer_key(customer: Customer) -> str:
    """How the family names a customer: the client's own id when it has one, else ours."""
    return customer.external_ref or str(customer.pk)
