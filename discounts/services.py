"""Every write of the discounts family: rules, giving rules to customers, receipts (usage refs) and claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.kernel.actors import Actor
from config.kernel.exceptions import Conflict, InvalidInput
from config.kernel.updates import model_save, model_set
from config.kernel.values import INT64_MAX, INT64_MIN
from customers.models import Account, Customer
from customers.services import customer_get_or_create_by_external_id
from events import catalogue
from events.services import event_record, row

from . import selectors
from .errors import DiscountError
from .models import DiscountClaim, DiscountRef, DiscountRule, UsageRef

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
    "receipt_text",
    "campaign_id",
    "links",
    "metadata",
)
IMMUTABLE_FIELDS = {"reward_type": "reward.type", "reward_value": "reward.value", "purchase_from": "purchase_from"}
PERCENT_TYPES = {DiscountRule.RewardType.PERCENT, DiscountRule.RewardType.ITEM_PERCENT}


def _rule_check(rule: DiscountRule) -> None:
    errors: dict[str, list[str]] = {}
    value = Decimal(rule.reward_value)
    if rule.reward_type in PERCENT_TYPES:
        if not 1 <= value <= 100:
            errors["reward.value"] = ["A percent reward is between 1 and 100."]
    elif value != value.to_integral_value():
        errors["reward.value"] = ["Only a percent reward may have decimals."]
    elif not 0 <= value <= INT64_MAX:
        errors["reward.value"] = [f"Must be between 0 and {INT64_MAX}."]
    if rule.purchase_to is not None and rule.purchase_to <= rule.purchase_from:
        errors["requirement.purchase_to"] = ["Must be after purchase_from."]
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
    rule = selectors.discount_rule_lock(rule=rule)
    if rule.deleted_at is not None:
        raise Conflict("The discount rule is deleted.", code=DiscountError.DISCOUNT_DELETED)
    errors: dict[str, list[str]] = {}
    for field, name in IMMUTABLE_FIELDS.items():
        if field in values and values[field] != getattr(rule, field):
            errors[name] = ["Cannot change after the rule was created."]
    if "purchase_to" in values:
        new, old = values["purchase_to"], rule.purchase_to
        # Open-ended (None) is the latest of all; a date only moves later.
        if new is not None and (old is None or new < old):
            errors["requirement.purchase_to"] = ["Can only move later."]
    if errors:
        raise InvalidInput(errors)
    changed = model_set(instance=rule, fields=[f for f in RULE_FIELDS if f not in IMMUTABLE_FIELDS], data=values)
    _rule_check(rule)
    return model_save(instance=rule, changed=changed, actor=actor)


@transaction.atomic
def discount_rule_delete(*, rule: DiscountRule, actor: Actor) -> DiscountRule:
    """Soft delete: history is kept, no new usage is accepted."""
    rule = selectors.discount_rule_lock(rule=rule)
    if rule.deleted_at is None:
        changed = model_set(
            instance=rule,
            fields=["deleted_at", "deleted_by"],
            data={"deleted_at": timezone.now(), "deleted_by": actor.label},
        )
        model_save(instance=rule, changed=changed, actor=actor)
    return rule


def _customer(account: Account, customer_id: str, actor: Actor) -> Customer:
    return customer_get_or_create_by_external_id(account=account, external_id=customer_id, actor=actor)


def _ref_for(rule: DiscountRule, customer: Customer, *, actor: Actor, given: bool) -> DiscountRef:
    """The customer's discount ref of this rule, created if missing (a concurrent creator wins)."""
    ref = DiscountRef.objects.filter(rule=rule, customer=customer).first()
    if ref is not None:
        return ref
    try:
        with transaction.atomic():
            return DiscountRef.objects.create(
                account_id=rule.account_id, rule=rule, customer=customer, given=given, created_by=actor.label
            )
    except IntegrityError:
        return DiscountRef.objects.get(rule=rule, customer=customer)


@transaction.atomic
def discount_rule_give(*, rule: DiscountRule, customer_ids: list[str], actor: Actor) -> list[DiscountRef]:
    """Give a rule to customers, named by the client's opaque ids (an id never seen before creates the
    customer); giving it twice changes nothing."""
    refs = []
    now = timezone.now()
    for customer_id in dict.fromkeys(customer_ids):
        customer = _customer(rule.account, customer_id, actor)
        ref = _ref_for(rule, customer, actor=actor, given=True)
        if not ref.given:
            DiscountRef.objects.filter(pk=ref.pk).update(given=True)
            ref.given = True
        elif ref.created_at < now:
            refs.append(ref)
            continue  # given before: nothing changed
        _ref_event(ref, rule, customer, catalogue.DISCOUNT_RULE_GIVEN)
        refs.append(ref)
    return refs


# --- receipts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    customer_id: str
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
        "debit_balance": int(rule.reward_value) - ref.amount
        if rule.reward_type == DiscountRule.RewardType.DEBIT
        else 0,
        "current_stamp": ref.stamp - required * ref.usage if required else ref.stamp,
    }


@transaction.atomic
def discount_usage_record(*, rule: DiscountRule, receipt: Receipt, actor: Actor) -> tuple[DiscountRef, bool]:
    """Record a receipt against the customer's discount ref. Returns (ref, created): created is False for
    a retry that changed nothing. The checks run in the spec's order; any failure changes nothing (the
    transaction, including a ref or customer created for a first usage, is rolled back)."""
    customer = _customer(rule.account, receipt.customer_id, actor)
    return _record(rule, customer, receipt, actor, claim=None)


def _record(
    rule: DiscountRule, customer: Customer, receipt: Receipt, actor: Actor, *, claim
) -> tuple[DiscountRef, bool]:
    purchase_at = receipt.purchase_at or timezone.now()
    if receipt.ref_type == UsageRef.RefType.REMOVE:
        return _receipt_remove(rule, customer, receipt, actor)
    # 1. the rule takes purchases now
    if (
        not rule.active
        or rule.deleted_at is not None
        or purchase_at < rule.purchase_from
        or (rule.purchase_to is not None and purchase_at >= rule.purchase_to)
    ):
        raise Conflict("The discount is not available for this purchase.", code=DiscountError.DISCOUNT_NOT_AVAILABLE)
    # 2. a private rule was given to the customer
    if rule.private:
        ref = DiscountRef.objects.select_for_update().filter(rule=rule, customer=customer, given=True).first()
        if ref is None:
            raise Conflict("The customer is not eligible for this discount.", code=DiscountError.CUSTOMER_NOT_ELIGIBLE)
    else:
        ref = _ref_for(rule, customer, actor=actor, given=False)
        ref = DiscountRef.objects.select_for_update().get(pk=ref.pk)
    # 3. the same ref again: a retry, or a conflict
    earlier = ref.entries.filter(ref=receipt.ref, ref_type=UsageRef.RefType.ADD).first()
    if earlier is not None:
        if (earlier.usage, earlier.stamp, earlier.amount) == (receipt.usage, receipt.stamp, receipt.amount):
            return ref, False
        raise Conflict(f"Receipt {receipt.ref} was recorded with other values.", code=DiscountError.REF_CONFLICT)
    # 4. most rewards in one purchase
    reward_usage = DiscountRule.limit(rule.limitation_reward_usage)
    if reward_usage is not None and receipt.usage > reward_usage:
        raise InvalidInput.single(
            "usage", f"At most {reward_usage} rewards in one purchase.", code=DiscountError.REWARD_USAGE_EXCEEDED
        )
    stats = statistics(ref, rule)
    # 5. purchases that may use the discount
    repeat_usage = DiscountRule.limit(rule.limitation_repeat_usage)
    if receipt.usage > 0 and repeat_usage is not None and ref.used + 1 > repeat_usage:
        raise Conflict(
            "The customer has used this discount as often as allowed.", code=DiscountError.USAGE_LIMIT_REACHED
        )
    # 6. a debit balance is spent down
    if rule.reward_type == DiscountRule.RewardType.DEBIT and receipt.amount > stats["debit_balance"]:
        raise Conflict("The amount is more than the debit balance.", code=DiscountError.INSUFFICIENT_DEBIT_BALANCE)
    # 7. a stamp card needs its stamps
    if rule.requirement_stamp and stats["current_stamp"] + receipt.stamp - rule.requirement_stamp * receipt.usage < 0:
        raise Conflict("Not enough stamps for the reward.", code=DiscountError.NOT_ENOUGH_STAMPS)
    used = receipt.usage > 0
    _write(ref, receipt, purchase_at, actor, sign=1, counts_as_use=used, claim=claim, rule=rule, customer=customer)
    return ref, True


def _receipt_remove(rule: DiscountRule, customer: Customer, receipt: Receipt, actor: Actor):
    ref = DiscountRef.objects.select_for_update().filter(rule=rule, customer=customer).first()
    added = ref.entries.filter(ref=receipt.ref, ref_type=UsageRef.RefType.ADD).first() if ref else None
    if added is None:
        raise Conflict(f"No receipt {receipt.ref} was added.", code=DiscountError.REF_NOT_FOUND)
    if ref.entries.filter(ref=receipt.ref, ref_type=UsageRef.RefType.REMOVE).exists():
        return ref, False
    undo = Receipt(
        customer_id=receipt.customer_id,
        ref=receipt.ref,
        ref_type=UsageRef.RefType.REMOVE,
        usage=added.usage,
        stamp=added.stamp,
        amount=added.amount,
    )
    purchase_at = receipt.purchase_at or timezone.now()
    counts_as_use = added.usage > 0
    _write(
        ref, undo, purchase_at, actor, sign=-1, counts_as_use=counts_as_use, claim=None, rule=rule, customer=customer
    )
    return ref, True


def _write(
    ref: DiscountRef,
    receipt: Receipt,
    purchase_at,
    actor: Actor,
    *,
    sign: int,
    counts_as_use: bool,
    claim,
    rule: DiscountRule,
    customer: Customer,
) -> None:
    totals = {
        "stamp": ref.stamp + sign * receipt.stamp,
        "usage": ref.usage + sign * receipt.usage,
        "amount": ref.amount + sign * receipt.amount,
    }
    # A sum the statistics cannot hold is refused, never a database error.
    too_big = [name for name, total in totals.items() if not INT64_MIN <= total <= INT64_MAX]
    if too_big:
        raise InvalidInput(
            {name: [f"The customer's total {name} would exceed {INT64_MAX}."] for name in too_big},
            code=DiscountError.TOTAL_OUT_OF_RANGE,
        )
    entry = UsageRef.objects.create(
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
        claim=claim,
    )
    ref.stamp, ref.usage, ref.amount = totals["stamp"], totals["usage"], totals["amount"]
    ref.used += sign if counts_as_use else 0
    ref.save(update_fields=["stamp", "usage", "amount", "used", "updated_at"])
    event_type = catalogue.DISCOUNT_USAGE_RECORDED if sign > 0 else catalogue.DISCOUNT_USAGE_REVERTED
    _ref_event(ref, rule, customer, event_type, entry=entry)


def _ref_event(ref: DiscountRef, rule: DiscountRule, customer: Customer, event_type: str, *, entry=None) -> None:
    """The event of a change to a discount ref, with the rows the family's answer of the ref is built from
    (webhooks.render): the ref, its entries in the order recorded, its rule, the customer's two ids (no
    more of the customer: events are kept for good), and the entry this change wrote."""
    data = {
        "discount_ref": row(ref),
        "entries": [row(e) for e in ref.entries.order_by("created_at", "id")],
        "rule": row(rule),
        "customer": {"id": str(customer.pk), "external_ref": customer.external_ref},
    }
    if entry is not None:
        data["usage"] = row(entry)
    event_record(
        account_id=ref.account_id, type=event_type, resource_type="discount_ref", resource_id=ref.pk, data=data
    )


# --- claims --------------------------------------------------------------------------------------


def _claim_body(claim: DiscountClaim) -> dict:
    return {
        "customer_id": claim.customer_key,
        "purchase_at": claim.purchase_at,
        "type": claim.type,
        "discounts": claim.discounts,
    }


@transaction.atomic
def discount_claim_create(
    *,
    account: Account,
    customer_id: str,
    purchase_at: datetime,
    discounts: list[dict],
    actor: Actor,
    ref: str | None = None,
    type: str = "",
) -> tuple[DiscountClaim, bool]:
    """Claim the rewards of one purchase: each `discounts[].refs[]` entry is a `receipt_add` (usage ref
    `ref` = the entry's id) on the customer's discount ref of rule `discounts[].id`, with the usages
    endpoint's checks, locks and limits. All or nothing. Returns (claim, created): a claim whose `ref`
    was seen before is a retry when its body is the same (created False), else a conflict."""
    discounts = [
        {"id": str(d["id"]), "refs": [{"id": r["id"], "amount": r["amount"], "usage": r["usage"]} for r in d["refs"]]}
        for d in discounts
    ]
    body = {"customer_id": customer_id, "purchase_at": purchase_at, "type": type, "discounts": discounts}
    if ref is not None:
        earlier = selectors.discount_claim_by_ref(account=account, ref=ref)
        if earlier is not None:
            return _claim_retry(earlier, body)
    rules = selectors.discount_rules_by_id(account=account, ids=[d["id"] for d in discounts])
    unknown = [d["id"] for d in discounts if d["id"] not in rules]
    if unknown:
        raise InvalidInput.single(
            "discounts", f"Unknown discounts: {', '.join(unknown)}.", code=DiscountError.UNKNOWN_DISCOUNTS
        )
    customer = _customer(account, customer_id, actor)
    try:
        with transaction.atomic():
            claim = DiscountClaim.objects.create(
                account=account,
                customer=customer,
                customer_key=customer_id,
                ref=ref,
                type=type,
                purchase_at=purchase_at,
                discounts=discounts,
                created_by=actor.label,
            )
    except IntegrityError:
        # The same ref claimed at the same moment: the first one won.
        return _claim_retry(selectors.discount_claim_by_ref(account=account, ref=ref), body)
    # Rules in a fixed order, so that two claims of one customer lock their discount refs in the same order.
    for entry in sorted(discounts, key=lambda d: d["id"]):
        rule = rules[entry["id"]]
        for line in entry["refs"]:
            receipt = Receipt(
                customer_id=customer_id,
                ref=line["id"],
                ref_type=UsageRef.RefType.ADD,
                usage=line["usage"],
                amount=line["amount"],
                purchase_at=purchase_at,
            )
            _record(rule, customer, receipt, actor, claim=claim)
    return claim, True


def _claim_retry(earlier: DiscountClaim, body: dict) -> tuple[DiscountClaim, bool]:
    if _claim_body(earlier) != body:
        raise Conflict(f"Claim {earlier.ref} was made with another body.", code=DiscountError.CLAIM_CONFLICT)
    return earlier, False
