"""The liability report's row of the harness: p50 of the report's aggregate (credits.reports, the SQL
the staff page runs: closed months from the rollup, the open month live) with 10,000 and then 1,000,000
credits in one account, grown in place. After each growth (an import of past-dated credits) the rollup is
rebuilt with `manage.py liability_rollup --rebuild`, timed in its own row.

The credits are spread over 12 coupons and 24 months; about 40% have a use (5% of those reversed),
10% are revoked, 60% have an expiry (half of those in the past). Each size is timed in a separate
process (Django set up once, then BENCH_LIABILITY_REQUESTS sequential calls after one warm-up).

`python -m bench.liability` alone runs just this row on the scratch database (BENCH_LIABILITY_SIZES,
default 10000,1000000; the lead runs the 1M size on a quiet machine)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid

from bench.run import ACCOUNT, ROOT, Bench, Row, log

SIZES = [int(s) for s in os.environ.get("BENCH_LIABILITY_SIZES", "10000,1000000").split(",")]
REQUESTS = int(os.environ.get("BENCH_LIABILITY_REQUESTS", "20"))
COUPONS = 12
CUSTOMERS = 10_000

MEASURE = """
import json, os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup()
from customers.models import Account
from credits.reports import liability_report
from credits.services.liability import liability_rollup_refresh
account = Account.objects.get(pk=sys.argv[1])
report = liability_report(account=account)
assert report.reconciles, "the report does not reconcile"
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    liability_rollup_refresh(account=account)  # as the staff page does before it reads the report
    liability_report(account=account)
    times.append(time.perf_counter() - t)
print(json.dumps({"times": times, "rows": len(report.rows), "issued": report.totals.count["issued"]}))
"""


def _coupons(bench: Bench) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(COUPONS)]
    with bench.connect() as conn:
        for n, coupon_id in enumerate(ids):
            conn.execute(
                "INSERT INTO credits_coupon (id, account_id, name, description, kind, offering, multi_use, "
                "default_revenue, active, created_at, updated_at) "
                "VALUES (%s, %s, %s, '', 'offering', 'Treatment', false, 4500, true, now(), now())",
                [coupon_id, ACCOUNT, f"Liability {n:02d}"],
            )
    return ids


def _grow(bench: Bench, coupons: list[str], start: int, stop: int) -> None:
    """Credits number start+1..stop, with their uses; deterministic in the credit's number."""
    with bench.connect() as conn:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS bench_coupons (n int, id uuid)")
        conn.execute("TRUNCATE bench_coupons")
        for n, coupon_id in enumerate(coupons):
            conn.execute("INSERT INTO bench_coupons VALUES (%s, %s)", [n, coupon_id])
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS bench_customers (n int, id uuid)")
        conn.execute("TRUNCATE bench_customers")
        conn.execute(
            "INSERT INTO bench_customers SELECT row_number() OVER (ORDER BY number) - 1, id "
            "FROM customers_customer WHERE account_id = %s ORDER BY number LIMIT %s",
            [ACCOUNT, CUSTOMERS],
        )
        customers = conn.execute("SELECT count(*) FROM bench_customers").fetchone()[0]
        conn.execute(
            """
            INSERT INTO credits_customercredit (id, account_id, customer_id, coupon_id, source, multi_use, uses,
                expiry_date, revenue, revenue_recognised, redeemed_at, revoked_at, revoke_reason, revoked_by,
                issued_by, created_at, updated_at)
            SELECT gen_random_uuid(), %(account)s, cu.id, co.id, 'bulk', false,
                   CASE WHEN g %% 10 < 4 AND g %% 10 <> 0 THEN 1 ELSE 0 END,
                   CASE WHEN g %% 5 < 3 THEN t.created + interval '1 day' * (30 + g %% 400) END,
                   4500,
                   CASE WHEN g %% 10 < 4 AND g %% 10 <> 0 THEN 4500 ELSE 0 END,
                   CASE WHEN g %% 10 < 4 AND g %% 10 <> 0 THEN t.created + interval '3 days' END,
                   CASE WHEN g %% 10 = 0 THEN t.created + interval '2 days' END,
                   CASE WHEN g %% 10 = 0 THEN 'bench' END,
                   CASE WHEN g %% 10 = 0 THEN 'bench' END,
                   'bench', t.created, t.created
            FROM generate_series(%(start)s::bigint + 1, %(stop)s::bigint) g
            CROSS JOIN LATERAL (
                SELECT now() - interval '730 days' + interval '1 minute' * ((g * 7919) %% (720 * 24 * 60)) AS created
            ) t
            JOIN bench_coupons co ON co.n = g %% %(coupons)s
            JOIN bench_customers cu ON cu.n = g %% %(customers)s
            """,
            {"account": ACCOUNT, "start": start, "stop": stop, "coupons": COUPONS, "customers": customers},
        )
        # One use for each used credit (the ones with a redeemed_at among the new rows).
        conn.execute(
            "INSERT INTO credits_credituse (id, credit_id, used_at, note, revenue, used_by) "
            "SELECT gen_random_uuid(), c.id, c.redeemed_at, '', c.revenue, 'bench' FROM credits_customercredit c "
            "WHERE c.account_id = %s AND c.redeemed_at IS NOT NULL AND c.issued_by = 'bench' "
            "AND NOT EXISTS (SELECT 1 FROM credits_credituse u WHERE u.credit_id = c.id)",
            [ACCOUNT],
        )
        conn.execute("ANALYZE credits_customercredit")
        conn.execute("ANALYZE credits_credituse")


def _rollup(bench: Bench) -> None:
    process = subprocess.run(
        [sys.executable, "manage.py", "liability_rollup", "--rebuild", "--account", ACCOUNT],
        cwd=ROOT,
        env=bench.env,
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(f"liability rollup failed: {process.stderr[-3000:]}")


def _clear_rollup(bench: Bench) -> None:
    with bench.connect() as conn:
        conn.execute("TRUNCATE credits_liabilitymonth, credits_liabilityrollup")


def _measure(bench: Bench) -> dict:
    process = subprocess.run(
        [sys.executable, "-c", MEASURE, ACCOUNT, str(REQUESTS)], cwd=ROOT, env=bench.env, capture_output=True, text=True
    )
    if process.returncode != 0:
        raise RuntimeError(f"liability measurement failed: {process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def liability_rows(bench: Bench) -> list[Row]:
    _clear_rollup(bench)
    coupons = _coupons(bench)
    rows: list[Row] = []
    baseline = None
    loaded = 0
    for size in SIZES:
        log(f"liability: growing credits to {size:,}")
        _grow(bench, coupons, loaded, size)
        loaded = size
        # The credits were written straight into the table with past dates (an import): the rollup of
        # closed months is rebuilt, as after any such import (cron runs the same command without --rebuild).
        started = time.perf_counter()
        _rollup(bench)
        rollup_seconds = time.perf_counter() - started
        rows.append(
            Row(
                f"liability rollup rebuild (manage.py liability_rollup --rebuild), {size:,} credits",
                size,
                rollup_seconds,
            )
        )
        log(f"liability: rollup rebuilt in {rollup_seconds:.1f} s; {REQUESTS} sequential reports over {size:,} credits")
        started = time.perf_counter()
        result = _measure(bench)
        seconds = time.perf_counter() - started
        if result["issued"] != size:
            raise RuntimeError(f"the report counted {result['issued']} credits issued, not {size}")
        times = result["times"]
        p50 = statistics.median(times) * 1000
        first = baseline is None
        baseline = p50 if first else baseline
        rows.append(
            Row(
                f"liability report (rollup + live open month), {size:,} credits, {result['rows']} coupon-months",
                len(times),
                seconds,
                p50_ms=p50,
                p99_ms=max(times) * 1000,
                limit="" if first else f"p50 at {SIZES[0]:,}: {baseline:.1f} ms",
                ratio="" if first else f"{p50 / baseline:.2f}x",
                target="baseline" if first else f"p50 <= 3x of {SIZES[0]:,}",
            )
        )
    _clear_rollup(bench)
    bench.clear_credits()
    return rows


def main() -> None:
    from bench.run import BENCH_URL, print_table

    bench = Bench(BENCH_URL)
    bench.recreate_database()
    bench.load_customers(CUSTOMERS)
    print_table(liability_rows(bench))


if __name__ == "__main__":
    main()
