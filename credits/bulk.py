"""Writing many credits at once, exactly once each, for bulk grants and membership credit rules.

On PostgreSQL a chunk is COPYed (binary) into a temporary staging table and moved into the credits table with
one INSERT ... SELECT ... ON CONFLICT DO NOTHING, whose RETURNING rows also write each credit's
"issued" history row in the same statement: a few statements per chunk, not a query per row. The
unique constraints (batch key and customer; rule, membership, period and n-th) decide what already
exists, so concurrent or repeated runs never issue twice. Elsewhere (SQLite) a plain ORM path does the
same inside one immediate transaction per chunk."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from config.kernel.actors import Actor

from .models import Coupon, CreditEvent, CustomerCredit

STAGE = "bulk_credit_stage"
STAGE_COLUMNS = ("customer_id", "membership_id", "expiry_date", "revenue", "batch_row", "period_start", "period_nth")
STAGE_TYPES = ("uuid", "uuid", "timestamptz", "int8", "int8", "timestamptz", "int2")


@dataclass(frozen=True)
class Wanted:
    """One credit to issue, as the caller wants it."""

    customer_id: uuid.UUID
    revenue: int
    expiry_date: datetime | None = None
    membership_id: uuid.UUID | None = None
    batch_row: int | None = None
    period_start: datetime | None = None
    period_nth: int | None = None


@dataclass(frozen=True)
class Batch:
    """What every credit of one call shares: one coupon, one source, one actor, one kind of key."""

    coupon: Coupon
    source: str
    actor: Actor
    batch_key: str | None = None
    rule_id: uuid.UUID | None = None

    @property
    def conflict_target(self) -> str:
        if self.batch_key is not None:
            return "(batch_key, customer_id) WHERE batch_key IS NOT NULL"
        return "(rule_id, membership_id, period_start, period_nth) WHERE rule_id IS NOT NULL"

    def key_of(self, wanted: Wanted) -> tuple:
        if self.batch_key is not None:
            return (wanted.customer_id,)
        return (wanted.membership_id, wanted.period_start, wanted.period_nth)


def insert(batch: Batch, rows: list[Wanted], *, now: datetime) -> set[tuple]:
    """Issue the wanted credits that do not exist yet, in one transaction; returns the keys inserted."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _insert_postgresql(batch, rows, now)
    return _insert_orm(batch, rows, now)


def _ensure_stage(cursor) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ("
        "customer_id uuid NOT NULL, membership_id uuid, expiry_date timestamptz, revenue bigint NOT NULL, "
        "batch_row bigint, period_start timestamptz, period_nth smallint) ON COMMIT DELETE ROWS"
    )


@transaction.atomic
def _insert_postgresql(batch: Batch, rows: list[Wanted], now: datetime) -> set[tuple]:
    coupon = batch.coupon
    with connection.cursor() as cursor:
        _ensure_stage(cursor)
        # Binary COPY: psycopg's C dumpers write uuid, timestamptz and integers as they are stored,
        # with no text formatting in Python and no parsing on the server.
        with cursor.cursor.copy(f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(STAGE_TYPES)
            for w in rows:
                copy.write_row(
                    (
                        w.customer_id,
                        w.membership_id,
                        w.expiry_date,
                        w.revenue,
                        w.batch_row,
                        w.period_start,
                        w.period_nth,
                    )
                )
        returning = "customer_id" if batch.batch_key is not None else "membership_id, period_start, period_nth"
        cursor.execute(
            # Only constants are interpolated below; every value is a query parameter.
            f"""
            WITH ins AS (
                INSERT INTO credits_customercredit (
                    id, account_id, customer_id, coupon_id, membership_id, source, multi_use, max_uses, uses,
                    expiry_date, revenue, revenue_recognised, issued_by, issued_by_user_id, created_at, updated_at,
                    batch_key, batch_row, rule_id, period_start, period_nth)
                SELECT gen_random_uuid(), %(account)s, customer_id, %(coupon)s, membership_id, %(source)s,
                       %(multi_use)s, %(max_uses)s, 0, expiry_date, revenue, 0, %(actor)s, %(user)s, %(now)s, %(now)s,
                       %(batch_key)s, batch_row, %(rule)s, period_start, period_nth
                FROM {STAGE}
                ON CONFLICT {batch.conflict_target} DO NOTHING
                RETURNING id, {returning}
            ), history AS (
                INSERT INTO credits_creditevent (credit_id, action, actor, user_id, reason, data, created_at)
                SELECT id, 'issued', %(actor)s, %(user)s, '', %(data)s::jsonb, %(now)s FROM ins
            )
            SELECT {returning} FROM ins
            """,  # noqa: S608
            {
                "account": coupon.account_id,
                "coupon": coupon.pk,
                "source": batch.source,
                "multi_use": coupon.multi_use,
                "max_uses": coupon.max_uses if coupon.multi_use else None,
                "actor": batch.actor.label,
                "user": batch.actor.user_id,
                "now": now,
                "batch_key": batch.batch_key,
                "rule": batch.rule_id,
                "data": json.dumps({"source": batch.source}),
            },
        )
        return {tuple(row) for row in cursor.fetchall()}


@transaction.atomic
def _insert_orm(batch: Batch, rows: list[Wanted], now: datetime) -> set[tuple]:
    existing = existing_keys(batch, rows)
    coupon = batch.coupon
    credits = []
    inserted: set[tuple] = set()
    for w in rows:
        key = batch.key_of(w)
        if key in existing or key in inserted:
            continue
        inserted.add(key)
        credits.append(
            CustomerCredit(
                account_id=coupon.account_id,
                customer_id=w.customer_id,
                coupon=coupon,
                membership_id=w.membership_id,
                source=batch.source,
                multi_use=coupon.multi_use,
                max_uses=coupon.max_uses if coupon.multi_use else None,
                expiry_date=w.expiry_date,
                revenue=w.revenue,
                issued_by=batch.actor.label,
                issued_by_user_id=batch.actor.user_id,
                created_at=now,
                updated_at=now,
                batch_key=batch.batch_key,
                batch_row=w.batch_row,
                rule_id=batch.rule_id,
                period_start=w.period_start,
                period_nth=w.period_nth,
            )
        )
    CustomerCredit.objects.bulk_create(credits, batch_size=500)
    CreditEvent.objects.bulk_create(
        [
            CreditEvent(
                credit=c,
                action=CreditEvent.Action.ISSUED,
                actor=batch.actor.label,
                user_id=batch.actor.user_id,
                data={"source": batch.source},
                created_at=now,
            )
            for c in credits
        ],
        batch_size=500,
    )
    return inserted


def existing_keys(batch: Batch, rows: list[Wanted]) -> dict[tuple, int | None]:
    """The keys among `rows` already issued, each with the batch row that issued it."""
    if batch.batch_key is not None:
        found = CustomerCredit.objects.filter(
            batch_key=batch.batch_key, customer_id__in={w.customer_id for w in rows}
        ).values_list("customer_id", "batch_row")
        return {(customer_id,): row for customer_id, row in found}
    found = CustomerCredit.objects.filter(
        rule_id=batch.rule_id, membership_id__in={w.membership_id for w in rows}
    ).values_list("membership_id", "period_start", "period_nth")
    return {tuple(key): None for key in found}
