"""The one way an event is written: inside the caller's transaction (the change's own), with the next
sequence numbers of its account taken from the account's counter row. The redeem statement writes its
event itself (credits.services.redeem), numbered just after its commit (events_sequence)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from .models import Event, EventCounter, EventSettings, Notice

# Takes `n` numbers from the account's counter, creating the row on first use; the row stays locked until
# the transaction ends, so another writer in the same account waits and gets the numbers after these.
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
    """Reserve `n` sequence numbers; the first of them."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SQL, [account_id, n])
        (last,) = cursor.fetchone()
    return last - n + 1


def events_record(*, account_id: str, events: list[NewEvent], now: datetime | None = None) -> list[Event]:
    """Write `events` (in order) in the caller's transaction."""
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
    `source` (which has an `id`), numbered from the account's counter as events_record does. `data` is a
    SQL expression over `n.r`, the source row; `%(account)s` and `%(now)s` are the statement's parameters."""
    counter, event = EventCounter._meta.db_table, Event._meta.db_table
    return f"""{name}_seq AS (
    INSERT INTO {counter} (account_id, last_sequence)
    SELECT %(account)s, count(*) FROM {source} HAVING count(*) > 0
    ON CONFLICT (account_id) DO UPDATE SET last_sequence = {counter}.last_sequence + excluded.last_sequence
    RETURNING last_sequence
), {name} AS (
    INSERT INTO {event} (id, account_id, sequence, type, resource_type, resource_id, data, created_at)
    SELECT gen_random_uuid(), %(account)s, s.last_sequence - n.total + n.rn, '{event_type}', '{resource_type}',
           CAST((n.r).id AS text), {data}, %(now)s
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


# Numbers committed events that have none yet (the one-statement redeem and benefit use write theirs
# without), in the order they were written, each account's after its counter's last number; the counter
# rows are locked in account order (a writer that holds one has its own numbers already).
_SEQUENCE_SQL = f"""
WITH pending AS (
    SELECT id, account_id, created_at FROM {Event._meta.db_table}
     WHERE sequence IS NULL ORDER BY created_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), numbered AS (
    SELECT id, account_id,
           row_number() OVER (PARTITION BY account_id ORDER BY created_at, id) AS rn,
           count(*) OVER (PARTITION BY account_id) AS n
      FROM pending
), counted AS (
    INSERT INTO {EventCounter._meta.db_table} AS c (account_id, last_sequence)
    SELECT account_id, max(n) FROM numbered GROUP BY account_id ORDER BY account_id
    ON CONFLICT (account_id) DO UPDATE SET last_sequence = c.last_sequence + excluded.last_sequence
    RETURNING account_id, last_sequence
)
UPDATE {Event._meta.db_table} AS e
   SET sequence = counted.last_sequence - numbered.n + numbered.rn
  FROM numbered JOIN counted USING (account_id)
 WHERE e.id = numbered.id
"""  # noqa: S608 (table names from the models)


def events_sequence(*, limit: int = 5000) -> int:
    """Give committed events without a sequence number theirs; how many (PostgreSQL only: elsewhere
    every event is numbered when it is written)."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SEQUENCE_SQL, {"limit": limit})
        return cursor.rowcount
