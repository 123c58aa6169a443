"""Every write to coupons, credits, uses and rules. The admin, the API and the management commands call
these functions, so the same rules, locks and history apply whoever makes the change."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone

from config.kernel.actors import Actor
from config.kernel.exceptions import Conflict, InvalidInput, NotPossible
from config.kernel.selectors import found
from config.kernel.updates import model_save, model_set
from config.kernel.values import uuid_or_none
from customers.errors import CustomerError
from customers.models import Account, Customer, Membership, MembershipType
from events import catalogue
from events.models import EventSettings, Notice
from events.services import notice_once

from .. import durations, selectors
from ..errors import CreditError
from ..models import Coupon, CreditEvent, CreditUse, CustomerCredit, MembershipCreditRule
from ..validation import expiry_date_error
from . import redeem

# --- coupons -------------------------------------------------------------------------------------

COUPON_FIELDS = (
    "name",
    "description",
    "benefit_key",
    "kind",
    "offering",
    "value",
    "currency",
    "multi_use",
    "max_uses",
    "valid_for",
    "default_revenue",
    "active",
)


def _coupon_check(coupon: Coupon) -> None:
    errors: dict[str, list[str]] = {}
    if coupon.kind == Coupon.Kind.MONETARY:
        if coupon.value is None or coupon.value <= 0:
            errors["value"] = ["A monetary coupon needs a value greater than 0 (minor units)."]
        if not coupon.currency:
            coupon.currency = coupon.account.currency
    elif coupon.kind == Coupon.Kind.OFFERING and not coupon.offering:
        errors["offering"] = ["An offering coupon needs the offering it entitles to."]
    if coupon.max_uses is not None and not coupon.multi_use:
        errors["max_uses"] = ["max_uses is only allowed on a multi_use coupon."]
    if coupon.valid_for:
        try:
            durations.parse(coupon.valid_for)
        except ValueError:
            errors["valid_for"] = ["Must be an ISO 8601 duration such as P30D or P1M."]
    if errors:
        raise InvalidInput(errors)


@transaction.atomic
def coupon_create(*, account: Account, actor: Actor, **values) -> Coupon:
    coupon = Coupon(account=account, **{key: values[key] for key in COUPON_FIELDS if key in values})
    coupon.created_by = coupon.updated_by = actor.label
    _coupon_check(coupon)
    coupon.save(force_insert=True)
    return coupon


@transaction.atomic
def coupon_update(*, coupon: Coupon, actor: Actor, **values) -> Coupon:
    """Later edits never change issued credits: they copied what they need at issue time."""
    coupon = Coupon.objects.select_for_update().select_related("account").get(pk=coupon.pk)
    currency = coupon.currency
    changed = model_set(instance=coupon, fields=COUPON_FIELDS, data=values)
    _coupon_check(coupon)  # may default a monetary coupon's currency
    if coupon.currency != currency:
        changed.append("currency")
    return model_save(instance=coupon, changed=changed, actor=actor)


# --- credits -------------------------------------------------------------------------------------


def _event(credit: CustomerCredit, action: str, actor: Actor, *, use=None, reason: str = "", **data) -> None:
    CreditEvent.objects.create(
        credit=credit,
        action=action,
        actor=actor.label,
        user_id=actor.user_id,
        api_client_id=actor.api_client_id,
        use=use,
        reason=reason or "",
        data=data,
    )


def default_expiry(coupon: Coupon, *, now: datetime) -> datetime | None:
    return durations.add(now, coupon.valid_for) if coupon.valid_for else None


@transaction.atomic
def credit_issue(
    *,
    customer: Customer,
    actor: Actor,
    source: str,
    coupon: Coupon | None = None,
    coupon_id=None,
    membership: Membership | None = None,
    membership_id=None,
    expiry_date: datetime | None = None,
    revenue: int | None = None,
) -> CustomerCredit:
    """Issue one credit of `coupon` to `customer`. multi_use and max_uses are copied from the coupon. The API
    names the coupon and membership by id, other callers give the objects: the same checks apply, here only."""
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    if coupon is None and coupon_id is not None:
        coupon = Coupon.objects.filter(account_id=customer.account_id, pk=uuid_or_none(coupon_id)).first()
    if coupon is None or coupon.account_id != customer.account_id or not coupon.active:
        errors["coupon_id"] = ["Must be an active coupon of this account."]
    if membership is None and membership_id is not None:
        membership = Membership.objects.filter(customer=customer, pk=uuid_or_none(membership_id)).first()
        if membership is None:
            errors["membership_id"] = ["Must be a membership of this customer."]
    if membership is not None and membership.customer_id != customer.pk:
        errors["membership_id"] = ["Must be a membership of this customer."]
    expiry_error = expiry_date_error(expiry_date, now=now)
    if expiry_error:
        errors["expiry_date"] = [expiry_error]
    if revenue is not None and revenue < 0:
        errors["revenue"] = ["Must be an integer of at least 0."]
    if errors:
        raise InvalidInput(errors)
    credit = CustomerCredit.objects.create(
        account_id=customer.account_id,
        customer=customer,
        coupon=coupon,
        membership=membership,
        source=source,
        multi_use=coupon.multi_use,
        max_uses=coupon.max_uses if coupon.multi_use else None,
        expiry_date=expiry_date if expiry_date is not None else default_expiry(coupon, now=now),
        revenue=coupon.default_revenue if revenue is None else revenue,
        remaining_value=coupon.spendable_value,
        issued_by=actor.label,
        issued_by_user_id=actor.user_id,
        issued_by_client_id=actor.api_client_id,
        created_at=now,
    )
    _event(credit, CreditEvent.Action.ISSUED, actor, source=source)
    redeem.credit_event_record(credit, catalogue.CREDIT_ISSUED)
    return credit


def _locked_credit(*, account_id: str, customer_id, credit_id) -> CustomerCredit:
    return found(
        CustomerCredit.objects.select_for_update(of=("self",))
        .select_related("coupon")
        .filter(account_id=account_id, customer_id=customer_id),
        pk=credit_id,
        code=CreditError.CREDIT_NOT_FOUND,
        message="Credit not found.",
    )


def _use_revenue(credit: CustomerCredit) -> int:
    """Single-use: all of it. Limited multi-use: an even share, the remainder on the use that fills the
    limit. Unlimited: all on the first (unreversed) use. Unreversed uses always sum to `revenue` once
    the credit is fully used, however many reversals happened in between."""
    limit = credit.use_limit
    if limit is None or credit.uses + 1 >= limit:
        return credit.revenue - credit.revenue_recognised
    return credit.revenue // limit


def _spent(credit: CustomerCredit, amount: int | None) -> tuple[int, int]:
    """The amount a use of monetary `credit` spends and the revenue it recognises: in proportion to the
    value it spends of what is left, so the use that spends the rest recognises the rest and the uses sum
    exactly to `revenue`. Refused in the family's dialect (`amount`) when it is not a positive whole number
    of minor units within what is left."""
    left = credit.remaining_value
    if amount is None:
        amount = credit.default_amount()
    elif isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput.single("amount", "Must be a whole number of minor units greater than 0.")
    elif amount > left:
        raise InvalidInput.single("amount", f"Must be at most the value left on the credit ({left} minor units).")
    unrecognised = credit.revenue - credit.revenue_recognised
    return amount, unrecognised if amount == left else unrecognised * amount // left


def use_locked_credit(
    credit: CustomerCredit,
    *,
    actor: Actor,
    reference: str | None = None,
    note: str = "",
    now: datetime | None = None,
    event_type: str = catalogue.CREDIT_REDEEMED,
    amount: int | None = None,
) -> CreditUse:
    """Record one use of a credit the caller has locked (select_for_update) in its transaction. A monetary
    credit's use spends `amount` (minor units; None: see CustomerCredit.default_amount); any other credit
    takes no amount."""
    now = now or timezone.now()
    status = credit.status_at(now)
    if status != CustomerCredit.Status.ACTIVE:
        message = f"The credit is {status}; only an active credit can be used."
        raise Conflict(message, code=CreditError.CREDIT_NOT_ACTIVE)
    if credit.monetary:
        amount, revenue = _spent(credit, amount)
    elif amount is not None:
        raise InvalidInput.single("amount", "Only a monetary credit takes an amount; leave it out to use the credit.")
    else:
        revenue = _use_revenue(credit)
    return redeem.record_use(
        credit,
        revenue=revenue,
        amount=amount,
        actor=actor,
        now=now,
        reference=reference,
        note=note,
        event_type=event_type,
    )


def credit_redeem(
    *,
    account: Account,
    customer_id,
    credit_id,
    actor: Actor,
    reference: str | None = None,
    note: str = "",
    amount: int | None = None,
) -> CustomerCredit:
    """Use a credit once. The row lock makes simultaneous redeems queue, so a credit never gets more uses
    than its limit, nor a monetary credit more spent than its remaining value; a reference already
    recorded on an unreversed use answers the credit unchanged (whatever amount the retry names).
    On PostgreSQL one statement does it all (credits.services.redeem; one statement is one transaction, so it
    needs no BEGIN/COMMIT of its own) for a credit that is not monetary; when it writes nothing (a monetary
    credit among the reasons), and for every redeem naming an `amount`, the locked path below runs in its
    own transaction and answers a known reference unchanged, says why the credit is not usable, or writes
    the use."""
    now = timezone.now()
    if amount is None:
        done = redeem.try_redeem(
            account_id=account.pk,
            customer_id=customer_id,
            credit_id=credit_id,
            actor=actor,
            now=now,
            reference=reference or None,
            note=note,
        )
        if done is not None:
            return done
    return _credit_redeem_locked(
        account=account,
        customer_id=customer_id,
        credit_id=credit_id,
        actor=actor,
        reference=reference,
        note=note,
        now=now,
        amount=amount,
    )


@transaction.atomic
def _credit_redeem_locked(*, account: Account, customer_id, credit_id, actor: Actor, reference, note, now, amount):
    credit = _locked_credit(account_id=account.pk, customer_id=customer_id, credit_id=credit_id)
    if reference and credit.use_records.filter(reference=reference, reversed_at__isnull=True).exists():
        return credit
    use_locked_credit(credit, actor=actor, reference=reference or None, note=note, now=now, amount=amount)
    return credit


@transaction.atomic
def credit_revoke(
    *, account: Account, customer_id, credit_id, actor: Actor, reason: str | None = None, reference: str | None = None
) -> CustomerCredit:
    """Revoke a credit that is not fully used. `reference` (optional, e.g. the staff desk's bulk revoke
    reference) is kept in the credit's history with the reason; a revoke sent again with the reference
    its credit was revoked with answers the credit unchanged (as a redeem's reference does)."""
    credit = _locked_credit(account_id=account.pk, customer_id=customer_id, credit_id=credit_id)
    revoked_with_reference = CreditEvent.objects.filter(
        credit=credit, action=CreditEvent.Action.REVOKED, data__reference=reference
    )
    if reference and credit.revoked_at is not None and revoked_with_reference.exists():
        return credit
    if credit.revoked_at is not None:
        raise NotPossible("The credit is already revoked.", code=CreditError.CREDIT_ALREADY_REVOKED)
    if credit.fully_used:
        raise NotPossible("A redeemed credit cannot be revoked.", code=CreditError.CREDIT_REDEEMED)
    now = timezone.now()
    credit.revoked_at = now
    credit.revoke_reason = reason or None
    credit.revoked_by = actor.label
    credit.updated_at = now
    credit.save(update_fields=["revoked_at", "revoke_reason", "revoked_by", "updated_at"])
    _event(
        credit,
        CreditEvent.Action.REVOKED,
        actor,
        reason=reason or "",
        **({"reference": reference} if reference else {}),
    )
    redeem.credit_event_record(credit, catalogue.CREDIT_REVOKED)
    return credit


@transaction.atomic
def credit_use_reverse(
    *, account: Account, customer_id, credit_id, use_id, actor: Actor, reason: str = ""
) -> CustomerCredit:
    """Undo one use: the use is marked reversed (kept), `uses` goes down and its revenue (and a monetary
    credit's amount) is given back."""
    credit = _locked_credit(account_id=account.pk, customer_id=customer_id, credit_id=credit_id)
    use = selectors.credit_use_get(credit=credit, id=use_id)
    if use.reversed_at is not None:
        raise Conflict("The use is already reversed.", code=CreditError.CREDIT_USE_ALREADY_REVERSED)
    if credit.revoked_at is not None:
        raise Conflict("The uses of a revoked credit cannot be reversed.", code=CreditError.CREDIT_REVOKED)
    now = timezone.now()
    use.reversed_at = now
    use.reversed_by = actor.label
    use.save(update_fields=["reversed_at", "reversed_by"])
    credit.uses -= 1
    credit.revenue_recognised -= use.revenue
    if credit.remaining_value is not None:
        credit.remaining_value += use.amount or 0
    credit.redeemed_at = None
    credit.updated_at = now
    credit.save(update_fields=["uses", "revenue_recognised", "remaining_value", "redeemed_at", "updated_at"])
    spent = {} if use.amount is None else {"amount": use.amount}
    _event(credit, CreditEvent.Action.USE_REVERSED, actor, use=use, reason=reason, revenue=use.revenue, **spent)
    redeem.credit_event_record(credit, catalogue.CREDIT_USE_REVERSED, use=use)
    return credit


# --- membership credit rules ---------------------------------------------------------------------

RULE_FIELDS = ("issuing_frequency", "roll_over", "issue_on_signup", "quantity", "active")


def _rule_refs(*, account: Account, membership_type_id=None, coupon_id=None) -> dict:
    refs: dict = {}
    errors: dict[str, list[str]] = {}
    if membership_type_id is not None:
        refs["membership_type"] = MembershipType.objects.filter(account=account, pk=membership_type_id).first()
        if refs["membership_type"] is None:
            errors["membership_type_id"] = ["No such membership type."]
    if coupon_id is not None:
        refs["coupon"] = Coupon.objects.filter(account=account, pk=coupon_id).first()
        if refs["coupon"] is None:
            errors["coupon_id"] = ["No such coupon."]
    if errors:
        raise InvalidInput(errors)
    return refs


@transaction.atomic
def membership_credit_rule_create(
    *, account: Account, membership_type_id, coupon_id, actor: Actor, **values
) -> MembershipCreditRule:
    refs = _rule_refs(account=account, membership_type_id=membership_type_id, coupon_id=coupon_id)
    if not refs["coupon"].active:
        raise InvalidInput.single("coupon_id", "The coupon is not active.")
    return MembershipCreditRule.objects.create(
        account=account,
        created_by=actor.label,
        updated_by=actor.label,
        **refs,
        **{key: values[key] for key in RULE_FIELDS if key in values},
    )


@transaction.atomic
def membership_credit_rule_update(
    *, rule: MembershipCreditRule, actor: Actor, membership_type_id=None, coupon_id=None, **values
) -> MembershipCreditRule:
    rule = MembershipCreditRule.objects.select_for_update().get(pk=rule.pk)
    refs = _rule_refs(account=rule.account, membership_type_id=membership_type_id, coupon_id=coupon_id)
    if "coupon" in refs and refs["coupon"].pk != rule.coupon_id and not refs["coupon"].active:
        raise InvalidInput.single("coupon_id", "The coupon is not active.")
    changed = model_set(instance=rule, fields=[*refs, *RULE_FIELDS], data={**values, **refs})
    return model_save(instance=rule, changed=changed, actor=actor)


# --- benefits (the same ledger, seen through the Magicline-style API) ------------------------------


def benefit_use(*, account: Account, customer_lookup: dict, benefit_key: str, actor: Actor) -> CreditUse:
    """Use one unit of the customer's contingent for `benefit_key`: the usable credit that burns down
    first (soonest expiry, no expiry last, then oldest issued, then id), under the same row lock and
    through the same code as a credits-family redeem. `customer_lookup` finds the customer (by number,
    card number or barcode); the customer is only read separately when nothing is usable, to tell an
    unknown customer (404) from an empty contingent (409). On PostgreSQL one statement does it all
    (credits.services.redeem, its own transaction); when it writes nothing, the locked path below says why."""
    now = timezone.now()
    done = redeem.try_use_benefit(
        account_id=account.pk, customer_lookup=customer_lookup, benefit_key=benefit_key, actor=actor, now=now
    )
    if done is not None:
        return done
    return _benefit_use_locked(
        account=account, customer_lookup=customer_lookup, benefit_key=benefit_key, actor=actor, now=now
    )


@transaction.atomic
def _benefit_use_locked(*, account: Account, customer_lookup: dict, benefit_key: str, actor: Actor, now) -> CreditUse:
    customer_filter = {f"customer__{field}": value for field, value in customer_lookup.items()}
    credit = (
        CustomerCredit.objects.usable(now)
        .select_for_update(of=("self",))
        .select_related("customer", "coupon")
        .filter(account=account, coupon__benefit_key=benefit_key, **customer_filter)
        .order_by(F("expiry_date").asc(nulls_last=True), "created_at", "id")
        .first()
    )
    if credit is None:
        customer = found(
            Customer.objects.filter(account=account),
            code=CustomerError.CUSTOMER_NOT_FOUND,
            message="Customer not found.",
            **customer_lookup,
        )
        raise Conflict(
            f"Customer {customer.number} has no usable '{benefit_key}' benefit",
            code=CreditError.BENEFIT_NOT_AVAILABLE,
            args=[benefit_key],
        )
    return use_locked_credit(credit, actor=actor, now=now, event_type=catalogue.BENEFIT_USED)


# --- scheduled events ----------------------------------------------------------------------------


def credit_expiry_scan(*, now: datetime, endpoint_days: dict[str, set[int]] | None = None) -> int:
    """`credit.expiring_soon` for each usable credit expiring within one of its account's thresholds: the
    account's own (`EventSettings`) and its endpoints' (`endpoint_days`, account id -> days; the delivery
    layer sends each endpoint the ones it asked for). Each credit once per threshold, the threshold in the
    event's `days_before`. And `credit.expired` for each credit that passed its expiry unused (once), each
    event in the transaction that claims its notice. Run by the worker's schedule; how many were sent."""
    sent = 0
    thresholds: dict[str, set[int]] = {account: set(days) for account, days in (endpoint_days or {}).items()}
    for settings in EventSettings.objects.exclude(expiring_soon_days=[]):
        thresholds.setdefault(settings.account_id, set()).update(settings.expiring_soon_days)
    for account_id, days_list in thresholds.items():
        for days in sorted(days_list):
            soon = CustomerCredit.objects.usable(now).filter(
                account_id=account_id, expiry_date__lte=now + timedelta(days=days)
            )
            for credit in soon.select_related("coupon").filter(~_noticed(catalogue.CREDIT_EXPIRING_SOON, days)):
                sent += _notice(credit, catalogue.CREDIT_EXPIRING_SOON, days, now)
    expired = CustomerCredit.objects.filter(
        revoked_at__isnull=True,
        redeemed_at__isnull=True,
        expiry_date__lte=now,
        expiry_date__gt=now - timedelta(days=31),
    )
    for credit in expired.select_related("coupon").filter(~_noticed(catalogue.CREDIT_EXPIRED, 0)):
        sent += _notice(credit, catalogue.CREDIT_EXPIRED, 0, now)
    return sent


def _noticed(kind: str, threshold: int) -> Exists:
    resource_id = Cast(OuterRef("pk"), output_field=CharField())
    return Exists(Notice.objects.filter(kind=kind, threshold=threshold, resource_id=resource_id))


@transaction.atomic
def _notice(credit: CustomerCredit, kind: str, threshold: int, now: datetime) -> int:
    if not notice_once(account_id=credit.account_id, kind=kind, resource_id=credit.pk, threshold=threshold):
        return 0
    extra = {"days_before": threshold} if kind == catalogue.CREDIT_EXPIRING_SOON else None
    redeem.credit_event_record(credit, kind, now=now, extra=extra)
    return 1
