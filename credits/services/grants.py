"""Bulk grants: one credit of a coupon to each selected customer, exactly once per batch key.

The input streams in chunks of `batch_size` rows; each chunk is resolved, written and committed on its
own, so memory stays flat however large the input, and a run killed half way loses at most the chunk in
flight. On PostgreSQL a chunk's raw identifiers are COPYed into a staging table and one statement
(credits.services.bulk.grant_staged) resolves them against the customers table, rejects what names no single
customer, inserts the rest with their history rows and answers only the exceptions; elsewhere (SQLite,
`make run`) the chunk is resolved with one query and written with the ORM. Re-running the same grant
(same batch key) issues only what is missing: a row whose customer already has a credit of the batch
from the same input row counts as already granted; from another row, it is a duplicate and is rejected."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.kernel.actors import Actor
from config.kernel.exceptions import InvalidInput
from config.kernel.values import INT64_MAX
from customers.models import Account, Customer, MembershipType

from .. import validation
from ..models import Coupon, CustomerCredit
from . import bulk, default_expiry

IDENTIFIER_COLUMNS = ("customer_id", "number", "email")


class SourceRow(NamedTuple):
    """One input row: its line number (None for a database selection), identifier and overrides.
    A named tuple: a million of them are made per million-row grant, so they must be cheap."""

    row: int | None
    identifier: str
    expiry_date: str = ""
    revenue: str = ""
    # The identifier's column when a file has several (a row's number, or its email when that is empty);
    # empty: the grant's column.
    column: str = ""


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
    """Read a CSV whose header names customer_id, number or email (or several of them), and optionally
    expiry_date and revenue. Returns the identifier column and the rows. With several identifier columns,
    each row is found by the first of them (in that order) that it fills in: a row with an email and an
    empty number is found by its email."""
    reader = csv.reader(stream)
    header = [name.strip() for name in next(reader, [])]
    present = [name for name in IDENTIFIER_COLUMNS if name in header]
    if not present:
        raise InvalidInput.single("customers", f"The CSV header must name one of {', '.join(IDENTIFIER_COLUMNS)}.")
    column = present[0]
    # csv.reader, not DictReader: no dict per row. A short row's missing fields read as empty.
    at = header.index(column)
    expiry_at = header.index("expiry_date") if "expiry_date" in header else None
    revenue_at = header.index("revenue") if "revenue" in header else None
    identifiers = [(name, header.index(name)) for name in present]
    none_of_them = " or ".join(present)

    def field(record: list[str], index: int | None) -> str:
        return record[index].strip() if index is not None and index < len(record) else ""

    def rows() -> Iterator[SourceRow]:
        if len(identifiers) > 1:
            for record in reader:
                if record:
                    name, value = next(
                        ((name, v) for name, index in identifiers if (v := field(record, index))), (none_of_them, "")
                    )
                    yield SourceRow(
                        reader.line_num, value, field(record, expiry_at), field(record, revenue_at), column=name
                    )
            return
        if expiry_at is None and revenue_at is None:
            for record in reader:
                if record:
                    yield SourceRow(reader.line_num, record[at].strip() if at < len(record) else "")
            return
        for record in reader:
            if record:
                yield SourceRow(reader.line_num, field(record, at), field(record, expiry_at), field(record, revenue_at))

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
    if (error := validation.expiry_date_error(expiry_date, now=now)) is not None:
        raise InvalidInput.single("expiry_date", error)
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

    def reject(row: int | None, identifier: str, reason: str) -> None:
        summary.rejected += 1
        rejection = Rejection(row, identifier, reason)
        if len(summary.rejections) < 1000:
            summary.rejections.append(rejection)
        if on_rejection:
            on_rejection(rejection)

    def overrides(row: SourceRow) -> tuple[datetime | None, int | None]:
        """The row's own expiry date and revenue (None: the grant's); ValueError says why they are bad."""
        row_expiry = row_revenue = None
        if row.expiry_date:
            row_expiry = _parse_expiry(row.expiry_date, account)
            if (error := validation.expiry_date_error(row_expiry, now=now)) is not None:
                reason = "is in the past" if error == validation.EXPIRY_IN_THE_PAST else error[0].lower() + error[1:-1]
                raise ValueError(f"expiry_date {row.expiry_date} {reason}")
        if row.revenue:
            if not (row.revenue.isascii() and row.revenue.isdigit() and int(row.revenue) <= INT64_MAX):
                raise ValueError(f"revenue {row.revenue!r} is not a whole number >= 0")
            row_revenue = int(row.revenue)
        return row_expiry, row_revenue

    grant_chunk = _grant_chunk_postgresql if connection.vendor == "postgresql" else _grant_chunk_orm
    for whole_chunk in _chunks(rows, batch_size):
        summary.rows += len(whole_chunk)
        for chunk_column, chunk in _by_column(whole_chunk, column, reject):
            _grant_part(
                summary, batch, grant_chunk, reject,
                account=account, column=chunk_column, chunk=chunk, now=now, default_expiry_date=default_expiry_date,
                default_revenue=default_revenue, dry_run=dry_run, overrides=overrides,
            )  # fmt: skip
        if on_progress:
            on_progress(len(whole_chunk))
    return summary


def _by_column(chunk: list[SourceRow], column: str, reject) -> Iterator[tuple[str, list[SourceRow]]]:
    """The chunk as it is when its rows share the grant's column; else its rows grouped by their own
    column (a file with both number and email), a row that fills in none of them rejected here."""
    if all(not row.column for row in chunk):
        yield column, chunk
        return
    groups: dict[str, list[SourceRow]] = {}
    for row in chunk:
        if not row.identifier:
            reject(row.row, "", f"no {row.column or column}")
        else:
            groups.setdefault(row.column or column, []).append(row)
    yield from groups.items()


def _grant_part(summary: GrantSummary, batch, grant_chunk, reject, **kwargs) -> None:
    """Grant one chunk's rows of one identifier column, and count what it did."""
    inserted, missing = grant_chunk(batch=batch, reject=reject, **kwargs)
    # What the chunk wanted but did not insert: already granted by this row, or by another (a duplicate
    # across chunks). Read after the insert committed, so a concurrent run's rows are seen too.
    existing = bulk.existing_keys(batch, [w for w, _ in missing]) if missing else {}
    for w, identifier in missing:
        key = (w.customer_id,)
        if key not in existing:
            summary.granted += 1  # dry run: would grant
        elif existing[key] == w.batch_row:
            summary.already_granted += 1
        else:
            earlier = existing[key]
            reject(
                w.batch_row,
                identifier,
                f"duplicate of row {earlier}" if earlier is not None else "already granted in this batch",
            )
    summary.granted += inserted


Missing = list[tuple[bulk.Wanted, str]]


def _grant_chunk_postgresql(
    *, batch, account, column, chunk, now, default_expiry_date, default_revenue, dry_run, overrides, reject
) -> tuple[int, Missing]:
    """PostgreSQL: the chunk's raw identifiers (and any per-row overrides, checked here) are COPYed into a
    staging table; one statement resolves them against the customers table, rejects what names no single
    customer or repeats an earlier row, inserts the rest with their history rows and returns only the
    exceptions. Python does no per-row UUID parsing, lookup or adaptation."""
    buffer = io.StringIO()
    write = csv.writer(buffer, lineterminator="\n").writerow
    for position, row in enumerate(chunk):
        problem = row_expiry = row_revenue = None
        if row.expiry_date or row.revenue:
            try:
                row_expiry, row_revenue = overrides(row)
            except ValueError as exc:
                problem = str(exc)
        write((position, row.row, row.identifier, row_expiry.isoformat() if row_expiry else None, row_revenue, problem))
    result = bulk.grant_staged(
        batch,
        column=column,
        account_id=account.pk,
        csv_rows=buffer.getvalue(),
        now=now,
        expiry_date=default_expiry_date,
        revenue=default_revenue,
        dry_run=dry_run,
    )
    for row, identifier, reason in result.rejections:
        reject(row, identifier, reason)
    missing = [
        (bulk.Wanted(customer_id=customer_id, revenue=0, batch_row=row), identifier)
        for row, identifier, customer_id in result.missing
    ]
    return result.inserted, missing


def _grant_chunk_orm(
    *, batch, account, column, chunk, now, default_expiry_date, default_revenue, dry_run, overrides, reject
) -> tuple[int, Missing]:
    """Elsewhere (SQLite, `make run`): resolve in Python, insert with the ORM."""
    resolved = _resolve(account, column, chunk)
    wanted: list[bulk.Wanted] = []
    rows_by_customer: dict[uuid.UUID, SourceRow] = {}
    for row in chunk:
        target = resolved.get(row.identifier)
        if not row.identifier:
            reject(row.row, row.identifier, f"no {column}")
            continue
        if target is None:
            reject(row.row, row.identifier, f"unknown customer ({column} {row.identifier})")
            continue
        if isinstance(target, str):
            reject(row.row, row.identifier, target)
            continue
        if target in rows_by_customer:
            reject(row.row, row.identifier, f"duplicate of row {rows_by_customer[target].row}")
            continue
        try:
            row_expiry, row_revenue = overrides(row)
        except ValueError as exc:
            reject(row.row, row.identifier, str(exc))
            continue
        rows_by_customer[target] = row
        wanted.append(
            bulk.Wanted(
                customer_id=target,
                revenue=default_revenue if row_revenue is None else row_revenue,
                expiry_date=default_expiry_date if row_expiry is None else row_expiry,
                batch_row=row.row,
            )
        )
    inserted = set() if dry_run else bulk.insert(batch, wanted, now=now)
    missing = [(w, rows_by_customer[w.customer_id].identifier) for w in wanted if (w.customer_id,) not in inserted]
    return len(inserted), missing
