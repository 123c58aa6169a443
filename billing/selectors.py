from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet, Sum

from .models import BillingAccount, BillingTransaction


def transactions_page(
    *, billing_account: BillingAccount, start: datetime | None, end: datetime | None, size: int, after=None
) -> tuple[list[BillingTransaction], bool]:
    """Newest first, keyset-paged on (created_at, id); `after` is the last (created_at, id) seen."""
    queryset: QuerySet = BillingTransaction.objects.filter(billing_account=billing_account)
    if start is not None:
        queryset = queryset.filter(created_at__gte=start)
    if end is not None:
        queryset = queryset.filter(created_at__lt=end)
    if after is not None:
        moment, pk = after
        # created_at <= X bounds the index range; the OR alone would not.
        queryset = queryset.filter(created_at__lte=moment).filter(
            Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk)
        )
    items = list(queryset.order_by("-created_at", "-id")[: size + 1])
    return items[:size], len(items) > size


def debited_total(*, billing_account: BillingAccount) -> int:
    """Debits minus the credits that reverted them."""
    totals = BillingTransaction.objects.filter(billing_account=billing_account).aggregate(
        debits=Sum("amount", filter=Q(type="debit")),
        reverted=Sum("amount", filter=Q(type="credit", reverts__isnull=False)),
    )
    return (totals["debits"] or 0) - (totals["reverted"] or 0)
