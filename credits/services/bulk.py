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
from events import catalogue
from events.services import NewEvent, events_number_pending, events_record, ledger_ctes, row

from ..models import Coupon, CreditEvent, CustomerCredit

# The "credit.issued" events of the credits inserted by a set-based statement (its CTE `ins`), with the
# coupon's row as it is now (the statement's coupon).
_ISSUED_EVENTS = ledger_ctes(
    source="ins",
    event_type=catalogue.CREDIT_ISSUED,
    resource_type="credit",
    data="jsonb_build_object('credit', to_jsonb(n.r), 'coupon', "
    "(SELECT to_jsonb(p) FROM credits_coupon AS p WHERE p.id = (n.r).coupon_id))",
)

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
    events_number_pending(coupon.account_id)
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
                    expiry_date, revenue, revenue_recognised, remaining_value, issued_by, issued_by_user_id,
                    created_at, updated_at, batch_key, batch_row, rule_id, period_start, period_nth)
                SELECT gen_random_uuid(), %(account)s, customer_id, %(coupon)s, membership_id, %(source)s,
                       %(multi_use)s, %(max_uses)s, 0, expiry_date, revenue, 0, %(remaining_value)s, %(actor)s,
                       %(user)s, %(now)s, %(now)s,
                       %(batch_key)s, batch_row, %(rule)s, period_start, period_nth
                FROM {STAGE}
                ON CONFLICT {batch.conflict_target} DO NOTHING
                RETURNING *
            ), history AS (
                INSERT INTO credits_creditevent (credit_id, action, actor, user_id, reason, data, created_at)
                SELECT id, 'issued', %(actor)s, %(user)s, '', %(data)s::jsonb, %(now)s FROM ins
            ), {_ISSUED_EVENTS}
            SELECT {returning} FROM ins
            """,  # noqa: S608
            {
                "account": coupon.account_id,
                "coupon": coupon.pk,
                "source": batch.source,
                "multi_use": coupon.multi_use,
                "max_uses": coupon.max_uses if coupon.multi_use else None,
                "remaining_value": coupon.spendable_value,
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
                remaining_value=coupon.spendable_value,
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
    coupon_row = row(coupon)
    events_record(
        account_id=coupon.account_id,
        events=[
            NewEvent(catalogue.CREDIT_ISSUED, "credit", str(c.pk), {"credit": row(c), "coupon": coupon_row})
            for c in credits
        ],
    )
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
    if batch.batch_key is not None and connection.vendor == "postgresql":
        # One array parameter, not an IN list of a placeholder per customer (a resumed chunk has 10,000).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT customer_id, batch_row FROM credits_customercredit "
                "WHERE batch_key = %s AND customer_id = ANY(%s::uuid[])",
                [batch.batch_key, list({w.customer_id for w in rows})],
            )
            return {(customer_id,): row for customer_id, row in cursor.fetchall()}
    if batch.batch_key is not None:
        found = CustomerCredit.objects.filter(
            batch_key=batch.batch_key, customer_id__in={w.customer_id for w in rows}
        ).values_list("customer_id", "batch_row")
        return {(customer_id,): row for customer_id, row in found}
    found = CustomerCredit.objects.filter(
        rule_id=batch.rule_id, membership_id__in={w.membership_id for w in rows}
    ).values_list("membership_id", "period_start", "period_nth")
    return {tuple(key): None for key in found}


# --- bulk grants on PostgreSQL: identifiers resolved in SQL --------------------------------------

GRANT_STAGE = "bulk_grant_stage"
# What Python writes per input row (CSV): position in the chunk, input line, the raw identifier, the row's
# own expiry date and revenue (empty: the grant's), and why the row's own values are bad (empty: they are not).
GRANT_STAGE_COLUMNS = "ord, batch_row, identifier, expiry_date, revenue, problem"
UUID_PATTERN = "^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"
INT64_PATTERN = "^[0-9]{1,19}$"
BULK_STATEMENT_TIMEOUT_MS = 120_000

# identifier column -> a LATERAL FROM item giving (customer_id, matches) for the staged row `s`.
RESOLVE = {
    # One index probe per row (LATERAL ... LIMIT is never turned into a hash join over every customer);
    # a malformed identifier becomes NULL instead of failing the cast.
    "customer_id": f"""
        SELECT c.id AS customer_id, 1 AS matches FROM customers_customer c
        WHERE c.account_id = %(account)s
          AND c.id = CASE WHEN s.identifier ~* '{UUID_PATTERN}' THEN s.identifier::uuid END
        LIMIT 1""",  # noqa: S608
    "number": f"""
        SELECT c.id AS customer_id, 1 AS matches FROM customers_customer c
        WHERE c.account_id = %(account)s
          AND c.number = CASE WHEN s.identifier ~ '{INT64_PATTERN}' THEN
              CASE WHEN s.identifier::numeric <= 9223372036854775807 THEN s.identifier::bigint END END
        LIMIT 1""",  # noqa: S608
    # Case-insensitive (no index on lower(email): one scan of the account's customers per chunk, as the
    # ORM path does); an address two customers share names neither.
    "email": f"""
        SELECT CASE WHEN e.matches = 1 THEN e.customer_id END AS customer_id, e.matches FROM (
            SELECT lower(c.email) AS email, count(*) AS matches, min(c.id::text)::uuid AS customer_id
            FROM customers_customer c
            WHERE c.account_id = %(account)s AND lower(c.email) IN (SELECT lower(identifier) FROM {GRANT_STAGE})
            GROUP BY 1
        ) e WHERE e.email = lower(s.identifier)""",  # noqa: S608
}


@dataclass
class StagedResult:
    inserted: int
    rejections: list[tuple[int | None, str, str]]  # (input row, identifier, reason), in input order
    missing: list[tuple[int | None, str, uuid.UUID]]  # wanted, not inserted: (input row, identifier, customer)


def _ensure_grant_stage(cursor) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {GRANT_STAGE} (ord integer NOT NULL, batch_row bigint, "
        "identifier text, expiry_date timestamptz, revenue bigint, problem text) ON COMMIT DELETE ROWS"
    )


@transaction.atomic
def grant_staged(
    batch: Batch,
    *,
    column: str,
    account_id: str,
    csv_rows: str,
    now: datetime,
    expiry_date: datetime | None,
    revenue: int,
    dry_run: bool,
) -> StagedResult:
    """One chunk of a bulk grant (batch key) on PostgreSQL, in one transaction: COPY the staged rows
    (GRANT_STAGE_COLUMNS as CSV), then one statement resolves, judges, inserts the credits and their
    "issued" history rows, and answers only the rejected rows, the ones not inserted and the count."""
    assert batch.batch_key is not None
    coupon = batch.coupon
    if dry_run:
        write = "ins AS (SELECT NULL::uuid AS customer_id WHERE false)"
    else:
        write = f"""ins AS (
            INSERT INTO credits_customercredit (
                id, account_id, customer_id, coupon_id, membership_id, source, multi_use, max_uses, uses,
                expiry_date, revenue, revenue_recognised, remaining_value, issued_by, issued_by_user_id,
                created_at, updated_at, batch_key, batch_row, rule_id, period_start, period_nth)
            SELECT gen_random_uuid(), %(account)s, customer_id, %(coupon)s, NULL, %(source)s, %(multi_use)s,
                   %(max_uses)s, 0, coalesce(expiry_date, %(expiry)s), coalesce(revenue, %(revenue)s), 0,
                   %(remaining_value)s, %(actor)s,
                   %(user)s, %(now)s, %(now)s, %(batch_key)s, batch_row, NULL, NULL, NULL
            FROM judged WHERE reason IS NULL
            ON CONFLICT {batch.conflict_target} DO NOTHING
            RETURNING *
        ), history AS (
            INSERT INTO credits_creditevent (credit_id, action, actor, user_id, reason, data, created_at)
            SELECT id, 'issued', %(actor)s, %(user)s, '', %(data)s::jsonb, %(now)s FROM ins
        ), {_ISSUED_EVENTS}"""  # noqa: S608
    with connection.cursor() as cursor:
        _ensure_grant_stage(cursor)
        # For this transaction only: no JIT (the staging table has no statistics, so the planner's row
        # estimates are wild and made it JIT-compile the statement: seconds per chunk; the plan itself is
        # fixed by the LATERAL probes), and no wait for the commit's WAL flush. Exactly once still holds
        # (the unique constraint decides), and so does resume after the command is killed: the server keeps
        # what it committed. Only a crash of the server itself within a fraction of a second of a commit
        # could lose that chunk, whole (credits and history alike), and a re-run grants it then. And a
        # statement timeout for a chunk of up to 100,000 rows, not for an API request (DB_STATEMENT_TIMEOUT_MS,
        # 4 s, cancelled 10,000-row chunks on a loaded machine).
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('synchronous_commit', 'off', true), "
            "set_config('statement_timeout', %s, true)",
            [str(BULK_STATEMENT_TIMEOUT_MS)],
        )
        with cursor.cursor.copy(f"COPY {GRANT_STAGE} ({GRANT_STAGE_COLUMNS}) FROM STDIN (FORMAT CSV)") as copy:
            copy.write(csv_rows)
        cursor.execute(
            # Only constants are interpolated below; every value is a query parameter.
            f"""
            WITH resolved AS (
                SELECT s.ord, s.batch_row, coalesce(s.identifier, '') AS identifier, s.expiry_date, s.revenue,
                       s.problem, r.customer_id, r.matches
                FROM {GRANT_STAGE} s LEFT JOIN LATERAL ({RESOLVE[column]}) r ON true
            ), firsts AS (
                -- The first row naming a customer with good values of its own is the one granted: with
                -- the good rows sorted first, one window gives each row that first row (no self-join).
                SELECT *,
                       first_value(ord) OVER w AS first_ord,
                       first_value(batch_row) OVER w AS first_row,
                       first_value(problem IS NULL) OVER w AS first_good
                FROM resolved
                WINDOW w AS (PARTITION BY customer_id ORDER BY problem IS NOT NULL, ord)
            ), judged AS (
                SELECT ord, batch_row, identifier, customer_id, expiry_date, revenue,
                       CASE WHEN identifier = '' THEN %(no_identifier)s
                            WHEN matches > 1 THEN 'email matches ' || matches || ' customers'
                            WHEN customer_id IS NULL THEN %(unknown)s || identifier || ')'
                            WHEN first_good AND first_ord < ord
                                THEN 'duplicate of row ' || coalesce(first_row::text, 'None')
                            ELSE problem END AS reason
                FROM firsts
            ), cleared AS (
                -- Emptied by the same statement (which still reads it: one snapshot), so a chunk inside
                -- an outer transaction (ON COMMIT has not come yet) starts from an empty table.
                DELETE FROM {GRANT_STAGE}
            ), {write}
            SELECT ord, batch_row, identifier, reason, NULL::uuid FROM judged WHERE reason IS NOT NULL
            UNION ALL
            SELECT ord, batch_row, identifier, NULL, customer_id FROM judged j
            WHERE reason IS NULL AND NOT EXISTS (SELECT FROM ins WHERE ins.customer_id = j.customer_id)
            UNION ALL
            SELECT -1, count(*), NULL, NULL, NULL FROM ins
            ORDER BY 1
            """,  # noqa: S608
            {
                "account": account_id,
                "coupon": coupon.pk,
                "source": batch.source,
                "multi_use": coupon.multi_use,
                "max_uses": coupon.max_uses if coupon.multi_use else None,
                "remaining_value": coupon.spendable_value,
                "expiry": expiry_date,
                "revenue": revenue,
                "actor": batch.actor.label,
                "user": batch.actor.user_id,
                "now": now,
                "batch_key": batch.batch_key,
                "data": json.dumps({"source": batch.source}),
                "no_identifier": f"no {column}",
                "unknown": f"unknown customer ({column} ",
            },
        )
        result = StagedResult(inserted=0, rejections=[], missing=[])
        for ord_, batch_row, identifier, reason, customer_id in cursor.fetchall():
            if ord_ < 0:
                result.inserted = batch_row
            elif reason is not None:
                result.rejections.append((batch_row, identifier, reason))
            else:
                result.missing.append((batch_row, identifier, customer_id))
        return result
