"""The one place a use of a credit is written: the use row, the credit's counters and the "used" history
event. Every redeem path goes through here: the credits family's `POST .../redeem`, the benefits
family's `POST .../use` and the admin's redeem action (all three through credits.services).

On PostgreSQL the whole write is one SQL statement (`_REDEEM_SQL`, `_BENEFIT_SQL`): a data-modifying CTE
that locks the credit row (`FOR UPDATE`), checks that it is usable on the row's newest version, inserts
the use (`ON CONFLICT DO NOTHING` on `credit_use_reference_once`, so a reference already recorded is
never recorded twice), adds the use to the credit's counters and appends the history event. A redeem
then costs BEGIN, this statement and COMMIT, and no ORM query is compiled for it: the SQL text is built
once per process from the models' table and column names.

Why this keeps every guarantee of the locked ORM path (`select_for_update`, then three writes):
- In READ COMMITTED, `SELECT ... FOR UPDATE` waits for a concurrent holder of the row lock, then re-checks
  its WHERE clause on the row's newest version and returns that version. So the usability check and the
  use's revenue are computed from the newest counters, exactly as after the ORM path's locked read;
  simultaneous redeems queue on the row, and the loser of the last use finds the credit used up.
- The UPDATE in the same statement follows the row to that newest version (which this transaction has
  locked) and adds to its counters (`uses = uses + 1`), so no update is lost.
- The CHECK constraints (`credit_uses_within_limit`, `credit_revenue_recognised_bounded`, ...), the
  unique `credit_use_reference_once`, the foreign keys and the append-only triggers apply to these rows
  as to any others.
- Tenant scope: the credit is found by account (and customer) in the statement itself.

When the statement writes nothing (no such credit, not usable, a reference already used, no usable
credit for a benefit key, a monetary credit, whose use spends an amount), these functions return None
and the caller runs the locked ORM path, which then holds the lock (taken by the statement) and says
why in the family's error, writes a monetary credit's use, or answers a known reference with the credit
unchanged (its check runs in a new statement, so it also sees a use committed by a concurrent request
just before this one got the lock). Failures thus cost a few more statements; successes never do
(monetary credits aside).

On other databases (SQLite, `make run`) these functions return None at once and the ORM path does all
of it, writing through `record_use` below: the same rows, the same rules, serialised by SQLite's
database lock (IMMEDIATE transactions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache

from django.db import connection

from config.kernel.actors import Actor
from customers.models import Customer
from events import catalogue
from events.models import Event
from events.services import event_record, row

from ..models import Coupon, CreditEvent, CreditUse, CustomerCredit

# False sends every redeem through the ORM path even on PostgreSQL (the tests use it to check that both
# paths write the same rows).
FAST_PATH = True


def _fast() -> bool:
    return FAST_PATH and connection.vendor == "postgresql"


# --- the ORM path's write (SQLite, and the PostgreSQL fallback) --------------------------------------


def record_use(
    credit: CustomerCredit,
    *,
    revenue: int,
    actor: Actor,
    now: datetime,
    reference: str | None = None,
    note: str = "",
    event_type: str = catalogue.CREDIT_REDEEMED,
    amount: int | None = None,
) -> CreditUse:
    """Write one use of a credit that the caller has locked in its transaction and found usable, and its
    event (`credit.redeemed`, or `benefit.used` for the benefits family). `amount`: what a use of a
    monetary credit spends of its remaining value (None for any other credit)."""
    use = CreditUse.objects.create(
        credit=credit,
        used_at=now,
        reference=reference,
        note=note or "",
        revenue=revenue,
        amount=amount,
        used_by=actor.label,
        used_by_user_id=actor.user_id,
        used_by_client_id=actor.api_client_id,
    )
    credit.uses += 1
    credit.revenue_recognised += revenue
    if amount is not None:
        credit.remaining_value -= amount
    if credit.fully_used:
        credit.redeemed_at = now
    credit.updated_at = now
    credit.save(update_fields=["uses", "revenue_recognised", "remaining_value", "redeemed_at", "updated_at"])
    CreditEvent.objects.create(
        credit=credit,
        action=CreditEvent.Action.USED,
        actor=actor.label,
        user_id=actor.user_id,
        api_client_id=actor.api_client_id,
        use=use,
        reason="",
        data={"reference": reference, "revenue": revenue, **({} if amount is None else {"amount": amount})},
        created_at=now,
    )
    credit_event_record(credit, event_type, use=use)
    return use


def credit_event_record(
    credit: CustomerCredit, event_type: str, *, use: CreditUse | None = None, now=None, extra: dict | None = None
) -> None:
    """The ledger event of a change to `credit` (events.Event), in the change's transaction: the rows as
    written, as the one-statement path below writes them. `now` dates it when the change's time is not the
    moment of writing (a scheduled scan's clock); `extra` is added to the data as it is (JSON values)."""
    data = {"credit": row(credit), "coupon": row(credit.coupon)}
    if use is not None:
        data["use"] = row(use)
    data.update(extra or {})
    event_record(
        account_id=credit.account_id, type=event_type, resource_type="credit", resource_id=credit.pk, data=data, now=now
    )


# --- the one-statement path (PostgreSQL) ---------------------------------------------------------------


def _columns(model) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]


# The credit is usable (CreditQuerySet.usable, status "active") and the revenue of its next use
# (services._use_revenue): the same rules in SQL, applied to the locked row. `{c}` is the row's alias.
# A monetary credit (remaining_value set) is usable while it has value left; the statements lock it like
# any other (so the benefits family's burn-down order is the locked path's) but write no use of it: its
# use spends an amount, which the locked path (services.use_locked_credit) works out.
_USABLE = (
    "{c}.revoked_at IS NULL"
    " AND ({c}.remaining_value > 0 OR ({c}.remaining_value IS NULL"
    " AND NOT ((NOT {c}.multi_use AND {c}.uses >= 1)"
    " OR ({c}.multi_use AND {c}.max_uses IS NOT NULL AND {c}.uses >= {c}.max_uses))))"
    " AND ({c}.expiry_date IS NULL OR {c}.expiry_date > %(now)s)"
)
_USE_REVENUE = (
    "CASE WHEN NOT {c}.multi_use OR {c}.max_uses IS NULL OR {c}.uses + 1 >= {c}.max_uses"
    " THEN {c}.revenue - {c}.revenue_recognised ELSE {c}.revenue / {c}.max_uses END"
)
_FILLS_LIMIT = "(NOT {c}.multi_use OR ({c}.max_uses IS NOT NULL AND {c}.uses + 1 >= {c}.max_uses))"


def _typed(name: str, model, field_name: str) -> str:
    """The parameter `name`, cast to the column type of `model.field_name`. The statement is prepared
    with its parameters bound on the server (connection.prepared_cursor), where a parameter in a SELECT list
    would otherwise be taken as text."""
    field = model._meta.get_field(field_name)
    return f"CAST(%({name})s AS {field.cast_db_type(connection)})"


def _write_ctes(locked: str, event_type: str) -> str:
    """The CTEs after `locked` (one usable, locked credit row with its `use_revenue`): insert the use
    (none for a monetary credit, see _USABLE), update the credit, append the credit's history event and
    write the ledger event `event_type` with the rows as written (events.services.row gives the same for
    the ORM path), timed by the database clock at the write (`clock_timestamp()`, which orders it among
    the account's events still without a number).
    The event's sequence number is given after the commit, by the account's next numbering (events.models):
    taking it here would hold the account's counter row to the commit and queue every redeem of the account
    behind each other's WAL flush."""
    credit, use, event = CustomerCredit._meta.db_table, CreditUse._meta.db_table, CreditEvent._meta.db_table
    ledger, coupon = Event._meta.db_table, Coupon._meta.db_table
    returning = ", ".join(f"c.{column}" for column in _columns(CustomerCredit))
    values = ", ".join(
        [
            _typed("use_id", CreditUse, "id"),
            "locked.id",
            _typed("now", CreditUse, "used_at"),
            _typed("reference", CreditUse, "reference"),
            _typed("note", CreditUse, "note"),
            "locked.use_revenue",
            _typed("actor", CreditUse, "used_by"),
            _typed("user", CreditUse, "used_by_user"),
            _typed("client", CreditUse, "used_by_client"),
        ]
    )
    return f"""{locked},
use AS (
    INSERT INTO {use} (id, credit_id, used_at, reference, note, revenue, used_by, used_by_user_id, used_by_client_id)
    SELECT {values}
      FROM locked
     WHERE locked.remaining_value IS NULL
    ON CONFLICT (credit_id, reference) WHERE reference IS NOT NULL AND reversed_at IS NULL DO NOTHING
    RETURNING *
),
credit AS (
    UPDATE {credit} AS c
       SET uses = c.uses + 1,
           revenue_recognised = c.revenue_recognised + use.revenue,
           redeemed_at = CASE WHEN {_FILLS_LIMIT.format(c="c")} THEN use.used_at ELSE c.redeemed_at END,
           updated_at = use.used_at
      FROM use
     WHERE c.id = use.credit_id
    RETURNING {returning}
),
event AS (
    INSERT INTO {event} (credit_id, action, actor, user_id, api_client_id, use_id, reason, data, created_at)
    SELECT use.credit_id, '{CreditEvent.Action.USED.value}', use.used_by, use.used_by_user_id,
           use.used_by_client_id, use.id, '', jsonb_build_object('reference', use.reference, 'revenue', use.revenue),
           use.used_at
      FROM use
),
ledger_event AS (
    INSERT INTO {ledger} (id, account_id, sequence, type, resource_type, resource_id, data, created_at)
    SELECT {_typed("event_id", Event, "id")}, credit.account_id, NULL, '{event_type}', 'credit',
           CAST(credit.id AS text),
           jsonb_build_object('credit', to_jsonb(credit), 'coupon', to_jsonb(p), 'use', to_jsonb(use)),
           clock_timestamp()
      FROM credit, use, {coupon} AS p
     WHERE p.id = credit.coupon_id
)"""  # noqa: S608 (table and column names from the models; every value is a parameter)


@cache
def _redeem_sql() -> str:
    credit, coupon = CustomerCredit._meta.db_table, Coupon._meta.db_table
    locked = f"""WITH locked AS (
    SELECT k.id, {_USE_REVENUE.format(c="k")} AS use_revenue, k.remaining_value
      FROM {credit} AS k
     WHERE k.account_id = %(account)s AND k.customer_id = %(customer)s AND k.id = %(credit)s
       AND {_USABLE.format(c="k")}
       FOR UPDATE
)"""  # noqa: S608
    coupon_columns = ", ".join(f"p.{column}" for column in _columns(Coupon))
    return f"""{_write_ctes(locked, catalogue.CREDIT_REDEEMED)}
SELECT credit.*, {coupon_columns} FROM credit JOIN {coupon} AS p ON p.id = credit.coupon_id"""  # noqa: S608


# The customer of a benefit use is found by one of these columns (credits.api.benefits.customer_lookup).
_CUSTOMER_COLUMNS = {"number": "number", "card_number": "card_number", "barcode": "barcode"}


@cache
def _benefit_sql(lookup_field: str) -> str:
    credit, coupon = CustomerCredit._meta.db_table, Coupon._meta.db_table
    customer = Customer._meta.db_table
    column = _CUSTOMER_COLUMNS[lookup_field]
    # Burn-down order: soonest expiry first, no expiry last, then oldest issued, then id (as
    # services.benefit_use). LIMIT sits above the row lock: a candidate that a concurrent use made
    # unusable is skipped on its newest version and the next one is locked instead.
    locked = f"""WITH locked AS (
    SELECT k.id, {_USE_REVENUE.format(c="k")} AS use_revenue, k.remaining_value
      FROM {credit} AS k
      JOIN {coupon} AS p ON p.id = k.coupon_id
      JOIN {customer} AS u ON u.id = k.customer_id
     WHERE k.account_id = %(account)s AND p.benefit_key = %(benefit_key)s AND u.{column} = %(customer)s
       AND {_USABLE.format(c="k")}
     ORDER BY k.expiry_date ASC NULLS LAST, k.created_at ASC, k.id ASC
     LIMIT 1
       FOR UPDATE OF k
)"""  # noqa: S608
    return f"""{_write_ctes(locked, catalogue.BENEFIT_USED)}
SELECT use.id, use.revenue, credit.id FROM use, credit"""  # noqa: S608


def _params(*, actor: Actor, now: datetime, reference: str | None, note: str) -> dict:
    return {
        "use_id": uuid.uuid4(),
        "event_id": uuid.uuid4(),
        "now": now,
        "reference": reference,
        "note": note or "",
        "actor": actor.label,
        "user": actor.user_id,
        "client": actor.api_client_id,
    }


def try_redeem(
    *, account_id: str, customer_id, credit_id, actor: Actor, now: datetime, reference: str | None, note: str
) -> CustomerCredit | None:
    """Use the credit once, in one statement; the credit as it is now (its coupon attached), or None
    when nothing was written (see the module's docstring). Call inside a transaction."""
    if not _fast():
        return None
    params = _params(actor=actor, now=now, reference=reference, note=note)
    params.update(account=account_id, customer=customer_id, credit=credit_id)
    with connection.prepared_cursor() as cursor:
        cursor.execute(_redeem_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_field_names(CustomerCredit))
    credit = CustomerCredit.from_db(connection.alias, _field_names(CustomerCredit), row[:split])
    credit.coupon = Coupon.from_db(connection.alias, _field_names(Coupon), row[split:])
    return credit


def try_use_benefit(
    *, account_id: str, customer_lookup: dict, benefit_key: str, actor: Actor, now: datetime
) -> CreditUse | None:
    """Use the customer's first usable credit carrying `benefit_key`, in one statement; the use, or None
    when nothing was written (no usable credit, or no such customer). Call inside a transaction."""
    if not _fast() or len(customer_lookup) != 1:
        return None
    [(field, value)] = customer_lookup.items()
    if field not in _CUSTOMER_COLUMNS:
        return None
    params = _params(actor=actor, now=now, reference=None, note="")
    params.update(account=account_id, benefit_key=benefit_key, customer=value)
    with connection.prepared_cursor() as cursor:
        cursor.execute(_benefit_sql(field), params)
        row = cursor.fetchone()
    if row is None:
        return None
    use_id, revenue, credit_id = row
    return CreditUse(
        id=use_id,
        credit_id=credit_id,
        used_at=now,
        reference=None,
        note="",
        revenue=revenue,
        used_by=actor.label,
        used_by_user_id=actor.user_id,
        used_by_client_id=actor.api_client_id,
    )


@cache
def _field_names(model) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)
