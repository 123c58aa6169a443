"""The liability report: per coupon and per month (in the account's time zone), the value and count of
credits issued, used (revenue recognised), expired unused, revoked, and outstanding at the month's end.
Values are the credits' revenue in the account's currency, in minor units.

Every credit ends up in exactly one of four places, so the totals reconcile:

- used: its uses' revenue, at each use (a reversed use counts negative in the month it was reversed);
  a credit counts as used (count) when it is fully used;
- revoked: what was left unrecognised when it was revoked (revoked before it expired, or it had no
  expiry);
- expired: what was left unrecognised when it expired (not fully used, and not revoked before expiry);
- outstanding: the rest, carried month to month.

issued = used + expired + revoked + outstanding, in value and in count, for every coupon and in total.
Outstanding is the running sum of the other four, so each (coupon, month) row only needs that month's
flows.

On PostgreSQL the flows are aggregated in SQL. The flows of closed months are kept in a rollup
(LiabilityMonth, per account, coupon and month, with its state in LiabilityRollup), filled by
credits.services.liability (`manage.py liability_rollup` from cron, and the staff page before it reads the
report, for any closed month missing); only the months
since the last closed one are computed live, with range scans of the event times (created_at, the uses'
used_at and reversed_at, revoked_at, expiry_date). So a view costs what the open month holds, not what the
account ever issued. A month is closed once it ended more than CLOSE_MARGIN ago (a transaction that
wrote an event of that month has committed by then).

A closed month's figures do not change when later events happen, with one exception that the rules
above imply: reversing a use re-attributes the credit (it is no longer fully used, so its used count
leaves the month it was filled in; if it had expired, the revenue given back is expired value of its
expiry month). The rollup sees every reversal (the uses' reversed_at is indexed) and recomputes the
months from the reversed use's month on. Credits written straight into the database with a past
created_at (an import) are not seen: run `manage.py liability_rollup --rebuild` after such an import.
A fully used credit without redeemed_at (never written by credits.services) counts in the month of its
updated_at only in a rebuild.

Elsewhere (the SQLite `make run`) the same rules run in Python over every credit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, connections, transaction
from django.utils import timezone

from config.replicas import read_alias
from customers.models import Account

from .models import Coupon, CreditUse, CustomerCredit, LiabilityMonth, LiabilityRollup

MEASURES = ("issued", "used", "expired", "revoked")

LIABILITY_SQL = """
WITH c AS MATERIALIZED (
    SELECT coupon_id, created_at, revenue, revenue - revenue_recognised AS left_over, redeemed_at, updated_at,
           revoked_at, expiry_date,
           COALESCE(remaining_value = 0,
                    (NOT multi_use AND uses >= 1) OR (multi_use AND max_uses IS NOT NULL AND uses >= max_uses)) AS fully
    FROM credits_customercredit WHERE account_id = %(account)s
), ev AS (
    SELECT coupon_id, created_at AS at, revenue AS iv, 1 AS i_n, 0::bigint AS uv, 0 AS u_n,
           0::bigint AS xv, 0 AS x_n, 0::bigint AS rv, 0 AS r_n
    FROM c
    UNION ALL
    SELECT coupon_id, COALESCE(redeemed_at, updated_at), 0, 0, 0, 1, 0, 0, 0, 0 FROM c WHERE fully
    UNION ALL
    SELECT coupon_id, revoked_at, 0, 0, 0, 0, 0, 0, left_over, 1 FROM c
    WHERE revoked_at IS NOT NULL AND (expiry_date IS NULL OR revoked_at < expiry_date)
    UNION ALL
    SELECT coupon_id, expiry_date, 0, 0, 0, 0, left_over, 1, 0, 0 FROM c
    WHERE expiry_date <= %(now)s AND NOT fully AND (revoked_at IS NULL OR revoked_at >= expiry_date)
    UNION ALL
    SELECT k.coupon_id, u.used_at, 0, 0, u.revenue, 0, 0, 0, 0, 0
    FROM credits_credituse u JOIN credits_customercredit k ON k.id = u.credit_id
    WHERE k.account_id = %(account)s
    UNION ALL
    SELECT k.coupon_id, u.reversed_at, 0, 0, -u.revenue, 0, 0, 0, 0, 0
    FROM credits_credituse u JOIN credits_customercredit k ON k.id = u.credit_id
    WHERE k.account_id = %(account)s AND u.reversed_at IS NOT NULL
), m AS (
    SELECT coupon_id, date_trunc('month', at AT TIME ZONE %(tz)s)::date AS month,
           SUM(iv) AS iv, SUM(i_n) AS i_n, SUM(uv) AS uv, SUM(u_n) AS u_n,
           SUM(xv) AS xv, SUM(x_n) AS x_n, SUM(rv) AS rv, SUM(r_n) AS r_n
    FROM ev GROUP BY 1, 2
)
SELECT coupon_id, month, iv, i_n, uv, u_n, xv, x_n, rv, r_n,
       SUM(iv - uv - xv - rv) OVER w AS ov, SUM(i_n - u_n - x_n - r_n) OVER w AS o_n
FROM m
WINDOW w AS (PARTITION BY coupon_id ORDER BY month)
ORDER BY month, coupon_id
"""


# Fully used (CreditQuerySet.fully_used_q): a monetary credit with nothing left, any other by its use count.
_FULLY = (
    "COALESCE(k.remaining_value = 0,"
    " (NOT k.multi_use AND k.uses >= 1) OR (k.multi_use AND k.max_uses IS NOT NULL AND k.uses >= k.max_uses))"
)

# The flows (not outstanding) of the events with a time in [lo, hi), per coupon and month: the same rules
# as LIABILITY_SQL, each event found by a range scan of its own time column. The fully-used count is found
# through the use that filled the credit (redeemed_at is that use's used_at). With %(scan)s (a rebuild over
# every month) a fully used credit without redeemed_at counts at its updated_at, as in LIABILITY_SQL.
FLOWS_SQL = f"""
WITH ev AS (
    SELECT k.coupon_id, k.created_at AS at, k.revenue AS iv, 1 AS i_n, 0::bigint AS uv, 0 AS u_n,
           0::bigint AS xv, 0 AS x_n, 0::bigint AS rv, 0 AS r_n
    FROM credits_customercredit k
    WHERE k.account_id = %(account)s AND k.created_at >= %(lo)s AND k.created_at < %(hi)s
    UNION ALL
    SELECT k.coupon_id, k.redeemed_at, 0, 0, 0, 1, 0, 0, 0, 0
    FROM credits_customercredit k
    WHERE k.account_id = %(account)s AND {_FULLY} AND k.redeemed_at >= %(lo)s AND k.redeemed_at < %(hi)s
      AND k.id IN (SELECT f.credit_id FROM credits_credituse f WHERE f.used_at >= %(lo)s AND f.used_at < %(hi)s)
    UNION ALL
    SELECT k.coupon_id, k.updated_at, 0, 0, 0, 1, 0, 0, 0, 0
    FROM credits_customercredit k
    WHERE %(scan)s AND k.account_id = %(account)s AND k.redeemed_at IS NULL AND {_FULLY}
      AND k.updated_at >= %(lo)s AND k.updated_at < %(hi)s
    UNION ALL
    SELECT k.coupon_id, k.revoked_at, 0, 0, 0, 0, 0, 0, k.revenue - k.revenue_recognised, 1
    FROM credits_customercredit k
    WHERE k.account_id = %(account)s AND k.revoked_at >= %(lo)s AND k.revoked_at < %(hi)s
      AND (k.expiry_date IS NULL OR k.revoked_at < k.expiry_date)
    UNION ALL
    SELECT k.coupon_id, k.expiry_date, 0, 0, 0, 0, k.revenue - k.revenue_recognised, 1, 0, 0
    FROM credits_customercredit k
    WHERE k.account_id = %(account)s AND k.expiry_date >= %(lo)s AND k.expiry_date < %(hi)s
      AND k.expiry_date <= %(now)s AND NOT {_FULLY} AND (k.revoked_at IS NULL OR k.revoked_at >= k.expiry_date)
    UNION ALL
    SELECT k.coupon_id, u.used_at, 0, 0, u.revenue, 0, 0, 0, 0, 0
    FROM credits_credituse u JOIN credits_customercredit k ON k.id = u.credit_id
    WHERE k.account_id = %(account)s AND u.used_at >= %(lo)s AND u.used_at < %(hi)s
    UNION ALL
    SELECT k.coupon_id, u.reversed_at, 0, 0, -u.revenue, 0, 0, 0, 0, 0
    FROM credits_credituse u JOIN credits_customercredit k ON k.id = u.credit_id
    WHERE k.account_id = %(account)s AND u.reversed_at >= %(lo)s AND u.reversed_at < %(hi)s
)
SELECT coupon_id, date_trunc('month', at AT TIME ZONE %(tz)s)::date AS month,
       SUM(iv), SUM(i_n), SUM(uv), SUM(u_n), SUM(xv), SUM(x_n), SUM(rv), SUM(r_n)
FROM ev GROUP BY 1, 2
"""  # noqa: S608 (no value in the f-string; every value is a parameter)

# A month is closed (rolled up) once it ended more than this long ago: any transaction that wrote an event
# of it has committed by then (requests and commands run far shorter).
CLOSE_MARGIN = timedelta(minutes=15)

FLOW_FIELDS = (
    "issued_value", "issued_count", "used_value", "used_count",
    "expired_value", "expired_count", "revoked_value", "revoked_count",
)  # fmt: skip


@dataclass
class Figures:
    value: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*MEASURES, "outstanding"), 0))
    count: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*MEASURES, "outstanding"), 0))

    def add(self, other: Figures, *, outstanding: bool = True) -> None:
        for name in MEASURES + (("outstanding",) if outstanding else ()):
            self.value[name] += other.value[name]
            self.count[name] += other.count[name]

    @property
    def reconciles(self) -> bool:
        return all(
            figures["issued"] == figures["used"] + figures["expired"] + figures["revoked"] + figures["outstanding"]
            for figures in (self.value, self.count)
        )


@dataclass
class Row:
    month: date
    coupon_id: uuid.UUID
    coupon: str
    figures: Figures


@dataclass
class Report:
    account: Account
    currency: str
    zone: str
    as_of: datetime
    rows: list[Row]
    totals: Figures
    months: list[date]
    monthly: list[Figures]  # every month from the first to the last, all coupons; outstanding carried

    @property
    def reconciles(self) -> bool:
        return self.totals.reconciles


def liability_report(*, account: Account, now: datetime | None = None) -> Report:
    now = now or timezone.now()
    zone = account.timezone or "UTC"
    if connection.vendor == "postgresql":
        raw = _rows_rollup(account=account, zone=zone, now=now)
    else:
        raw = _rows_python(account=account, zone=zone, now=now)
    names = dict(Coupon.objects.filter(account=account).values_list("id", "name"))
    rows = [Row(month=month, coupon_id=cid, coupon=names.get(cid, str(cid)), figures=f) for cid, month, f in raw]
    rows.sort(key=lambda row: (row.month, row.coupon, str(row.coupon_id)))

    totals = Figures()
    last_outstanding: dict[uuid.UUID, Figures] = {}
    for row in rows:
        totals.add(row.figures, outstanding=False)
        last_outstanding[row.coupon_id] = row.figures
    for figures in last_outstanding.values():
        totals.value["outstanding"] += figures.value["outstanding"]
        totals.count["outstanding"] += figures.count["outstanding"]

    months = _month_range(rows[0].month, rows[-1].month) if rows else []
    monthly = []
    carried: dict[uuid.UUID, Figures] = {}
    by_month: dict[date, list[Row]] = {}
    for row in rows:
        by_month.setdefault(row.month, []).append(row)
    for month in months:
        figures = Figures()
        for row in by_month.get(month, []):
            figures.add(row.figures, outstanding=False)
            carried[row.coupon_id] = row.figures
        figures.value["outstanding"] = sum(f.value["outstanding"] for f in carried.values())
        figures.count["outstanding"] = sum(f.count["outstanding"] for f in carried.values())
        monthly.append(figures)
    return Report(
        account=account,
        currency=account.currency,
        zone=zone,
        as_of=now,
        rows=rows,
        totals=totals,
        months=months,
        monthly=monthly,
    )


def _month_range(first: date, last: date) -> list[date]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _figures(flows: Sequence[int], outstanding: Sequence[int]) -> Figures:
    """A month's figures from its eight flows, in FLOW_FIELDS' order (value then count of each measure), and
    the outstanding (value, count) at its end."""
    figures = Figures()
    for index, measure in enumerate(MEASURES):
        figures.value[measure] = int(flows[2 * index])
        figures.count[measure] = int(flows[2 * index + 1])
    figures.value["outstanding"], figures.count["outstanding"] = int(outstanding[0]), int(outstanding[1])
    return figures


# A rebuild of the rollup (and LIABILITY_SQL, the full live scan kept as the reference the tests compare
# with) reads every credit of the account, linear in their number: they get a longer statement timeout than
# a request's default (DB_STATEMENT_TIMEOUT_MS).
REPORT_STATEMENT_TIMEOUT_MS = 120_000


def _rows_sql(*, account: Account, zone: str, now: datetime):
    """Every month live, in one scan of the account's credits and uses (the reference for the rollup)."""
    alias = read_alias()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {REPORT_STATEMENT_TIMEOUT_MS}")
        cursor.execute(LIABILITY_SQL, {"account": account.pk, "tz": zone, "now": now})
        return [(coupon_id, month, _figures(values[:8], values[8:])) for coupon_id, month, *values in cursor.fetchall()]


def _rows_python(*, account: Account, zone: str, now: datetime):
    """The same rules as LIABILITY_SQL, row by row (SQLite, and a cross-check in the tests)."""
    tz = ZoneInfo(zone)
    cells: dict[tuple, list[int]] = {}

    def add(coupon_id, at, index, value, count):
        moment = at.astimezone(tz)
        cell = cells.setdefault((coupon_id, date(moment.year, moment.month, 1)), [0] * 8)
        cell[index * 2] += value
        cell[index * 2 + 1] += count

    credits = CustomerCredit.objects.filter(account=account).only(
        "coupon_id", "created_at", "revenue", "revenue_recognised", "multi_use", "max_uses", "uses", "remaining_value",
        "redeemed_at", "updated_at", "revoked_at", "expiry_date",
    )  # fmt: skip
    for c in credits.iterator(chunk_size=2000):
        left_over = c.revenue - c.revenue_recognised
        add(c.coupon_id, c.created_at, 0, c.revenue, 1)
        if c.fully_used:
            add(c.coupon_id, c.redeemed_at or c.updated_at, 1, 0, 1)
        if c.revoked_at is not None and (c.expiry_date is None or c.revoked_at < c.expiry_date):
            add(c.coupon_id, c.revoked_at, 3, left_over, 1)
        if (
            c.expiry_date is not None
            and c.expiry_date <= now
            and not c.fully_used
            and (c.revoked_at is None or c.revoked_at >= c.expiry_date)
        ):
            add(c.coupon_id, c.expiry_date, 2, left_over, 1)
    uses = CreditUse.objects.filter(credit__account=account).values_list(
        "credit__coupon_id", "used_at", "revenue", "reversed_at"
    )
    for coupon_id, used_at, revenue, reversed_at in uses.iterator(chunk_size=2000):
        add(coupon_id, used_at, 1, revenue, 0)
        if reversed_at is not None:
            add(coupon_id, reversed_at, 1, -revenue, 0)
    return _running(cells)


def month_start(month: date, zone: str) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=ZoneInfo(zone))


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def flows_between(
    cursor, *, account: Account, zone: str, now: datetime, lo: datetime | None, hi: datetime | None, scan=False
):
    """{(coupon_id, month): [8 flows]} of the events in [lo, hi) (None: unbounded)."""
    cursor.execute(
        FLOWS_SQL,
        {
            "account": account.pk,
            "tz": zone,
            "now": now,
            "lo": lo if lo is not None else "-infinity",
            "hi": hi if hi is not None else "infinity",
            "scan": scan,
        },
    )
    return {(coupon_id, month): [int(v) for v in values] for coupon_id, month, *values in cursor.fetchall()}


def _running(flows: dict[tuple, list[int]]):
    """Rows (coupon_id, month, Figures) in month order, outstanding carried per coupon."""
    out = []
    outstanding: dict[uuid.UUID, tuple[int, int]] = {}
    for (coupon_id, month), flows_of_month in sorted(flows.items(), key=lambda item: (item[0][1], str(item[0][0]))):
        issued, used, expired, revoked = (flows_of_month[i : i + 2] for i in range(0, 8, 2))
        value, count = outstanding.get(coupon_id, (0, 0))
        value += issued[0] - used[0] - expired[0] - revoked[0]
        count += issued[1] - used[1] - expired[1] - revoked[1]
        outstanding[coupon_id] = (value, count)
        out.append((coupon_id, month, _figures(flows_of_month, (value, count))))
    return out


def _rows_rollup(*, account: Account, zone: str, now: datetime):
    """The closed months from the rollup as last refreshed (credits.services.liability), the rest live; all
    of it live when the account has no usable rollup yet."""
    alias = read_alias()  # a replica, in a request that may read from one (config/replicas.py)
    state = LiabilityRollup.objects.using(alias).filter(account=account).first()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {REPORT_STATEMENT_TIMEOUT_MS}")
        if state is None or state.zone != zone or state.closed_through is None:
            return _running(flows_between(cursor, account=account, zone=zone, now=now, lo=None, hi=None, scan=True))
        tz = ZoneInfo(zone)
        edge = (now - CLOSE_MARGIN).astimezone(tz)
        through = min(state.closed_through, date(edge.year, edge.month, 1))
        flows = {
            (coupon_id, month): list(values)
            for coupon_id, month, *values in LiabilityMonth.objects.using(alias)
            .filter(account=account, month__lt=through)
            .values_list("coupon_id", "month", *FLOW_FIELDS)
            .iterator()
        }
        flows.update(flows_between(cursor, account=account, zone=zone, now=now, lo=month_start(through, zone), hi=None))
    return _running(flows)
