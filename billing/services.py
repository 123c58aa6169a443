"""Every write of the billing family. The balance lives in the billing account row and moves only here,
in the same transaction as the ledger rows, under that row's lock."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from config.kernel.actors import Actor
from config.kernel.exceptions import Conflict, InvalidInput, NotFound, NotPossible
from config.kernel.values import INT64_MAX
from customers.models import Account
from events import catalogue
from events.services import NewEvent, events_record, row

from . import selectors
from .errors import BillingError
from .models import BillingAccount, BillingTransaction, FeatureUsage, Project

MAX_BATCH = 1000
COPY_THRESHOLD = 50


@dataclass(frozen=True)
class Usage:
    id: uuid.UUID
    type: str  # "credit" or "feature"
    amount: int
    source: str = "system"
    description: str = ""
    user_id: str = ""
    metadata: dict = field(default_factory=dict)

    def same_as_transaction(self, tx: BillingTransaction, billing_account_id) -> bool:
        return (
            self.type == "credit"
            and tx.type == BillingTransaction.Type.DEBIT
            and (tx.billing_account_id, tx.amount, tx.source, tx.description, tx.user_id, tx.metadata)
            == (billing_account_id, self.amount, self.source, self.description, self.user_id, self.metadata)
        )

    def recorded_as(self, account, billing_account, actor: Actor, now) -> dict:
        """The fields a debit and a feature usage take alike from the usage they record."""
        return {
            "account": account,
            "billing_account": billing_account,
            "usage_id": self.id,
            "amount": self.amount,
            "description": self.description,
            "user_id": self.user_id,
            "metadata": self.metadata,
            "created_by": actor.label,
            "created_at": now,
        }

    def same_as_feature(self, usage: FeatureUsage, billing_account_id) -> bool:
        return self.type == "feature" and (
            usage.billing_account_id,
            usage.amount,
            usage.feature,
            usage.description,
            usage.user_id,
            usage.metadata,
        ) == (billing_account_id, self.amount, self.source, self.description, self.user_id, self.metadata)


# --- finding the billing account -----------------------------------------------------------------


def resolve_billing_account(*, account: Account, org_id=None, billing_id=None, project_id=None) -> uuid.UUID:
    """`billing_id` if given (it must belong to the organization), else the default account of `org_id`,
    else of the organization owning `project_id`."""
    if org_id and project_id:
        raise InvalidInput.single(
            "project_id", "Give org_id or project_id, not both.", code=BillingError.ORG_AND_PROJECT
        )
    if not (org_id or billing_id or project_id):
        raise InvalidInput.single("org_id", "Give billing_id, org_id or project_id.", code=BillingError.NO_TARGET)
    if billing_id:
        return selectors.billing_account_get(account=account, id=billing_id, org_id=org_id or None).pk
    if project_id:
        customer = selectors.project_get(account=account, id=project_id).customer
    else:
        customer = selectors.organization_get(account=account, id=org_id)
    return selectors.billing_account_default(customer=customer).pk


def _locked(billing_account_id) -> BillingAccount:
    return BillingAccount.objects.select_for_update().get(pk=billing_account_id)


# --- usages --------------------------------------------------------------------------------------


@transaction.atomic
def billing_usage_report(*, account: Account, billing_account_id, usages: list[Usage], actor: Actor) -> int:
    """Apply a batch of usages, all or nothing. A usage id already recorded with identical values is
    skipped (a retry never debits twice); with other values the whole batch is refused (409). Credit
    usages debit the balance, which must stay at or above credit_min after the whole batch (else 400).
    Returns how many usages were newly applied."""
    billing_account = _locked(billing_account_id)
    ids = [u.id for u in usages]
    earlier_tx = {t.usage_id: t for t in BillingTransaction.objects.filter(account=account, usage_id__in=ids)}
    earlier_feature = {f.usage_id: f for f in FeatureUsage.objects.filter(account=account, usage_id__in=ids)}
    new: list[Usage] = []
    for usage in usages:
        if usage.id in earlier_tx:
            if not usage.same_as_transaction(earlier_tx[usage.id], billing_account.pk):
                raise Conflict(f"usage {usage.id} was recorded with other values", code=BillingError.ALREADY_APPLIED)
        elif usage.id in earlier_feature:
            if not usage.same_as_feature(earlier_feature[usage.id], billing_account.pk):
                raise Conflict(f"usage {usage.id} was recorded with other values", code=BillingError.ALREADY_APPLIED)
        else:
            new.append(usage)
    debit = sum(u.amount for u in new if u.type == "credit")
    if billing_account.balance - debit < billing_account.credit_min:
        raise NotPossible(
            f"the batch debits {debit}: the balance {billing_account.balance} would go below credit_min "
            f"{billing_account.credit_min}",
            code=BillingError.INSUFFICIENT_CREDITS,
        )
    if billing_account.debited + debit > INT64_MAX:
        raise InvalidInput.single(
            "usages",
            f"The debited total {billing_account.debited} plus {debit} would exceed the int64 maximum {INT64_MAX}.",
            code=BillingError.DEBITED_OVERFLOW,
        )
    now = timezone.now()
    _insert_debits(account, billing_account, [u for u in new if u.type == "credit"], actor, now)
    FeatureUsage.objects.bulk_create(
        [
            FeatureUsage(feature=u.source, **u.recorded_as(account, billing_account, actor, now))
            for u in new
            if u.type == "feature"
        ]
    )
    if debit:
        BillingAccount.objects.filter(pk=billing_account.pk).update(
            balance=F("balance") - debit, debited=F("debited") + debit, updated_at=now
        )
        _balance_events(billing_account, billing_account.balance - debit, now)
    return len(new)


def _balance_events(billing_account: BillingAccount, after: int, now) -> None:
    """`billing.balance.low` when the balance went from above the account's low-balance threshold to at or
    below it, `billing.balance.depleted` when it went from above 0 to 0 or less: once per crossing, since
    a balance that stays below crosses nothing; in the transaction that moved it."""
    before = billing_account.balance
    crossed = []
    threshold = billing_account.balance_low_threshold
    if threshold is not None and before > threshold >= after:
        crossed.append(catalogue.BILLING_BALANCE_LOW)
    if before > 0 >= after:
        crossed.append(catalogue.BILLING_BALANCE_DEPLETED)
    if not crossed:
        return
    billing_account.balance, billing_account.updated_at = after, now
    data = {"billing_account": row(billing_account), "balance_before": before}
    events_record(
        account_id=billing_account.account_id,
        events=[NewEvent(t, "billing_account", str(billing_account.pk), data) for t in crossed],
    )


def _transaction_events(txs: list[BillingTransaction], now, *, reverted: BillingTransaction | None = None) -> None:
    events = [
        NewEvent(catalogue.BILLING_TRANSACTION_CREATED, "billing_transaction", str(tx.pk), {"transaction": row(tx)})
        for tx in txs
    ]
    if reverted is not None:
        [revert] = txs
        data = {"transaction": row(revert), "reverted": row(reverted)}
        events.append(NewEvent(catalogue.BILLING_USAGE_REVERTED, "billing_transaction", str(revert.pk), data))
    if events:
        events_record(account_id=txs[0].account_id, events=events)


def _insert_debits(account, billing_account, usages: list[Usage], actor: Actor, now) -> None:
    """One debit per credit usage, each with its event. On PostgreSQL a large batch is COPYed (a batch of
    1000 is the ingestion hot path, and building 13,000 bound parameters costs more than the write itself)."""
    txs = [
        BillingTransaction(
            id=uuid.uuid4(),
            type=BillingTransaction.Type.DEBIT,
            source=u.source,
            updated_at=now,
            **u.recorded_as(account, billing_account, actor, now),
        )
        for u in usages
    ]
    if connection.vendor == "postgresql" and len(txs) >= COPY_THRESHOLD:
        columns = (
            "id",
            "account_id",
            "billing_account_id",
            "usage_id",
            "type",
            "source",
            "amount",
            "description",
            "user_id",
            "metadata",
            "created_by",
            "created_at",
            "updated_at",
        )
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY billing_billingtransaction ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for tx in txs:
                copy.write_row(
                    [json.dumps(tx.metadata) if column == "metadata" else getattr(tx, column) for column in columns]
                )
    else:
        BillingTransaction.objects.bulk_create(txs)
    _transaction_events(txs, now)


# --- credits: top-ups and reverts ----------------------------------------------------------------


@transaction.atomic
def billing_top_up(
    *,
    account: Account,
    billing_account_id,
    usage_id: uuid.UUID,
    amount: int,
    actor: Actor,
    source: str = "system.awarded",
    description: str = "",
    metadata: dict | None = None,
) -> tuple[BillingTransaction, bool]:
    """A credit transaction; `usage_id` is its idempotency key. Returns (transaction, created)."""
    if amount <= 0:
        raise InvalidInput.single("amount", "Must be greater than 0.", code=BillingError.AMOUNT_NOT_POSITIVE)
    billing_account = _locked(billing_account_id)
    metadata = metadata or {}
    earlier = BillingTransaction.objects.filter(account=account, usage_id=usage_id).first()
    if earlier is not None:
        same = (
            earlier.billing_account_id,
            earlier.type,
            earlier.amount,
            earlier.source,
            earlier.description,
            earlier.metadata,
        ) == (billing_account.pk, "credit", amount, source, description, metadata)
        if not same:
            raise Conflict(f"{usage_id} was recorded with other values", code=BillingError.ALREADY_APPLIED)
        return earlier, False
    _check_room(billing_account, amount)
    return _credit(account, billing_account, usage_id, amount, source, description, metadata, actor), True


def _check_room(billing_account: BillingAccount, amount: int) -> None:
    """A credit may not take the balance past int64 (the column, and every client's int64, would overflow)."""
    if billing_account.balance + amount > INT64_MAX:
        raise InvalidInput.single(
            "amount",
            f"The balance {billing_account.balance} plus {amount} would exceed the int64 maximum {INT64_MAX}.",
            code=BillingError.BALANCE_OVERFLOW,
        )


def _credit(account, billing_account, usage_id, amount, source, description, metadata, actor, reverts=None):
    now = timezone.now()
    tx = BillingTransaction.objects.create(
        account=account,
        billing_account=billing_account,
        usage_id=usage_id,
        type=BillingTransaction.Type.CREDIT,
        source=source,
        amount=amount,
        description=description,
        metadata=metadata,
        reverts=reverts,
        created_by=actor.label,
        created_at=now,
        updated_at=now,
    )
    changes = {"balance": F("balance") + amount, "updated_at": now}
    if reverts is not None:
        changes["debited"] = F("debited") - amount
    BillingAccount.objects.filter(pk=billing_account.pk).update(**changes)
    _transaction_events([tx], now, reverted=reverts)
    return tx


@transaction.atomic
def billing_usage_revert(
    *, account: Account, org_id, usage_id, amount: int, actor: Actor, billing_id=None
) -> BillingTransaction:
    """Give back up to a debit's amount as a credit; several partial reverts never add up to more. The
    usage must be a debit of the organization (of `billing_id` when given)."""
    if amount <= 0:
        raise InvalidInput.single("amount", "Must be greater than 0.", code=BillingError.AMOUNT_NOT_POSITIVE)
    customer = selectors.organization_get(account=account, id=org_id)
    if billing_id is not None:
        selectors.billing_account_get(account=account, id=billing_id, org_id=customer.pk)
    usage = selectors.usage_debit_get(account=account, customer=customer, usage_id=usage_id)
    if usage is not None and usage.reverts_id is not None:
        raise Conflict("A revert cannot be reverted.", code=BillingError.REVERT_OF_REVERT)
    if (
        usage is None
        or usage.type != BillingTransaction.Type.DEBIT
        or (billing_id is not None and str(usage.billing_account_id) != str(billing_id))
    ):
        raise NotFound(f"Usage {usage_id} is not a debit of this organization.", code=BillingError.USAGE_NOT_FOUND)
    billing_account = _locked(usage.billing_account_id)
    reverted = BillingTransaction.objects.filter(reverts=usage).aggregate(total=Sum("amount"))["total"] or 0
    if reverted + amount > usage.amount:
        raise NotPossible(
            f"cannot revert {amount}: {usage.amount - reverted} of the usage's {usage.amount} is left to revert",
            code=BillingError.REVERT_EXCEEDS_USAGE,
        )
    _check_room(billing_account, amount)
    return _credit(
        account,
        billing_account,
        uuid.uuid4(),
        amount,
        f"system.revert.{usage.source}",
        "",
        {"revert_request_using": str(usage.usage_id)},
        actor,
        reverts=usage,
    )


# --- accounts, limits, projects ------------------------------------------------------------------


@transaction.atomic
def billing_account_create(
    *,
    account: Account,
    org_id,
    actor: Actor,
    currency: str = "VC",
    credit_min: int = 0,
    name: str = "",
    email: str = "",
    phone: str = "",
    address: dict | None = None,
    tax_data: list | None = None,
    metadata: dict | None = None,
) -> BillingAccount:
    customer = selectors.organization_get(account=account, id=org_id)
    currency_column = BillingAccount._meta.get_field("currency").max_length
    if len(currency or "") > currency_column:  # as normalised by the caller (upper case can be longer)
        raise InvalidInput.single(
            "currency",
            f"Ensure this field has no more than {currency_column} characters.",
            code=BillingError.INVALID_ARGUMENT,
        )
    if credit_min > 0:
        raise InvalidInput.single(
            "credit_min",
            "A new account's balance is 0, so credit_min must be 0 or less.",
            code=BillingError.CREDIT_MIN_ABOVE_BALANCE,
        )
    return BillingAccount.objects.create(
        account=account,
        customer=customer,
        currency=currency or "VC",
        credit_min=credit_min,
        name=name,
        email=email,
        phone=phone,
        address=address or {},
        tax_data=tax_data or [],
        metadata=metadata or {},
        created_by=actor.label,
    )


@transaction.atomic
def billing_limits_update(*, billing_account_id, credit_min: int, actor: Actor) -> BillingAccount:
    billing_account = _locked(billing_account_id)
    if billing_account.balance < credit_min:
        raise NotPossible(
            f"The balance {billing_account.balance} is below the new credit_min {credit_min}.",
            code=BillingError.CREDIT_MIN_ABOVE_BALANCE,
        )
    billing_account.credit_min = credit_min
    billing_account.updated_by = actor.label
    billing_account.save(update_fields=["credit_min", "updated_by", "updated_at"])
    return billing_account


@transaction.atomic
def project_create(*, account: Account, org_id, name: str, actor: Actor) -> Project:
    customer = selectors.organization_get(account=account, id=org_id)
    try:
        return Project.objects.create(account=account, customer=customer, name=name, created_by=actor.label)
    except IntegrityError:
        raise InvalidInput.single(
            "name", "Could not create the project.", code=BillingError.PROJECT_NOT_CREATED
        ) from None
