"""The benchmark harness: `make bench` (PostgreSQL only).

Every figure is measured in one run, beside the physical limit measured in the same run on the same
machine, so that the ratios hold on a noisy shared machine (spec/quality.md). It creates a scratch
database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/benefit_ledger_bench), loads
the data it needs with PostgreSQL's bulk paths, runs the product's own commands as separate processes
(so their peak memory is their own), and prints one table.

To add a row: write a function that takes the Bench and returns a list of Row, and append it to
MEASUREMENTS."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "T00000001"
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/benefit_ledger_bench")
SIZES = [int(s) for s in os.environ.get("BENCH_GRANT_SIZES", "100000,1000000").split(",")]
MEMBERSHIPS = int(os.environ.get("BENCH_MEMBERSHIPS", "100000"))


@dataclass
class Row:
    what: str
    rows: int
    seconds: float
    peak_mb: float | None = None
    limit: str = ""
    ratio: str = ""
    target: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, url: str):
        self.url = url
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
        }
        self.tmp = Path(os.environ.get("BENCH_TMP", "/tmp")) / "benefit-ledger-bench"
        self.tmp.mkdir(parents=True, exist_ok=True)

    # --- database --------------------------------------------------------------------------------

    def recreate_database(self) -> None:
        parts = urlsplit(self.url)
        name = parts.path.lstrip("/")
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.manage("migrate", "--noinput", "-v0")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    # --- data ------------------------------------------------------------------------------------

    def load_customers(self, count: int) -> None:
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO customers_account (id, name, currency, timezone, created_at) "
                "VALUES (%s, 'Bench', 'NOK', 'Europe/Oslo', now()) ON CONFLICT DO NOTHING",
                [ACCOUNT],
            )
            conn.execute(
                "INSERT INTO customers_customer (id, account_id, number, email, first_name, last_name, external_ref, "
                "created_at, updated_at) SELECT gen_random_uuid(), %s, 1000000000 + g, 'c' || g || '@example.com', "
                "'', '', '', now(), now() FROM generate_series(1, %s) g",
                [ACCOUNT, count],
            )
            conn.execute("ANALYZE customers_customer")

    def coupon(self) -> str:
        coupon_id = str(uuid.uuid4())
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO credits_coupon (id, account_id, name, description, benefit_key, kind, offering, "
                "multi_use, default_revenue, active, created_at, updated_at) "
                "VALUES (%s, %s, 'Bench massage', '', 'massage', 'offering', 'Massage', false, 4500, true, "
                "now(), now())",
                [coupon_id, ACCOUNT],
            )
        return coupon_id

    def customer_file(self, count: int) -> Path:
        path = self.tmp / f"customers-{count}.csv"
        with self.connect() as conn, open(path, "wb") as f:
            f.write(b"customer_id\n")
            with conn.cursor().copy(
                "COPY (SELECT id FROM customers_customer ORDER BY number LIMIT %s) TO STDOUT", [count]
            ) as copy:
                for block in copy:
                    f.write(block)
        return path

    def clear_credits(self) -> None:
        with self.connect() as conn:
            conn.execute("TRUNCATE credits_creditevent, credits_credituse, credits_customercredit")

    def raw_copy_seconds(self, coupon_id: str, count: int) -> float:
        """The physical limit: COPY the same credit rows straight into the credits table (with its
        indexes and constraints), data prepared in memory beforehand."""
        with self.connect() as conn:
            ids = [
                r[0]
                for r in conn.execute("SELECT id FROM customers_customer ORDER BY number LIMIT %s", [count]).fetchall()
            ]
        now = datetime.now(UTC).isoformat()
        buffer = io.StringIO()
        for customer_id in ids:
            buffer.write(
                f"{uuid.uuid4()}\t{ACCOUNT}\t{customer_id}\t{coupon_id}\tbulk\tf\t0\t4500\t0\tbulk:raw\t{now}\t{now}\traw\n"
            )
        data = buffer.getvalue().encode()
        del buffer, ids
        with self.connect() as conn:
            started = time.perf_counter()
            with conn.cursor().copy(
                "COPY credits_customercredit (id, account_id, customer_id, coupon_id, source, multi_use, uses, "
                "revenue, revenue_recognised, issued_by, created_at, updated_at, batch_key) FROM STDIN"
            ) as copy:
                for offset in range(0, len(data), 1 << 20):
                    copy.write(data[offset : offset + (1 << 20)])
            seconds = time.perf_counter() - started
        self.clear_credits()
        return seconds


# --- measurements --------------------------------------------------------------------------------


def grant_rows(bench: Bench) -> list[Row]:
    coupon_id = bench.coupon()
    rows: list[Row] = []
    for size in SIZES:
        path = bench.customer_file(size)
        log(f"raw COPY of {size:,} credit rows")
        raw = bench.raw_copy_seconds(coupon_id, size)
        log(f"grant_credits of {size:,} credits")
        seconds, peak, output = run_isolated(
            bench, "grant_credits", ACCOUNT, "--coupon", coupon_id, "--customers", str(path), "--batch-size", "10000"
        )
        if f"granted {size}," not in output:
            raise RuntimeError(f"grant_credits did not grant {size}: {output}")
        bench.clear_credits()
        raw_rate = size / raw
        rows.append(
            Row(
                f"grant_credits {size:,} (PostgreSQL)",
                size,
                seconds,
                peak,
                limit=f"raw COPY {raw_rate:,.0f} rows/s",
                ratio=f"{size / seconds / raw_rate:.0%} of COPY",
                target=">= 50% of COPY; <= 300 MB, flat",
            )
        )
    return rows


def membership_rows(bench: Bench, grant_rate: float) -> list[Row]:
    signup = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    with bench.connect() as conn:
        type_id, rule_id = str(uuid.uuid4()), str(uuid.uuid4())
        coupon_id = bench.coupon()
        conn.execute(
            "INSERT INTO customers_membershiptype (id, account_id, name, description, created_at, updated_at) "
            "VALUES (%s, %s, 'Gold', '', now(), now())",
            [type_id, ACCOUNT],
        )
        conn.execute(
            "INSERT INTO customers_membership (id, account_id, customer_id, membership_type_id, status, started_at, "
            "created_by, cancelled_by, created_at, updated_at) SELECT gen_random_uuid(), %s, id, %s, 'active', %s, "
            "'bench', '', now(), now() FROM customers_customer ORDER BY number LIMIT %s",
            [ACCOUNT, type_id, signup, MEMBERSHIPS],
        )
        conn.execute(
            "INSERT INTO credits_membershipcreditrule (id, account_id, membership_type_id, coupon_id, "
            "issuing_frequency, roll_over, issue_on_signup, quantity, active, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, 'P1M', false, true, 1, true, %s, now())",
            [rule_id, ACCOUNT, type_id, coupon_id, signup - timedelta(days=30)],
        )
        conn.execute("ANALYZE")
    log(f"issue_membership_credits for {MEMBERSHIPS:,} memberships")
    as_of = (signup + timedelta(days=1)).isoformat()
    seconds, peak, output = run_isolated(bench, "issue_membership_credits", "--as-of", as_of, "--batch-size", "10000")
    if f"issued {MEMBERSHIPS} credits" not in output:
        raise RuntimeError(f"issue_membership_credits did not issue {MEMBERSHIPS}: {output}")
    bench.clear_credits()
    rate = MEMBERSHIPS / seconds
    return [
        Row(
            f"issue_membership_credits {MEMBERSHIPS:,} memberships",
            MEMBERSHIPS,
            seconds,
            peak,
            limit=f"grant_credits {grant_rate:,.0f} credits/s",
            ratio=f"{grant_rate / rate:.2f}x slower per credit",
            target="within 2x of grant_credits",
        )
    ]


BILLING_BATCHES = int(os.environ.get("BENCH_BILLING_BATCHES", "60"))
HTTP_CLIENTS = int(os.environ.get("BENCH_HTTP_CLIENTS", "4"))


class Server:
    """The production server setup: gunicorn, production settings, PostgreSQL."""

    def __init__(self, bench: Bench, port: int = 8791, workers: int = 4):
        self.port = port
        env = {
            **bench.env,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "bench-" * 8,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DB_CONN_MAX_AGE": "600",
            "LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, conn=None):
        import http.client

        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        if own:
            conn.close()
        return response.status, data

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def api_key(bench: Bench, *scopes: str) -> str:
    import json

    args = [arg for scope in scopes for arg in ("--scope", scope)]
    output = subprocess.run(
        [sys.executable, "manage.py", "create_api_client", ACCOUNT, "--name", "bench", *args, "--json"],
        cwd=ROOT,
        env=bench.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)["secret"]


def billing_rows(bench: Bench) -> list[Row]:
    import http.client
    import json
    import threading

    with bench.connect() as conn:
        org = conn.execute("SELECT id FROM customers_customer ORDER BY number LIMIT 1").fetchone()[0]
        wallet = uuid.uuid4()
        conn.execute(
            "INSERT INTO billing_billingaccount (id, account_id, customer_id, currency, credit_min, balance, "
            "created_at, "
            "updated_at) VALUES (%s, %s, %s, 'VC', -1000000000000000, 0, now(), now())",
            [wallet, ACCOUNT, org],
        )
    key = api_key(bench, "billing:write")
    path = f"/v1beta1/organizations/{org}/billing/{wallet}/usages"
    bodies = [
        json.dumps(
            {
                "usages": [
                    {"id": str(uuid.uuid4()), "amount": "1", "source": "bench", "type": "credit"} for _ in range(1000)
                ]
            }
        ).encode()
        for _ in range(BILLING_BATCHES)
    ]
    server = Server(bench)
    try:
        # Warm every worker's connection and imports before timing.
        for _ in range(8):
            server.request("GET", "/healthz")
        queue = list(range(len(bodies)))
        lock = threading.Lock()
        failures: list[int] = []

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            while True:
                with lock:
                    if not queue:
                        break
                    index = queue.pop()
                status, _ = server.request("POST", path, bodies[index], {"X-API-KEY": key}, conn=conn)
                if status != 200:
                    failures.append(status)
            conn.close()

        log(f"billing: {BILLING_BATCHES} batches of 1,000 credit usages over HTTP, {HTTP_CLIENTS} clients")
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(HTTP_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        http_seconds = time.perf_counter() - started
        if failures:
            raise RuntimeError(f"billing batches failed: {failures[:5]}")
    finally:
        server.stop()
    total = BILLING_BATCHES * 1000
    log("billing: raw multi-row INSERT of the same rows")
    raw_seconds = _raw_billing_insert(bench, wallet, total)
    raw_rate = total / raw_seconds
    return [
        Row(
            "billing usages over HTTP, batches of 1,000",
            total,
            http_seconds,
            None,
            limit=f"raw INSERT {raw_rate:,.0f} rows/s",
            ratio=f"{total / http_seconds / raw_rate:.0%} of INSERT",
            target=">= 10,000 usages/s",
        )
    ]


def _raw_billing_insert(bench: Bench, wallet, total: int) -> float:
    now = datetime.now(UTC)
    rows = [
        (uuid.uuid4(), ACCOUNT, wallet, uuid.uuid4(), "debit", "bench", 1, "", "", "{}", "bench", now, now)
        for _ in range(total)
    ]
    columns = (
        "id, account_id, billing_account_id, usage_id, type, source, amount, description, user_id, metadata, "
        "created_by, created_at, updated_at"
    )
    placeholders = "(" + ", ".join(["%s"] * 13) + ")"
    with bench.connect() as conn:
        started = time.perf_counter()
        for offset in range(0, total, 1000):
            chunk = rows[offset : offset + 1000]
            with conn.transaction():
                conn.execute(
                    f"INSERT INTO billing_billingtransaction ({columns}) VALUES "
                    + ", ".join([placeholders] * len(chunk)),
                    [value for row in chunk for value in row],
                )
        return time.perf_counter() - started


def run_isolated(bench: Bench, *args: str) -> tuple[float, float, str]:
    """Run a command through a fresh harness child, so its peak RSS is measured on its own."""
    script = (
        "import os, resource, subprocess, sys, time;"
        "t=time.perf_counter();"
        "p=subprocess.run([sys.executable,'manage.py',*sys.argv[1:]],capture_output=True,text=True);"
        "s=time.perf_counter()-t;"
        "print(s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024, p.returncode);"
        "print(p.stdout, end='');"
        "sys.stderr.write(p.stderr)"
    )
    process = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, env=bench.env, capture_output=True, text=True
    )
    first, _, output = process.stdout.partition("\n")
    seconds, peak, code = first.split()
    if code != "0":
        raise RuntimeError(f"manage.py {' '.join(args)} exited {code}: {process.stderr[-3000:]}")
    return float(seconds), float(peak), output


def print_table(rows: list[Row]) -> None:
    header = ["measurement", "rows", "seconds", "rows/s", "peak MB", "limit measured in this run", "ratio", "target"]
    lines = [
        [
            r.what,
            f"{r.rows:,}",
            f"{r.seconds:.2f}",
            f"{r.rate:,.0f}",
            f"{r.peak_mb:.0f}" if r.peak_mb is not None else "",
            r.limit,
            r.ratio,
            r.target,
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")


def main() -> None:
    bench = Bench(BENCH_URL)
    started = time.perf_counter()
    log(f"scratch database {BENCH_URL}")
    bench.recreate_database()
    customers = max(max(SIZES), MEMBERSHIPS)
    log(f"loading {customers:,} customers")
    bench.load_customers(customers)
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    rows: list[Row] = []
    if not only or "grants" in only:
        rows += grant_rows(bench)
        rows += membership_rows(bench, grant_rate=rows[0].rate)
    if not only or "billing" in only:
        rows += billing_rows(bench)
    print_table(rows)
    log(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
