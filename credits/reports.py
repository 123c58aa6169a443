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
On PostgreSQL the aggregates are computed in SQL (one scan of the account's credits, one of their uses);
elsewhere (the SQLite `make run`) the same rules run in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Account

from .models import Coupon, CreditUse, CustomerCredit

MEASURES = ("issued", "used", "expired", "revoked")

LIABILITY_SQL = """
WITH c AS MATERIALIZED (
    SELECT coupon_id, created_at, revenue, revenue - revenue_recognised AS left_over, redeemed_at, updated_at,
           revoked_at, expiry_date,
           (NOT multi_use AND uses >= 1) OR (multi_use AND max_uses IS NOT NULL AND uses >= max_uses) AS fully
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
        raw = _rows_sql(account=account, zone=zone, now=now)
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


def _figures(iv, i_n, uv, u_n, xv, x_n, rv, r_n, ov, o_n) -> Figures:
    figures = Figures()
    figures.value.update(issued=int(iv), used=int(uv), expired=int(xv), revoked=int(rv), outstanding=int(ov))
    figures.count.update(issued=int(i_n), used=int(u_n), expired=int(x_n), revoked=int(r_n), outstanding=int(o_n))
    return figures


# The report scans every credit of the account (linear in their number): it gets a longer statement
# timeout than a request's default (DB_STATEMENT_TIMEOUT_MS).
REPORT_STATEMENT_TIMEOUT_MS = 120_000


def _rows_sql(*, account: Account, zone: str, now: datetime):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {REPORT_STATEMENT_TIMEOUT_MS}")
        cursor.execute(LIABILITY_SQL, {"account": account.pk, "tz": zone, "now": now})
        return [(coupon_id, month, _figures(*values)) for coupon_id, month, *values in cursor.fetchall()]


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
        "coupon_id", "created_at", "revenue", "revenue_recognised", "multi_use", "max_uses", "uses",
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
    out = []
    running: dict = {}
    for (coupon_id, month), (iv, i_n, uv, u_n, xv, x_n, rv, r_n) in sorted(
        cells.items(), key=lambda item: (item[0][1], str(item[0][0]))
    ):
        ov, o_n = running.get(coupon_id, (0, 0))
        ov, o_n = ov + iv - uv - xv - rv, o_n + i_n - u_n - x_n - r_n
        running[coupon_id] = (ov, o_n)
        out.append((coupon_id, month, _figures(iv, i_n, uv, u_n, xv, x_n, rv, r_n, ov, o_n)))
    return out
