"""Every read of the billing family. `<entity>_get(*, account, ...)` answers the object of the caller's
account or raises NotFound with the family's error code (config.kernel.selectors.found); an id that is not
a UUID finds nothing (the views check the form of path ids before)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db import connections
from django.db.models import Q, QuerySet, Sum

from config.kernel.selectors import found
from config.kernel.values import uuid_or_none
from customers.models import Account, Customer

from .errors import BillingError
from .models import BillingAccount, BillingTransaction, Project

STREAM_CHUNK = 2000


def organization_get(*, account: Account, id) -> Customer:
    return found(
        Customer.objects.filter(account=account),
        pk=id,
        code=BillingError.ORGANIZATION_NOT_FOUND,
        message=f"Organization {id} not found.",
    )


def billing_account_get(*, account: Account, id, org_id=None) -> BillingAccount:
    """The billing account `id` of the caller's account (and of organization `org_id` when given)."""
    queryset = BillingAccount.objects.filter(account=account)
    if org_id is not None:
        queryset = queryset.filter(customer_id=uuid_or_none(org_id))
    return found(
        queryset, pk=id, code=BillingError.BILLING_ACCOUNT_NOT_FOUND, message=f"Billing account {id} not found."
    )


def billing_account_default(*, customer: Customer) -> BillingAccount:
    """The organization's first billing account."""
    return found(
        billing_account_list(customer=customer),
        code=BillingError.NO_BILLING_ACCOUNT,
        message=f"Organization {customer.pk} has no billing account.",
    )


def billing_account_default_or_none(*, customer: Customer) -> BillingAccount | None:
    return billing_account_list(customer=customer).first()


def billing_account_list(*, customer: Customer) -> QuerySet[BillingAccount]:
    return BillingAccount.objects.filter(customer=customer).order_by("created_at", "id")


def project_get(*, account: Account, id) -> Project:
    return found(
        Project.objects.select_related("customer").filter(account=account),
        pk=id,
        code=BillingError.PROJECT_NOT_FOUND,
        message=f"Project {id} not found.",
    )


def project_list(*, customer: Customer) -> QuerySet[Project]:
    return Project.objects.filter(customer=customer).order_by("created_at", "id")


def transaction_list(
    *, billing_account: BillingAccount, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[BillingTransaction]:
    """Newest first on (created_at, id); `start` inclusive, `end` exclusive."""
    queryset = BillingTransaction.objects.filter(billing_account=billing_account)
    if start is not None:
        queryset = queryset.filter(created_at__gte=start)
    if end is not None:
        queryset = queryset.filter(created_at__lt=end)
    return queryset.order_by("-created_at", "-id")


# A transaction's columns that the API shows under their own names; before them it shows usage_id as `id`
# and billing_account_id as `customer_id` (the paged list's serializer and the streamed list alike).
TRANSACTION_SHOWN = ("source", "amount", "type", "description", "user_id", "metadata", "created_at", "updated_at")
_STREAM_FIELDS = ("usage_id", "billing_account_id", *TRANSACTION_SHOWN)


def transaction_stream(queryset: QuerySet[BillingTransaction]) -> Iterator[tuple]:
    """Every row of `queryset` (ordered newest first on (created_at, id)) as value tuples, in chunks, so
    that memory stays flat however many rows there are: read through a server-side cursor, or, behind a
    transaction pooler (where a cursor outside a transaction would be a session-level object), in keyset
    pages of STREAM_CHUNK rows. The database is the one chosen now, while the request is routed; the rows
    are read later, as the answer is written."""
    queryset = queryset.using(queryset.db)
    if not getattr(connections[queryset.db], "transaction_pooled", False):
        return queryset.values_list(*_STREAM_FIELDS).iterator(chunk_size=STREAM_CHUNK)
    return _keyset_pages(queryset)


def _keyset_pages(queryset: QuerySet[BillingTransaction]) -> Iterator[tuple]:
    after = None
    while True:
        page = (
            queryset
            if after is None
            else queryset.filter(Q(created_at__lt=after[0]) | Q(created_at=after[0], pk__lt=after[1]))
        )
        rows = list(page.values_list(*_STREAM_FIELDS, "pk")[:STREAM_CHUNK])
        for row in rows:
            yield row[:-1]
        if len(rows) < STREAM_CHUNK:
            return
        after = (rows[-1][8], rows[-1][-1])


def debited_total(*, billing_account: BillingAccount) -> int:
    """Debits minus the credits that reverted them: the account's running total, which billing.services
    keeps within int64 (tests/billing hold it equal to the ledger's sum, `ledger_debited_total`)."""
    return billing_account.debited


def ledger_debited_total(*, billing_account: BillingAccount) -> int:
    """The same total summed from the ledger."""
    totals = BillingTransaction.objects.filter(billing_account=billing_account).aggregate(
        debits=Sum("amount", filter=Q(type="debit")),
        reverted=Sum("amount", filter=Q(type="credit", reverts__isnull=False)),
    )
    return (totals["debits"] or 0) - (totals["reverted"] or 0)


def usage_debit_get(*, account: Account, customer: Customer, usage_id) -> BillingTransaction | None:
    return BillingTransaction.objects.filter(
        account=account, usage_id=uuid_or_none(usage_id), billing_account__customer=customer
    ).first()
