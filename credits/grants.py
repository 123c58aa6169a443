"""Bulk grants: one credit of a coupon to each selected customer, exactly once per batch key.

The input streams in chunks of `batch_size` rows; each chunk is resolved with one query, written with
credits.bulk (a few statements) and committed, so memory stays flat however large the input, and a run
killed half way loses at most the chunk in flight. Re-running the same grant (same batch key) issues
only what is missing: a row whose customer already has a credit of the batch from the same input row
counts as already granted; from another row, it is a duplicate and is rejected."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.kernel.actors import Actor
from config.kernel.exceptions import InvalidInput
from config.kernel.values import INT64_MAX
from customers.models import Account, Customer, MembershipType

from . import bulk
from .models import Coupon, CustomerCredit
from .services import default_expiry

IDENTIFIER_COLUMNS = ("customer_id", "number", "email")


@dataclass(frozen=True)
class SourceRow:
    """One input row: its line number (None for a database selection), identifier and overrides."""

    row: int | None
    identifier: str
    expiry_date: str = ""
    revenue: str = ""


@dataclass
class Rejection:
    row: int | None
    identifier: str
    reason: str


@dataclass
class GrantSummary:
    batch_key: str
    dry_run: bool
    rows: int = 0
    granted: int = 0
    already_granted: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # the first few, for a page to show

    def line(self) -> str:
        verb = "would grant" if self.dry_run else "granted"
        return (
            f"batch {self.batch_key}: {self.rows} rows, {verb} {self.granted}, "
            f"already granted {self.already_granted}, rejected {self.rejected}"
        )


# --- selection ----------------------------------------------------------------------------------


def csv_rows(stream: io.TextIOBase) -> tuple[str, Iterator[SourceRow]]:
    """Read a CSV whose header names one of customer_id, number or email, and optionally expiry_date
    and revenue. Returns the identifier column and the rows."""
    reader = csv.DictReader(stream)
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    column = next((name for name in IDENTIFIER_COLUMNS if name in header), None)
    if column is None:
        raise InvalidInput.single("customers", f"The CSV header must name one of {', '.join(IDENTIFIER_COLUMNS)}.")

    def rows() -> Iterator[SourceRow]:
        for record in reader:
            yield SourceRow(
                row=reader.line_num,
                identifier=(record.get(column) or "").strip(),
                expiry_date=(record.get("expiry_date") or "").strip(),
                revenue=(record.get("revenue") or "").strip(),
            )

    return column, rows()


def customer_rows(queryset) -> Iterator[SourceRow]:
    for customer_id in queryset.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=10_000):
        yield SourceRow(row=None, identifier=str(customer_id))


def selection_of_all_customers(account: Account) -> Iterator[SourceRow]:
    return customer_rows(Customer.objects.filter(account=account))


def selection_of_membership_type(account: Account, membership_type_id) -> Iterator[SourceRow]:
    membership_type = MembershipType.objects.filter(account=account, pk=membership_type_id).first()
    if membership_type is None:
        raise InvalidInput.single("membership_type", f"No membership type {membership_type_id} in this account.")
    members = Customer.objects.filter(
        account=account, memberships__membership_type=membership_type, memberships__status="active"
    ).distinct()
    return customer_rows(members)


def default_batch_key(*, coupon: Coupon, selection: str) -> str:
    """Derived from the coupon and the selection (for a file: its contents), so a plain re-run is safe."""
    digest = hashlib.sha256(f"{coupon.pk}|{selection}".encode()).hexdigest()
    return f"grant-{digest[:24]}"


def file_digest(stream: io.BufferedIOBase) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


# --- granting -----------------------------------------------------------------------------------


def _chunks(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    chunk: list[SourceRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _resolve(account: Account, column: str, chunk: list[SourceRow]) -> dict[str, uuid.UUID | str]:
    """identifier -> customer id, or -> the reason it names no single customer."""
    values = {r.identifier for r in chunk if r.identifier}
    if column == "customer_id":
        valid = {}
        for value in values:
            try:
                valid[value] = uuid.UUID(value)
            except ValueError:
                continue
        found = {pk for (pk,) in _customers_where(account, "id", "uuid", list(valid.values()), "id")}
        return {value: pk for value, pk in valid.items() if pk in found}
    if column == "number":
        numbers = {v: int(v) for v in values if v.isdigit() and int(v) <= INT64_MAX}
        found = dict(_customers_where(account, "number", "bigint", list(numbers.values()), "number, id"))
        return {value: found[number] for value, number in numbers.items() if number in found}
    lowered = {v.lower() for v in values}
    matches: dict[str, list] = {}
    for email, pk in (
        Customer.objects.filter(account=account)
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=lowered)
        .values_list("email_lower", "pk")
    ):
        matches.setdefault(email, []).append(pk)
    resolved: dict[str, uuid.UUID | str] = {}
    for value in values:
        pks = matches.get(value.lower(), [])
        if len(pks) == 1:
            resolved[value] = pks[0]
        elif len(pks) > 1:
            resolved[value] = f"email matches {len(pks)} customers"
    return resolved


def _customers_where(account: Account, column: str, sql_type: str, values: list, select: str) -> list[tuple]:
    """The account's customers whose `column` is one of `values`. On PostgreSQL one array parameter
    (`= ANY(%s)`), so a chunk of 10,000 identifiers is neither compiled into 10,000 placeholders by the ORM
    nor split and quoted one by one by psycopg; elsewhere the ORM's IN list."""
    if not values:
        return []
    if connection.vendor != "postgresql":
        fields = [name.strip() for name in select.split(",")]
        return list(
            Customer.objects.filter(account=account, **{f"{column}__in": values}).values_list(*fields).iterator()
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select} FROM {Customer._meta.db_table} "  # noqa: S608 (constants only)
            f"WHERE account_id = %s AND {column} = ANY(%s::{sql_type}[])",
            [account.pk, values],
        )
        return cursor.fetchall()


def _parse_expiry(raw: str, account: Account) -> datetime:
    try:
        day = parse_date(raw) if len(raw) == 10 else None
        value = None if day else parse_datetime(raw)
    except ValueError:
        day = value = None
    if day is not None:
        # A bare date means the end of that day where the business is.
        value = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(account.timezone))
    if value is None:
        raise ValueError(f"expiry_date {raw!r} is not a date or an RFC 3339 date-time")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, ZoneInfo(account.timezone))
    return value


def credit_grant_bulk(
    *,
    account: Account,
    coupon: Coupon,
    rows: Iterable[SourceRow],
    column: str,
    batch_key: str,
    actor_user=None,
    expiry_date: datetime | None = None,
    revenue: int | None = None,
    batch_size: int = 5000,
    dry_run: bool = False,
    on_rejection: Callable[[Rejection], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> GrantSummary:
    """Grant one credit of `coupon` per selected customer; see the module docstring."""
    if coupon.account_id != account.pk or not coupon.active:
        raise InvalidInput.single("coupon", "Must be an active coupon of this account.")
    now = timezone.now()
    if expiry_date is not None and expiry_date <= now:
        raise InvalidInput.single("expiry_date", "Must be in the future.")
    if revenue is not None and not 0 <= revenue <= INT64_MAX:
        raise InvalidInput.single("revenue", "Must be an integer of at least 0.")
    if not batch_key or len(batch_key) > 100:
        raise InvalidInput.single("batch_key", "A batch key is 1 to 100 characters.")
    default_expiry_date = expiry_date if expiry_date is not None else default_expiry(coupon, now=now)
    default_revenue = coupon.default_revenue if revenue is None else revenue
    batch = bulk.Batch(
        coupon=coupon,
        source=CustomerCredit.Source.BULK,
        actor=Actor(label=f"bulk:{batch_key}", user=actor_user),
        batch_key=batch_key,
    )
    summary = GrantSummary(batch_key=batch_key, dry_run=dry_run)

    def reject(row: SourceRow, reason: str) -> None:
        summary.rejected += 1
        rejection = Rejection(row.row, row.identifier, reason)
        if len(summary.rejections) < 1000:
            summary.rejections.append(rejection)
        if on_rejection:
            on_rejection(rejection)

    for chunk in _chunks(rows, batch_size):
        summary.rows += len(chunk)
        resolved = _resolve(account, column, chunk)
        wanted: list[bulk.Wanted] = []
        rows_by_customer: dict[uuid.UUID, SourceRow] = {}
        for row in chunk:
            target = resolved.get(row.identifier)
            if not row.identifier:
                reject(row, f"no {column}")
                continue
            if target is None:
                reject(row, f"unknown customer ({column} {row.identifier})")
                continue
            if isinstance(target, str):
                reject(row, target)
                continue
            if target in rows_by_customer:
                reject(row, f"duplicate of row {rows_by_customer[target].row}")
                continue
            try:
                row_expiry = _parse_expiry(row.expiry_date, account) if row.expiry_date else default_expiry_date
                if row.expiry_date and row_expiry <= now:
                    raise ValueError(f"expiry_date {row.expiry_date} is in the past")
                if row.revenue and not (row.revenue.isdigit() and int(row.revenue) <= INT64_MAX):
                    raise ValueError(f"revenue {row.revenue!r} is not a whole number >= 0")
            except ValueError as exc:
                reject(row, str(exc))
                continue
            rows_by_customer[target] = row
            wanted.append(
                bulk.Wanted(
                    customer_id=target,
                    revenue=int(row.revenue) if row.revenue else default_revenue,
                    expiry_date=row_expiry,
                    batch_row=row.row,
                )
            )
        if dry_run:
            inserted: set[tuple] = set()
        else:
            inserted = bulk.insert(batch, wanted, now=now)
        missing = [w for w in wanted if (w.customer_id,) not in inserted]
        existing = bulk.existing_keys(batch, missing) if missing else {}
        for w in missing:
            key = (w.customer_id,)
            if key not in existing:
                summary.granted += 1  # dry run: would grant
            elif existing[key] == w.batch_row:
                summary.already_granted += 1
            else:
                earlier = existing[key]
                reject(
                    rows_by_customer[w.customer_id],
                    f"duplicate of row {earlier}" if earlier is not None else "already granted in this batch",
                )
        summary.granted += len(inserted)
        if on_progress:
            on_progress(len(chunk))
    return summary
