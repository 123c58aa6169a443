"""The one way an event is written: inside the caller's transaction (the change's own), with the next
sequence numbers of its account taken from the account's counter row. The redeem statement writes its
event itself (credits.services.redeem) without a number; the next writer of the account numbers it first,
under the counter's lock, before taking its own, or events_sequence does (the worker runs it continually,
the events list runs it for its account first). See events.models for the order this gives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from .models import Event, EventCounter, EventSettings, Notice

# Locks the account's counter row until the transaction ends (creating it on first use): whoever holds it
# is the only one giving out the account's numbers, so numbers are committed in the order they are given.
_LOCK_SQL = (
    f"INSERT INTO {EventCounter._meta.db_table} AS c (account_id, last_sequence) VALUES (%s, 0) "  # noqa: S608
    "ON CONFLICT (account_id) DO UPDATE SET last_sequence = c.last_sequence RETURNING last_sequence"
)

# Under that lock, in a statement of its own (so its snapshot holds every event committed before the lock
# was granted): numbers the account's committed events that have none yet (the one-statement redeem and
# benefit use write theirs without), in the order they were written, then reserves `n` numbers after them;
# the first of those.
_NUMBER_SQL = f"""
WITH pending AS (
    SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn, count(*) OVER () AS total
      FROM {Event._meta.db_table}
     WHERE account_id = %(account)s AND sequence IS NULL
), counted AS (
    UPDATE {EventCounter._meta.db_table}
       SET last_sequence = last_sequence + COALESCE((SELECT max(total) FROM pending), 0) + %(n)s
     WHERE account_id = %(account)s
    RETURNING last_sequence
), numbered AS (
    UPDATE {Event._meta.db_table} AS e
       SET sequence = counted.last_sequence - %(n)s - pending.total + pending.rn
      FROM pending, counted
     WHERE e.id = pending.id
)
SELECT last_sequence - %(n)s + 1, COALESCE((SELECT max(total) FROM pending), 0) FROM counted
"""  # noqa: S608 (table names from the models)

# SQLite: every event is numbered when it is written (nothing is left without a number there).
_NEXT_SQL = (
    f"INSERT INTO {EventCounter._meta.db_table} (account_id, last_sequence) VALUES (%s, %s) "  # noqa: S608
    f"ON CONFLICT (account_id) DO UPDATE SET last_sequence = {EventCounter._meta.db_table}.last_sequence "
    "+ excluded.last_sequence RETURNING last_sequence"
)


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


def row(instance) -> dict:
    """A model instance's columns as JSON values (what PostgreSQL's to_jsonb gives for the row)."""
    return {field.attname: _value(getattr(instance, field.attname)) for field in instance._meta.concrete_fields}


@dataclass(frozen=True)
class NewEvent:
    type: str
    resource_type: str
    resource_id: str
    data: dict


def _take(account_id: str, n: int) -> int:
    """Reserve `n` sequence numbers after every event of the account committed so far; the first of them.
    The account's counter row stays locked until the transaction ends."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(_NEXT_SQL, [account_id, n])
            (last,) = cursor.fetchone()
            return last - n + 1
        cursor.execute(_LOCK_SQL, [account_id])
        cursor.execute(_NUMBER_SQL, {"account": account_id, "n": n})
        first, _ = cursor.fetchone()
    return first


def events_number_pending(account_id: str) -> None:
    """In the caller's transaction: lock the account's counter row to the commit and number the account's
    committed events still without a number (for a writer that takes its numbers in a statement of its own,
    as the bulk grants do)."""
    if not connection.in_atomic_block:
        raise RuntimeError("events are numbered in the transaction that writes them")
    if connection.vendor == "postgresql":
        _take(account_id, 0)


def events_record(*, account_id: str, events: list[NewEvent], now: datetime | None = None) -> list[Event]:
    """Write `events` (in order) in the caller's transaction, dated now (or `now`, for a change whose time
    is not the moment of writing: a scheduled scan's clock), numbered after the account's events committed
    so far (events.models)."""
    if not events:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("events are written in the transaction of their change")
    now = now or timezone.now()
    first = _take(account_id, len(events))
    rows = [
        Event(
            account_id=account_id,
            sequence=first + i,
            type=e.type,
            resource_type=e.resource_type,
            resource_id=str(e.resource_id),
            data=e.data,
            created_at=now,
        )
        for i, e in enumerate(events)
    ]
    return Event.objects.bulk_create(rows, batch_size=1000)


def event_record(
    *, account_id: str, type: str, resource_type: str, resource_id, data: dict, now: datetime | None = None
) -> Event:
    [event] = events_record(
        account_id=account_id, events=[NewEvent(type, resource_type, str(resource_id), data)], now=now
    )
    return event


@transaction.atomic
def notice_once(*, account_id: str, kind: str, resource_id, threshold: int = 0) -> bool:
    """Claim the notice (kind, resource, threshold): True the first time only."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notice._meta.db_table} (account_id, kind, resource_id, threshold, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (kind, resource_id, threshold) DO NOTHING",
            [account_id, kind, str(resource_id), threshold, timezone.now()],
        )
        return cursor.rowcount == 1


def ledger_ctes(*, source: str, event_type: str, resource_type: str, data: str, name: str = "ledger") -> str:
    """For a set-based write in one statement: CTEs that write one `event_type` event per row of the CTE
    `source` (which has an `id`), numbered from the account's counter as events_record does (call
    events_number_pending first in the transaction, so the account's events still without a number come
    before these). `data` is a SQL expression over `n.r`, the source row; `%(account)s` is the statement's
    parameter."""
    counter, event = EventCounter._meta.db_table, Event._meta.db_table
    return f"""{name}_seq AS (
    INSERT INTO {counter} (account_id, last_sequence)
    SELECT %(account)s, count(*) FROM {source} HAVING count(*) > 0
    ON CONFLICT (account_id) DO UPDATE SET last_sequence = {counter}.last_sequence + excluded.last_sequence
    RETURNING last_sequence
), {name} AS (
    INSERT INTO {event} (id, account_id, sequence, type, resource_type, resource_id, data, created_at)
    SELECT gen_random_uuid(), %(account)s, s.last_sequence - n.total + n.rn, '{event_type}', '{resource_type}',
           CAST((n.r).id AS text), {data}, clock_timestamp()
      FROM {name}_seq AS s,
           (SELECT r, row_number() OVER (ORDER BY r.id) AS rn, count(*) OVER () AS total FROM {source} AS r) AS n
)"""  # noqa: S608 (names from the models and the caller's constants)


@transaction.atomic
def event_settings_update(*, account_id: str, expiring_soon_days: list[int]) -> EventSettings:
    days = sorted({int(d) for d in expiring_soon_days})
    if any(d < 1 or d > 366 for d in days):
        raise ValueError("expiring_soon_days are whole days from 1 to 366")
    settings, _ = EventSettings.objects.update_or_create(account_id=account_id, defaults={"expiring_soon_days": days})
    return settings


# The accounts with committed events still without a number (the partial index `event_to_number_in`).
_PENDING_ACCOUNTS_SQL = f"SELECT DISTINCT account_id FROM {Event._meta.db_table} WHERE sequence IS NULL LIMIT %s"  # noqa: S608
_PENDING_IN_SQL = f"SELECT account_id FROM {Event._meta.db_table} WHERE sequence IS NULL AND account_id = %s LIMIT 1"  # noqa: S608
# The account's counter row if no one holds it (one that does numbers the account's events itself); made
# first if the account has none yet (only then: an INSERT that meets a row another transaction is updating
# waits for that transaction, which is what the lock below must not do).
_MAKE_COUNTER_SQL = (
    f"INSERT INTO {EventCounter._meta.db_table} (account_id, last_sequence) SELECT %(account)s, 0 "  # noqa: S608
    f"WHERE NOT EXISTS (SELECT 1 FROM {EventCounter._meta.db_table} WHERE account_id = %(account)s) "
    "ON CONFLICT (account_id) DO NOTHING"
)
_TRY_LOCK_SQL = f"SELECT 1 FROM {EventCounter._meta.db_table} WHERE account_id = %s FOR UPDATE SKIP LOCKED"  # noqa: S608


def events_sequence(*, account_id: str | None = None, accounts: int = 500) -> int:
    """Give committed events without a sequence number theirs, in each account (or in `account_id` only)
    under its counter row's lock, as events_record does before taking its own; how many were numbered
    (PostgreSQL only: elsewhere every event is numbered when it is written). An account whose
    counter a transaction holds is left to it: that transaction numbers them when it takes its own."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        if account_id is None:
            cursor.execute(_PENDING_ACCOUNTS_SQL, [accounts])
        else:
            cursor.execute(_PENDING_IN_SQL, [account_id])
        pending = [a for (a,) in cursor.fetchall()]
    numbered = 0
    for account in pending:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_MAKE_COUNTER_SQL, {"account": account})
            cursor.execute(_TRY_LOCK_SQL, [account])
            if cursor.fetchone() is None:
                continue
            cursor.execute(_NUMBER_SQL, {"account": account, "n": 0})
            numbered += cursor.fetchone()[1]
    return numbered
