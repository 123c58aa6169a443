"""Every write of the discounts family: rules, giving rules to customers, and receipts (usage refs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.kernel.actors import Actor
from config.kernel.exceptions import Conflict, InvalidInput
from customers.models import Account, Customer

from .models import DiscountRef, DiscountRule, UsageRef

RULE_FIELDS = (
    "name",
    "description",
    "active",
    "private",
    "purchase_from",
    "purchase_to",
    "reward_type",
    "reward_value",
    "requirement_stamp",
    "requirement_gross_amount",
    "limitation_repeat_usage",
    "limitation_reward_usage",
    "metadata",
)
PERCENT_TYPES = {DiscountRule.RewardType.PERCENT, DiscountRule.RewardType.ITEM_PERCENT}


def _rule_check(rule: DiscountRule) -> None:
    errors: dict[str, list[str]] = {}
    if rule.reward_type in PERCENT_TYPES and not 1 <= rule.reward_value <= 100:
        errors["reward.value"] = ["A percent reward is between 1 and 100."]
    elif rule.reward_value < 0:
        errors["reward.value"] = ["Must be at least 0."]
    if rule.purchase_to is not None and rule.purchase_to <= rule.purchase_from:
        errors["purchase_to"] = ["Must be after purchase_from."]
    if errors:
        raise InvalidInput(errors)


@transaction.atomic
def discount_rule_create(*, account: Account, actor: Actor, **values) -> DiscountRule:
    values.setdefault("purchase_from", timezone.now())
    rule = DiscountRule(
        account=account,
        created_by=actor.label,
        updated_by=actor.label,
        **{key: values[key] for key in RULE_FIELDS if key in values},
    )
    _rule_check(rule)
    rule.save(force_insert=True)
    return rule


@transaction.atomic
def discount_rule_update(*, rule: DiscountRule, actor: Actor, **values) -> DiscountRule:
    """A full update (PUT). `reward` and `purchase_from` cannot change; `purchase_to` only moves later."""
    rule = DiscountRule.objects.select_for_update().get(pk=rule.pk)
    errors: dict[str, list[str]] = {}
    if rule.deleted_at is not None:
        raise Conflict("The discount rule is deleted.", code="discount_deleted")
    for field, name in (
        ("reward_type", "reward.type"),
        ("reward_value", "reward.value"),
        ("purchase_from", "purchase_from"),
    ):
        if field in values and values[field] != getattr(rule, field):
            errors[name] = ["Cannot change after the rule was created."]
    if "purchase_to" in values:
        new, old = values["purchase_to"], rule.purchase_to
        # Open-ended (None) is the latest of all; a date only moves later.
        if new is not None and (old is None or new < old):
            errors["purchase_to"] = ["Can only move later."]
    if errors:
        raise InvalidInput(errors)
    for key in RULE_FIELDS:
        if key in values and key not in ("reward_type", "reward_value", "purchase_from"):
            setattr(rule, key, values[key])
    rule.updated_by = actor.label
    _rule_check(rule)
    rule.save()
    return rule


@transaction.atomic
def discount_rule_delete(*, rule: DiscountRule, actor: Actor) -> DiscountRule:
    """Soft delete: history is kept, no new usage is accepted."""
    rule = DiscountRule.objects.select_for_update().get(pk=rule.pk)
    if rule.deleted_at is None:
        rule.deleted_at = timezone.now()
        rule.deleted_by = actor.label
        rule.updated_by = actor.label
        rule.save()
    return rule


def _ref_for(rule: DiscountRule, customer_id, *, actor: Actor, given: bool) -> DiscountRef:
    """The customer's discount ref of this rule, created if missing (a concurrent creator wins)."""
    ref = DiscountRef.objects.filter(rule=rule, customer_id=customer_id).first()
    if ref is not None:
        return ref
    try:
        with transaction.atomic():
            return DiscountRef.objects.create(
                account_id=rule.account_id, rule=rule, customer_id=customer_id, given=given, created_by=actor.label
            )
    except IntegrityError:
        return DiscountRef.objects.get(rule=rule, customer_id=customer_id)


@transaction.atomic
def discount_rule_give(*, rule: DiscountRule, customer_ids: list, actor: Actor) -> list[DiscountRef]:
    """Give a rule to customers; giving it twice changes nothing. Unknown customers: nothing is given."""
    wanted = list(dict.fromkeys(customer_ids))
    known = set(Customer.objects.filter(account_id=rule.account_id, pk__in=wanted).values_list("pk", flat=True))
    unknown = [str(c) for c in wanted if c not in known]
    if unknown:
        raise InvalidInput.single("customers", f"Unknown customers: {', '.join(unknown)}.", code="unknown_customers")
    refs = []
    for customer_id in wanted:
        ref = _ref_for(rule, customer_id, actor=actor, given=True)
        if not ref.given:
            DiscountRef.objects.filter(pk=ref.pk).update(given=True)
            ref.given = True
        refs.append(ref)
    return refs


# --- receipts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    customer_id: object
    ref: str
    ref_type: str
    usage: int = 1
    stamp: int = 0
    amount: int = 0
    purchase_at: datetime | None = None


def statistics(ref: DiscountRef, rule: DiscountRule) -> dict:
    required = rule.requirement_stamp
    return {
        "stamp": ref.stamp,
        "used": ref.used,
        "usage": ref.usage,
        "amount": ref.amount,
        "debit_balance": rule.reward_value - ref.amount if rule.reward_type == DiscountRule.RewardType.DEBIT else 0,
        "current_stamp": ref.stamp - required * ref.usage if required else ref.stamp,
    }


@transaction.atomic
def discount_usage_record(*, rule: DiscountRule, receipt: Receipt, actor: Actor) -> tuple[DiscountRef, bool]:
    """Record a receipt against the customer's discount ref. Returns (ref, created): created is False for
    a retry that changed nothing. The checks run in the spec's order; any failure changes nothing (the
    transaction, including a ref created for a first usage, is rolled back)."""
    purchase_at = receipt.purchase_at or timezone.now()
    customer = Customer.objects.filter(account_id=rule.account_id, pk=receipt.customer_id).first()
    if customer is None:
        raise InvalidInput.single("customer_id", "Unknown customer.", code="unknown_customer")
    if receipt.ref_type == UsageRef.RefType.REMOVE:
        return _receipt_remove(rule, customer, receipt, actor)
    # 1. the rule takes purchases now
    if (
        not rule.active
        or rule.deleted_at is not None
        or purchase_at < rule.purchase_from
        or (rule.purchase_to is not None and purchase_at >= rule.purchase_to)
    ):
        raise Conflict("The discount is not available for this purchase.", code="discount_not_available")
    # 2. a private rule was given to the customer
    if rule.private:
        ref = DiscountRef.objects.select_for_update().filter(rule=rule, customer=customer, given=True).first()
        if ref is None:
            raise Conflict("The customer is not eligible for this discount.", code="customer_not_eligible")
    else:
        ref = _ref_for(rule, customer.pk, actor=actor, given=False)
        ref = DiscountRef.objects.select_for_update().get(pk=ref.pk)
    # 3. the same ref again: a retry, or a conflict
    earlier = ref.entries.filter(ref=receipt.ref, ref_type=UsageRef.RefType.ADD).first()
    if earlier is not None:
        if (earlier.usage, earlier.stamp, earlier.amount) == (receipt.usage, receipt.stamp, receipt.amount):
            return ref, False
        raise Conflict(f"Receipt {receipt.ref} was recorded with other values.", code="ref_conflict")
    # 4. most rewards in one purchase
    if rule.limitation_reward_usage is not None and receipt.usage > rule.limitation_reward_usage:
        raise InvalidInput.single(
            "usage", f"At most {rule.limitation_reward_usage} rewards in one purchase.", code="reward_usage_exceeded"
        )
    stats = statistics(ref, rule)
    # 5. purchases that may use the discount
    if receipt.usage > 0 and rule.limitation_repeat_usage is not None and ref.used + 1 > rule.limitation_repeat_usage:
        raise Conflict("The customer has used this discount as often as allowed.", code="usage_limit_reached")
    # 6. a debit balance is spent down
    if rule.reward_type == DiscountRule.RewardType.DEBIT and receipt.amount > stats["debit_balance"]:
        raise Conflict("The amount is more than the debit balance.", code="insufficient_debit_balance")
    # 7. a stamp card needs its stamps
    if rule.requirement_stamp and stats["current_stamp"] + receipt.stamp - rule.requirement_stamp * receipt.usage < 0:
        raise Conflict("Not enough stamps for the reward.", code="not_enough_stamps")
    _write(ref, receipt, purchase_at, actor, sign=1, counts_as_use=receipt.usage > 0)
    return ref, True


def _receipt_remove(rule: DiscountRule, customer: Customer, receipt: Receipt, actor: Actor):
    ref = DiscountRef.objects.select_for_update().filter(rule=rule, customer=customer).first()
    added = ref.entries.filter(ref=receipt.ref, ref_type=UsageRef.RefType.ADD).first() if ref else None
    if added is None:
        raise Conflict(f"No receipt {receipt.ref} was added.", code="ref_not_found")
    if ref.entries.filter(ref=receipt.ref, ref_type=UsageRef.RefType.REMOVE).exists():
        return ref, False
    undo = Receipt(
        customer_id=customer.pk,
        ref=receipt.ref,
        ref_type=UsageRef.RefType.REMOVE,
        usage=added.usage,
        stamp=added.stamp,
        amount=added.amount,
    )
    _write(ref, undo, receipt.purchase_at or timezone.now(), actor, sign=-1, counts_as_use=added.usage > 0)
    return ref, True


def _write(ref: DiscountRef, receipt: Receipt, purchase_at, actor: Actor, *, sign: int, counts_as_use: bool) -> None:
    UsageRef.objects.create(
        discount_ref=ref,
        ref=receipt.ref,
        ref_type=receipt.ref_type,
        usage=sign * receipt.usage,
        stamp=sign * receipt.stamp,
        amount=sign * receipt.amount,
        purchase_at=purchase_at,
        created_by=actor.label,
        created_by_user_id=actor.user_id,
        created_by_client_id=actor.api_client_id,
    )
    ref.stamp += sign * receipt.stamp
    ref.usage += sign * receipt.usage
    ref.amount += sign * receipt.amount
    ref.used += sign if counts_as_use else 0
    ref.save(update_fields=["stamp", "usage", "amount", "used", "updated_at"])
