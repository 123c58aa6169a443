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

from tests.rehearsal.topology import Topology, free_port
from tests.servers import gunicorn_command

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
    # Request latency and SQL statements per request, for the rows that time requests.
    p50_ms: float | None = None
    p99_ms: float | None = None
    statements: str | None = None
    # Python CPU per request in one process (bench/statements.py), beside the HTTP rows.
    cpu_ms: float | None = None  # median of the rounds
    cpu_ms_min: float | None = None  # the least loaded round
    cpu_reference: str | None = None  # the same figure as a multiple of GET /healthz's, timed in the same rounds

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

    def python_output(self, *args: str) -> str:
        """The standard output of this Python run with `args` (manage.py ..., -c ...) in the repository."""
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=True
        ).stdout

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

    def coupon(self, benefit_key: str = "massage", multi_use: bool = False) -> str:
        coupon_id = str(uuid.uuid4())
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO credits_coupon (id, account_id, name, description, benefit_key, kind, offering, "
                "multi_use, default_revenue, active, created_at, updated_at) "
                "VALUES (%s, %s, 'Bench ' || %s, '', %s, 'offering', 'Massage', %s, 4500, true, now(), now())",
                [coupon_id, ACCOUNT, benefit_key, benefit_key, multi_use],
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

    def settle(self) -> None:
        """Write out what earlier measurements left dirty (CHECKPOINT) before the next one starts, so that
        its limit and its figure are not measured while the server flushes someone else's writes (the
        redeem rows wait for each commit's WAL flush, which a checkpoint in progress slows)."""
        with self.connect() as conn:
            conn.execute("CHECKPOINT")

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
        bench.settle()
        raw = bench.raw_copy_seconds(coupon_id, size)
        log(f"grant_credits of {size:,} credits")
        bench.settle()
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
                ratio=f"{size / seconds / raw_rate:.1%} of COPY",
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
    bench.settle()
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


def production_env(bench: Bench) -> dict[str, str]:
    """The environment of the production server setup (also used to count statements in-process)."""
    return {
        **bench.env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-" * 8,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        # The harness stands where the TLS-terminating proxy would: plain HTTP on loopback, no redirect.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        # Production runs several processes, so throttle counters live in Redis (README). Without it they
        # fall back to the database cache, which adds statements to every request.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"),
    }


class Server:
    """The production server setup: gunicorn, production settings, PostgreSQL."""

    def __init__(
        self, bench: Bench, port: int = 8791, workers: int = 4, extra_env: dict | None = None, root: Path = ROOT
    ):
        """`root`: the tree whose code gunicorn serves (bench/pair.py serves two)."""
        self.port = port
        env = {**production_env(bench), **(extra_env or {})}
        self.process = subprocess.Popen(
            gunicorn_command(port, workers, timeout=60), cwd=root, env={**env, "PYTHONPATH": str(root)}
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
    output = bench.python_output("manage.py", "create_api_client", ACCOUNT, "--name", "bench", *args, "--json")
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
            ratio=f"{total / http_seconds / raw_rate:.1%} of INSERT",
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


# --- helpers for the rows that time requests -------------------------------------------------------


def api_keys(bench: Bench, count: int, *scopes: str) -> list[tuple[str, str]]:
    """`count` API clients of the bench account, made by the product's own service in one child process:
    [(client uuid, secret)]. Load tests give each simulated terminal its own client, as in production,
    so that a per-client rate limit applies to each terminal and not to the whole test."""
    import json

    script = (
        "import json, sys, django; django.setup();"
        "from config.kernel.actors import Actor; from customers.models import Account;"
        "from customers.services import api_client_create;"
        "account = Account.objects.get(pk=sys.argv[1]);"
        "made = [api_client_create(account=account, name=f'bench-{i}', scopes=sys.argv[3:],"
        " actor=Actor.system('bench')) for i in range(int(sys.argv[2]))];"
        "print(json.dumps([[str(client.pk), secret] for client, secret in made]))"
    )
    output = bench.python_output("-c", script, ACCOUNT, str(count), *scopes)
    return [(client, secret) for client, secret in json.loads(output)]


def statement_counts(bench: Bench, requests: list[dict], cpu: dict | None = None) -> dict[str, str]:
    """SQL statements per request, counted in-process with CaptureQueriesContext (bench/statements.py
    says what is counted and what is not), as "total (others + transaction control)", e.g.
    "7 (5 + 2 BEGIN/COMMIT)". `requests`: [{"name", "method", "path", "body", "headers"}]. When `cpu` is
    a dict, it receives each request's in-process CPU per request in ms (median of the rounds)."""
    import json

    process = subprocess.run(
        [sys.executable, "-m", "bench.statements", json.dumps(requests)],
        cwd=ROOT,
        env={
            **production_env(bench),
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "BENCH_CPU_REQUESTS": os.environ.get("BENCH_CPU_REQUESTS", "300" if cpu is not None else "0"),
        },
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(f"bench.statements failed: {process.stderr[-3000:]}")
    counts = {}
    found_all = json.loads(process.stdout)
    reference = found_all.pop("healthz", None)  # bench/statements.py's REFERENCE, timed beside the others
    if reference is not None:
        if reference["status"] != 200:
            raise RuntimeError(f"bench.statements: GET /healthz answered {reference['status']}")
        if cpu is not None:
            cpu["healthz"] = reference["cpu_ms"]
            log(f"reference GET /healthz: in-process CPU {reference['cpu_ms']:.2f} ms/request (median)")
    for name, found in found_all.items():
        if found["status"] >= 400:
            raise RuntimeError(f"bench.statements: {name} answered {found['status']}")
        statements = found["statements"]
        control = sum(1 for sql in statements if sql in ("BEGIN", "COMMIT", "ROLLBACK"))
        log(f"{name}: {len(statements)} statements ({control} BEGIN/COMMIT/ROLLBACK), status {found['status']}")
        if cpu is not None and found.get("cpu_ms") is not None:
            cpu[name] = found["cpu_ms"]
            cpu[f"{name}:min"] = found["cpu_ms_min"]
            cpu[f"{name}:healthz"] = found["per_reference"]
            log(
                f"    in-process CPU {found['cpu_ms']:.2f} ms/request (median; min {found['cpu_ms_min']:.2f}); "
                f"{found['per_reference']:.1f}x GET /healthz in the same rounds"
            )
        for sql in statements:
            log(f"    {sql[:150]}")
        counts[name] = (
            f"{len(statements)} ({len(statements) - control} + {control} BEGIN/COMMIT)"
            if control
            else str(len(statements))
        )
    return counts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def http_load(server: Server, clients: int, seconds: float, request_for, expect: int):
    """`clients` threads send requests back to back for `seconds`, each on its own connection;
    request_for(client_index, rng) -> (method, path, body, headers). Returns (requests, elapsed seconds,
    latencies in seconds, the share of one core the load client used). Any status other than `expect` fails
    the row."""
    import http.client
    import random
    import threading

    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[dict[int, int]] = [{} for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        start.wait()
        deadline = time.perf_counter() + seconds
        while True:
            method, path, body, headers = request_for(index, rng)
            began = time.perf_counter()
            if began >= deadline:
                break
            status, _ = server.request(method, path, body, headers, conn=conn)
            latencies[index].append(time.perf_counter() - began)
            statuses[index][status] = statuses[index].get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    client_cpu = (time.process_time() - cpu) / elapsed
    merged: dict[int, int] = {}
    for counts in statuses:
        for status, count in counts.items():
            merged[status] = merged.get(status, 0) + count
    if set(merged) != {expect}:
        raise RuntimeError(f"expected only {expect} answers, got {merged}")
    flat = [value for values in latencies for value in values]
    return len(flat), elapsed, flat, client_cpu


# The same load from wrk (a C load generator, Debian package `wrk`), beside the Python client above: the
# Python client takes 0.6-0.9 ms of the machine's 2 cores per request (it shares them with the server),
# while pgbench, the limit, is a C client too. Each of wrk's threads keeps one connection and its own API
# client's key (as http_load's clients do); gunicorn's sync workers close every connection, and wrk opens
# the next one. Paths are drawn at random per request, as http_load draws them.
WRK_SCRIPT = r"""
local paths = dofile("{paths}")
local keys = dofile("{keys}")
local method, body, expect = "{method}", {body}, {expect}
local counter, threads = 0, {{}}

function setup(thread)
  counter = counter + 1
  thread:set("key", keys[counter])
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed)
  headers = {{["X-API-KEY"] = key, ["Content-Type"] = "application/json"}}
  expected, unexpected = 0, 0
end

function request()
  return wrk.format(method, paths[math.random(#paths)], headers, body)
end

function response(status, headers, body)
  if status == expect then expected = expected + 1 else unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("expected")
    bad = bad + thread:get("unexpected")
  end
  io.write(string.format(
    "WRK-JSON {{\"requests\": %d, \"seconds\": %f, \"p50_us\": %d, \"p99_us\": %d, \"expected\": %d, " ..
    "\"unexpected\": %d, \"socket_errors\": %d}}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), good, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk_load(
    bench: Bench, server: Server, name: str, paths: list[str], keys: list[str], method: str, body, expect: int
):
    """wrk with one thread and one connection per client for REDEEM_SECONDS (after a 2 s warm-up), each
    thread with its own key; (requests, seconds, p50 s, p99 s). None when wrk is not installed. Any answer
    other than `expect`, or a socket error, fails the row."""
    import json
    import shutil

    if shutil.which("wrk") is None:
        log("wrk NOT FOUND on PATH: no wrk row (Debian: apt-get install wrk)")
        return None

    def lua_list(values: list[str]) -> str:
        return "return {" + ",".join(json.dumps(value) for value in values) + "}"

    (bench.tmp / f"wrk-{name}-paths.lua").write_text(lua_list(paths))
    (bench.tmp / f"wrk-{name}-keys.lua").write_text(lua_list(keys))
    script = bench.tmp / f"wrk-{name}.lua"
    script.write_text(
        WRK_SCRIPT.format(
            paths=bench.tmp / f"wrk-{name}-paths.lua",
            keys=bench.tmp / f"wrk-{name}-keys.lua",
            method=method,
            body="nil" if body is None else json.dumps(body.decode()),
            expect=expect,
        )
    )
    found = None
    for seconds in (2, round(REDEEM_SECONDS)):
        process = subprocess.run(
            [
                "wrk", "--threads", str(len(keys)), "--connections", str(len(keys)), "--duration", f"{seconds}s",
                "--timeout", "60s", "--script", str(script), f"http://127.0.0.1:{server.port}",
            ],
            capture_output=True,
            text=True,
        )  # fmt: skip
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed: {process.stderr[-2000:]}")
        line = next(line for line in process.stdout.splitlines() if line.startswith("WRK-JSON "))
        found = json.loads(line.removeprefix("WRK-JSON "))
        if found["unexpected"] or found["socket_errors"]:
            raise RuntimeError(f"wrk: expected only {expect} answers, got {found}")
    return found["requests"], found["seconds"], found["p50_us"] / 1e6, found["p99_us"] / 1e6


# --- redeem over HTTP beside pgbench ---------------------------------------------------------------

REDEEM_CLIENTS = int(os.environ.get("BENCH_REDEEM_CLIENTS", "16"))
REDEEM_SECONDS = float(os.environ.get("BENCH_REDEEM_SECONDS", "15"))
REDEEM_WORKERS = int(os.environ.get("BENCH_REDEEM_WORKERS", "4"))  # 2 per core: the work is CPU-bound
REDEEM_CREDITS = int(os.environ.get("BENCH_REDEEM_CREDITS", "10000"))
# BENCH_REDEEM_KINDS=credits (or benefits) times one kind only: a pair of runs comparing two versions of one path.
REDEEM_KINDS = set(filter(None, os.environ.get("BENCH_REDEEM_KINDS", "benefits,credits").split(",")))
REDEEM_KEY = "sauna"
# The CPU target was set on a machine where GET /healthz cost 0.5 ms: 2.5 ms is 5x /healthz.
REDEEM_TARGET = ">= 35% of pgbench; p99 <= 100 ms; <= 6 SQL/req; CPU <= 2.5 ms/req (5x /healthz)"

# The redeem transaction of credits.services (credit_redeem -> _locked_credit -> use_locked_credit), by
# hand in SQL: lock the credit (joined to its coupon, as the service reads it), insert the use, update the
# credit's use counters, insert the history event. The same FKs are set (so the same deferred FK checks
# run at commit). The credit is found by id and account only (the service also matches the customer
# on that row). Credit n has the id md5('bench-credit-n') (see _load_redeem_credits).
PGBENCH_REDEEM = """\\set n random(1, {credits})
BEGIN;
SELECT c.uses AS uses, c.revenue AS revenue, c.revenue_recognised AS recognised, p.name AS coupon_name
  FROM credits_customercredit c INNER JOIN credits_coupon p ON p.id = c.coupon_id
 WHERE c.account_id = '{account}' AND c.id = md5('bench-credit-' || :n)::uuid
   FOR UPDATE OF c \\gset
\\set use_revenue :revenue - :recognised
INSERT INTO credits_credituse (id, credit_id, used_at, reference, note, revenue, used_by, used_by_user_id,
                               used_by_client_id)
VALUES (gen_random_uuid(), md5('bench-credit-' || :n)::uuid, now(), NULL, '', :use_revenue, 'client:pgbench',
        NULL, ':client') RETURNING id AS use_id \\gset
UPDATE credits_customercredit SET uses = :uses + 1, revenue_recognised = :revenue, redeemed_at = NULL,
       updated_at = now()
 WHERE id = md5('bench-credit-' || :n)::uuid;
INSERT INTO credits_creditevent (credit_id, action, actor, user_id, api_client_id, use_id, reason, data, created_at)
VALUES (md5('bench-credit-' || :n)::uuid, 'used', 'client:pgbench', NULL, ':client', ':use_id', '',
        '{{"reference": null, "revenue": :use_revenue}}', now()) RETURNING id;
END;
"""


# The statement the product itself sends for a credit redeem (credits.services.redeem._redeem_sql: lock, use,
# counters, history event, the account's event sequence number and the ledger event, in one statement),
# its parameters bound as pgbench variables. The customer's id is looked up by the credit's primary key (the
# product has it from the path); the other values are what a redeem without reference or note sends.
PRODUCT_PARAMETERS = {
    "account": "'{account}'",
    "customer": "(SELECT customer_id FROM credits_customercredit WHERE id = md5('bench-credit-' || :n)::uuid)",
    "credit": "md5('bench-credit-' || :n)::uuid",
    "now": "now()",
    "reference": "NULL",
    "note": "''",
    "actor": "'client:pgbench'",
    "user": "NULL",
    "client": "':client'",
    "use_id": "gen_random_uuid()",
    "event_id": "gen_random_uuid()",
}


PRINT_REDEEM_SQL = "from credits.services.redeem import _redeem_sql; print(_redeem_sql())"


def _product_redeem_script(bench: Bench) -> str:
    sql = bench.python_output("manage.py", "shell", "-v", "0", "-c", PRINT_REDEEM_SQL).strip()
    for name, value in PRODUCT_PARAMETERS.items():
        sql = sql.replace(f"%({name})s", value.replace("{account}", ACCOUNT))
    return f"\\set n random(1, {REDEEM_CREDITS})\n{sql};\n"


def _load_redeem_credits(bench: Bench, coupon_id: str, count: int) -> list[tuple[int, str, str]]:
    """One unlimited multi-use credit (multi_use, max_uses NULL: never used up, so no request runs out)
    for each of the first `count` customers. Returns [(customer number, customer id, credit id)]."""
    with bench.connect() as conn:
        conn.execute(
            "INSERT INTO credits_customercredit (id, account_id, customer_id, coupon_id, source, multi_use, "
            "max_uses, uses, revenue, revenue_recognised, issued_by, created_at, updated_at) "
            "SELECT md5('bench-credit-' || (number - 1000000000))::uuid, account_id, id, %s, 'bulk', true, NULL, "
            "0, 4500, 0, 'bulk:redeem', now(), now() FROM customers_customer "
            "WHERE number BETWEEN 1000000001 AND %s",
            [coupon_id, 1000000000 + count],
        )
        conn.execute("ANALYZE credits_customercredit")
        return conn.execute(
            "SELECT c.number, c.id::text, k.id::text FROM credits_customercredit k "
            "JOIN customers_customer c ON c.id = k.customer_id WHERE k.coupon_id = %s ORDER BY c.number",
            [coupon_id],
        ).fetchall()


def _pgbench_redeem(bench: Bench, client_id: str, script_text: str) -> dict | None:
    """pgbench with REDEEM_CLIENTS clients for REDEEM_SECONDS running `script_text` (the four-statement
    transaction, or the product's statement); None when pgbench is not installed. Rate and mean latency
    from its report, p50/p99 from its per-transaction log."""
    import re
    import shutil

    if shutil.which("pgbench") is None:
        log("pgbench NOT FOUND on PATH: no redeem limit (Debian: in postgresql-15, or postgresql-contrib)")
        return None
    script = bench.tmp / "pgbench-redeem.sql"
    script.write_text(script_text)
    logs = bench.tmp / "pgbench-log"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    log(f"redeem: pgbench, {REDEEM_CLIENTS} clients, {REDEEM_SECONDS:.0f} s")
    process = subprocess.run(
        [
            "pgbench", "--no-vacuum", "--client", str(REDEEM_CLIENTS), "--jobs", "2",
            "--time", str(round(REDEEM_SECONDS)), "--file", str(script), "--define", f"client={client_id}",
            "--log", f"--log-prefix={logs / 'redeem'}", bench.url,
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if process.returncode != 0:
        raise RuntimeError(f"pgbench failed: {process.stderr[-3000:]}")
    report = process.stdout
    processed = int(re.search(r"number of transactions actually processed: (\d+)", report).group(1))
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", report).group(1))
    latencies = [int(line.split()[2]) / 1e6 for path in logs.iterdir() for line in path.read_text().splitlines()]
    return {"transactions": processed, "tps": tps, "latencies": latencies}


def _times_healthz(cpu: dict, name: str) -> str | None:
    if "healthz" not in cpu or f"{name}:healthz" not in cpu:
        return None
    return f"{cpu[name + ':healthz']:.1f}x /healthz ({cpu['healthz']:.2f} ms)"


def _credit_redeem_request(credits, keys, body: bytes):
    """A random credit's redeem, with the simulated terminal's own API key."""

    def credit_redeem(index, rng):
        _, customer_id, credit_id = credits[rng.randrange(len(credits))]
        path = f"/customers/customers/{customer_id}/credits/{credit_id}/redeem"
        return "POST", path, body, {"X-API-KEY": keys[index][1]}

    return credit_redeem


def redeem_rows(bench: Bench) -> list[Row]:
    import json
    import random

    coupon_id = bench.coupon(REDEEM_KEY, multi_use=True)
    credits = _load_redeem_credits(bench, coupon_id, REDEEM_CREDITS)
    keys = api_keys(bench, REDEEM_CLIENTS, "CUSTOMER_BENEFIT_WRITE", "credits:write")
    redeem_body = json.dumps({}).encode()

    def benefit_use(index, rng):
        number, _, _ = credits[rng.randrange(len(credits))]
        return "POST", f"/v1/customers/{number}/benefits/{REDEEM_KEY}/use", None, {"X-API-KEY": keys[index][1]}

    credit_redeem = _credit_redeem_request(credits, keys, redeem_body)

    kinds = [
        ("benefits", "benefit use", benefit_use, 204, "POST /v1/customers/{n}/benefits/{key}/use"),
        ("credits", "credit redeem", credit_redeem, 200, "POST .../credits/{id}/redeem"),
    ]
    kinds = [kind for kind in kinds if kind[0] in REDEEM_KINDS]
    # The same requests for wrk: every path it may draw, and the body.
    every_path = {
        "benefits": [f"/v1/customers/{number}/benefits/{REDEEM_KEY}/use" for number, _, _ in credits],
        "credits": [f"/customers/customers/{customer}/credits/{credit}/redeem" for _, customer, credit in credits],
    }
    wrk_body = {"benefits": None, "credits": redeem_body}
    samples = []
    for name, _, request_for, _, _ in kinds:
        method, path, body, headers = request_for(0, random.Random(0))
        samples.append(
            {"name": name, "method": method, "path": path, "body": (body or b"").decode(), "headers": headers}
        )
    cpu: dict[str, float] = {}
    statements = statement_counts(bench, samples, cpu)

    scripts = {
        "old": PGBENCH_REDEEM.format(credits=REDEEM_CREDITS, account=ACCOUNT),
        "new": _product_redeem_script(bench),
    }
    what = {
        "old": ("pgbench: redeem transaction in SQL (the old limit: 4 statements, no event)", "6 (4 + BEGIN/END)"),
        "new": ("pgbench: the product's redeem statement with its event (the new limit)", "1"),
    }

    def limit_row(kind: str, found: dict, when: str) -> Row:
        return Row(
            f"{what[kind][0]}, {REDEEM_CLIENTS} clients, {when}",
            found["transactions"],
            found["transactions"] / found["tps"],
            p50_ms=percentile(found["latencies"], 0.50) * 1000,
            p99_ms=percentile(found["latencies"], 0.99) * 1000,
            statements=what[kind][1],
            limit="the physical limit",
        )

    def limits() -> dict | None:
        found = {}
        for kind, script in scripts.items():
            bench.settle()
            found[kind] = _pgbench_redeem(bench, keys[0][0], script)
            if found[kind] is None:
                return None
        return found

    # The limits are measured right before and right after each kind's rows, and each row's ratio is to the
    # mean of the two: the machine's speed drifts within a run, and a limit measured a minute earlier
    # would favour or handicap the rows by that drift.
    before = limits()
    rows: list[Row] = []
    if before is None:
        rows.append(Row("pgbench: NOT FOUND on PATH, no redeem limit measured", 0, 0.0, limit="pgbench missing"))
    else:
        rows.extend(limit_row(kind, before[kind], f"before the {kinds[0][1]} rows") for kind in scripts)
    server = Server(bench, workers=REDEEM_WORKERS)
    try:
        for name, label, request_for, expect, endpoint in kinds:
            measured: list[dict] = []
            bench.settle()
            log(f"redeem: {label} over HTTP, {REDEEM_CLIENTS} clients, {REDEEM_WORKERS} workers (2 s warm-up)")
            http_load(server, REDEEM_CLIENTS, 2, request_for, expect)
            count, seconds, latencies, client_cpu = http_load(
                server, REDEEM_CLIENTS, REDEEM_SECONDS, request_for, expect
            )
            # The load client shares the machine with the server: say how much of it the client took.
            log(f"    {count / seconds:,.0f} requests/s; the load client used {client_cpu:.0%} of one core")
            measured.append(
                dict(
                    what=f"{endpoint} ({expect}), {REDEEM_CLIENTS} clients, gunicorn {REDEEM_WORKERS} sync workers",
                    rows=count,
                    seconds=seconds,
                    p50_ms=percentile(latencies, 0.50) * 1000,
                    p99_ms=percentile(latencies, 0.99) * 1000,
                    statements=statements[name],
                    cpu_ms=cpu.get(name),
                    cpu_ms_min=cpu.get(f"{name}:min"),
                    cpu_reference=_times_healthz(cpu, name),
                    target=REDEEM_TARGET,
                )
            )
            bench.settle()
            log(f"redeem: {label} over HTTP from wrk, {REDEEM_CLIENTS} connections (2 s warm-up)")
            found = wrk_load(
                bench, server, name, every_path[name], [secret for _, secret in keys], "POST", wrk_body[name], expect
            )
            if found is None:
                rows.append(Row(f"{endpoint}: wrk NOT FOUND on PATH, no wrk row", 0, 0.0, limit="wrk missing"))
            else:
                count, seconds, p50, p99 = found
                log(f"    {count / seconds:,.0f} requests/s")
                measured.append(
                    dict(
                        what=f"same, load from wrk (C), {REDEEM_CLIENTS} connections",
                        rows=count,
                        seconds=seconds,
                        p50_ms=p50 * 1000,
                        p99_ms=p99 * 1000,
                        statements=statements[name],
                        target=REDEEM_TARGET.split("; CPU")[0],
                    )
                )
            after = limits() if before is not None else None
            for each in measured:
                if after is None:
                    rows.append(Row(**each, limit="pgbench missing", ratio="n/a"))
                    continue
                old = (before["old"]["tps"] + after["old"]["tps"]) / 2
                new = (before["new"]["tps"] + after["new"]["tps"]) / 2
                rate = each["rows"] / each["seconds"]
                rows.append(
                    Row(
                        **each,
                        limit=f"pgbench old {old:,.0f} tx/s, new {new:,.0f} tx/s (means of before and after)",
                        ratio=f"{rate / old:.1%} of old, {rate / new:.1%} of new",
                    )
                )
            if after is not None:
                rows.extend(limit_row(kind, after[kind], f"after the {label} rows") for kind in scripts)
            before = after
    finally:
        server.stop()
    bench.clear_credits()
    return rows


# --- list endpoints at 10,000 and 1,000,000 rows -----------------------------------------------------

LIST_SIZES = [int(s) for s in os.environ.get("BENCH_LIST_SIZES", "10000,1000000").split(",")]
LIST_REQUESTS = int(os.environ.get("BENCH_LIST_REQUESTS", "200"))
LIST_CREDITS_PER_CUSTOMER = 20  # more than a page (15), so the first page is a real page of a longer list
LIST_DEPTH = 0.9  # the usages page starts after the discount ref this far into the list (late, but not the tail)
LIST_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def _grow_lists(bench: Bench, coupon_id: str, rule_id: str, loaded: int, size: int) -> None:
    """Grow the credits and discount tables from `loaded` to `size` rows each, oldest first:
    - credits: LIST_CREDITS_PER_CUSTOMER per customer, the new rows spread round-robin over new customers
      (so a customer's credits lie apart in the table, as they would when issued over months);
    - discount refs: one per customer, all of one rule (the list pages by (created_at, id) within it),
      each with one usage ref (its receipt entry; a page prefetches them)."""
    first_customer, last_customer = loaded // LIST_CREDITS_PER_CUSTOMER, size // LIST_CREDITS_PER_CUSTOMER
    with bench.connect() as conn:
        conn.execute(
            "INSERT INTO credits_customercredit (id, account_id, customer_id, coupon_id, source, multi_use, uses, "
            "revenue, revenue_recognised, issued_by, created_at, updated_at) "
            "SELECT gen_random_uuid(), c.account_id, c.id, %(coupon)s, 'bulk', false, 0, 4500, 0, 'bulk:lists', "
            "%(epoch)s + g * interval '1 second', now() FROM generate_series(%(start)s::bigint, %(stop)s::bigint) g "
            "JOIN customers_customer c ON c.number = 1000000001 + %(first)s + (g - %(start)s) %% %(spread)s",
            {
                "coupon": coupon_id,
                "epoch": LIST_EPOCH,
                "start": loaded + 1,
                "stop": size,
                "first": first_customer,
                "spread": last_customer - first_customer,
            },
        )
        conn.execute(
            "WITH refs AS (INSERT INTO discounts_discountref (id, account_id, rule_id, customer_id, given, stamp, "
            "used, usage, amount, created_at, created_by, updated_at) "
            "SELECT gen_random_uuid(), c.account_id, %(rule)s, c.id, false, 1, 1, 1, 0, "
            "%(epoch)s + (c.number - 1000000000) * interval '1 second', 'bench', now() FROM customers_customer c "
            "WHERE c.number BETWEEN 1000000001 + %(start)s AND 1000000000 + %(stop)s RETURNING id, created_at) "
            "INSERT INTO discounts_usageref (discount_ref_id, ref, ref_type, usage, stamp, amount, purchase_at, "
            "created_at, created_by) SELECT id, 'receipt-' || id, 'receipt_add', 1, 1, 0, created_at, created_at, "
            "'bench' FROM refs",
            {"rule": rule_id, "epoch": LIST_EPOCH, "start": loaded, "stop": size},
        )
        conn.execute("ANALYZE credits_customercredit")
        conn.execute("ANALYZE discounts_discountref")
        conn.execute("ANALYZE discounts_usageref")


def _sequential_latencies(server: Server, path: str, key: str, count: int) -> list[float]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    latencies = []
    for attempt in range(count + 10):  # the first 10 warm every worker and the pages read
        began = time.perf_counter()
        status, _ = server.request("GET", path, None, {"X-API-KEY": key}, conn=conn)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        if attempt >= 10:
            latencies.append(time.perf_counter() - began)
    conn.close()
    return latencies


def _list_fixture(bench: Bench) -> tuple[str, str, str, str]:
    """A coupon, a discount rule, the first customer and a reading API key: (coupon, rule, customer, key)."""
    coupon_id = bench.coupon()
    rule_id = str(uuid.uuid4())
    with bench.connect() as conn:
        conn.execute(
            "INSERT INTO discounts_discountrule (id, account_id, name, description, active, private, purchase_from, "
            "reward_type, reward_value, metadata, receipt_text, campaign_id, links, created_at, created_by, "
            "updated_at, updated_by) "
            "VALUES (%s, %s, 'Bench rule', '', true, false, %s, 'discount_amount', 100, '{}', '', '', '[]', now(), "
            "'bench', now(), 'bench')",
            [rule_id, ACCOUNT, LIST_EPOCH],
        )
        customer_id = conn.execute("SELECT id::text FROM customers_customer WHERE number = 1000000001").fetchone()[0]
    return coupon_id, rule_id, customer_id, api_key(bench, "credits:read", "read:discounts")


def _list_paths(bench: Bench, rule_id: str, customer_id: str, size: int) -> dict[str, str]:
    with bench.connect() as conn:
        anchor = conn.execute(
            "SELECT id FROM discounts_discountref WHERE rule_id = %s ORDER BY created_at, id OFFSET %s LIMIT 1",
            [rule_id, int(size * LIST_DEPTH)],
        ).fetchone()[0]
    return {
        "credits": f"/customers/customers/{customer_id}/credits",
        "usages": f"/v1/accounts/{ACCOUNT}/discounts/rules/{rule_id}/usages?limit=10&starting_after={anchor}",
    }


def list_rows(bench: Bench) -> list[Row]:
    coupon_id, rule_id, customer_id, key = _list_fixture(bench)
    lists = [
        ("credits", "GET /customers/customers/{id}/credits, first page", "credits"),
        ("usages", f"GET .../discounts/rules/{{did}}/usages?limit=10, {LIST_DEPTH:.0%} deep", "discount refs"),
    ]
    baseline: dict[str, float] = {}
    rows: list[Row] = []
    loaded = 0
    server = Server(bench)
    try:
        for size in LIST_SIZES:
            log(f"lists: growing credits and discount refs (with their usage refs) to {size:,} rows")
            _grow_lists(bench, coupon_id, rule_id, loaded, size)
            loaded = size
            paths = _list_paths(bench, rule_id, customer_id, size)
            statements = statement_counts(
                bench,
                [{"name": n, "method": "GET", "path": p, "headers": {"X-API-KEY": key}} for n, p in paths.items()],
            )
            for name, label, what in lists:
                log(f"lists: {LIST_REQUESTS} sequential requests, {label}, {size:,} {what}")
                started = time.perf_counter()
                latencies = _sequential_latencies(server, paths[name], key, LIST_REQUESTS)
                seconds = time.perf_counter() - started
                p50 = percentile(latencies, 0.50) * 1000
                first = name not in baseline
                baseline.setdefault(name, p50)
                rows.append(
                    Row(
                        f"{label}, {size:,} {what}",
                        LIST_REQUESTS,
                        seconds,
                        p50_ms=p50,
                        p99_ms=percentile(latencies, 0.99) * 1000,
                        statements=statements[name],
                        limit="" if first else f"p50 at {LIST_SIZES[0]:,}: {baseline[name]:.1f} ms",
                        ratio="" if first else f"{p50 / baseline[name]:.2f}x",
                        target="baseline" if first else f"p50 <= 1.5x of {LIST_SIZES[0]:,}",
                    )
                )
    finally:
        server.stop()
    bench.clear_credits()
    with bench.connect() as conn:
        conn.execute("TRUNCATE discounts_usageref, discounts_discountref")
    return rows


# --- the production topology: PgBouncer in transaction mode, a streaming replica -------------------------
# Both start their own servers from Debian's packages (tests/rehearsal/topology.py, as the rehearsal does).


def _timed_redeems(bench: Bench, request_for, extra_env: dict | None = None) -> tuple[int, float, list[float]]:
    server = Server(bench, port=free_port(), workers=REDEEM_WORKERS, extra_env=extra_env)
    try:
        bench.settle()
        http_load(server, REDEEM_CLIENTS, 2, request_for, 200)
        count, seconds, latencies, _ = http_load(server, REDEEM_CLIENTS, REDEEM_SECONDS, request_for, 200)
    finally:
        server.stop()
    return count, seconds, latencies


def pooler_rows(bench: Bench) -> list[Row]:
    """The credit redeem over HTTP with the app connected straight to PostgreSQL, then through PgBouncer
    in transaction pooling mode (DATABASE_POOL_MODE=transaction), then straight again: the pooled row's
    ratio is to the mean of the two direct ones (the machine's speed drifts)."""
    import json

    coupon_id = bench.coupon(REDEEM_KEY, multi_use=True)
    credits = _load_redeem_credits(bench, coupon_id, REDEEM_CREDITS)
    keys = api_keys(bench, REDEEM_CLIENTS, "credits:write")
    body = json.dumps({}).encode()

    credit_redeem = _credit_redeem_request(credits, keys, body)
    parts = urlsplit(bench.url)
    topology = Topology()
    rows: list[Row] = []
    try:
        topology.start_pgbouncer(target_port=parts.port or 5432)
        topology.start_redis()  # throttle counters in a Redis of its own, for both setups
        direct = {"REDIS_URL": topology.redis_url}
        pooled = {
            **direct,
            "DATABASE_URL": urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{topology.pgbouncer_port}")),
            "DATABASE_POOL_MODE": "transaction",
        }
        what = f"POST .../credits/{{id}}/redeem (200), {REDEEM_CLIENTS} clients, gunicorn {REDEEM_WORKERS} sync workers"
        measured = []
        for label, env in (
            ("direct", direct),
            ("through PgBouncer 1.18, transaction pooling", pooled),
            ("direct", direct),
        ):
            log(f"pooler: credit redeem over HTTP, {label}")
            count, seconds, latencies = _timed_redeems(bench, credit_redeem, env)
            log(f"    {count / seconds:,.0f} requests/s")
            measured.append((label, count, seconds, latencies))
        direct_rate = sum(c / s for label, c, s, _ in measured if label == "direct") / 2
        for label, count, seconds, latencies in measured:
            pooled_row = label != "direct"
            rows.append(
                Row(
                    f"{what}, {label}",
                    count,
                    seconds,
                    p50_ms=percentile(latencies, 0.50) * 1000,
                    p99_ms=percentile(latencies, 0.99) * 1000,
                    limit=f"direct, mean of the two runs: {direct_rate:,.0f} req/s" if pooled_row else "",
                    ratio=f"{count / seconds / direct_rate:.1%} of direct" if pooled_row else "",
                )
            )
    finally:
        topology.stop()
    bench.clear_credits()
    return rows


REPLICA_LIST_SIZE = int(os.environ.get("BENCH_REPLICA_LIST_SIZE", "10000"))


def replica_rows(bench: Bench) -> list[Row]:
    """p50 of the list requests of `lists` (at REPLICA_LIST_SIZE rows) with the app reading from the
    primary only, then with DATABASE_REPLICA_URLS naming a streaming replica (pg_basebackup -R) of it:
    a topology of its own (tests/rehearsal/topology.py), loaded the same way; the replica's committed
    transactions are counted to show that it served the reads."""
    topology = Topology()
    rows: list[Row] = []
    try:
        topology.start_primary()
        topology.start_replica()
        topology.start_redis()  # throttle counters and the clients' write positions
        own = Bench(topology.primary_url)
        own.recreate_database()
        own.load_customers(REPLICA_LIST_SIZE)
        coupon_id, rule_id, customer_id, key = _list_fixture(own)
        _grow_lists(own, coupon_id, rule_id, 0, REPLICA_LIST_SIZE)
        paths = _list_paths(own, rule_id, customer_id, REPLICA_LIST_SIZE)
        with own.connect() as conn:
            target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        with psycopg.connect(topology.replica_url, autocommit=True) as replica:
            while replica.execute("SELECT pg_last_wal_replay_lsn() < %s::pg_lsn", [target]).fetchone()[0]:
                time.sleep(0.2)

            def replica_commits() -> int:
                return replica.execute(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                ).fetchone()[0]

            baseline: dict[str, float] = {}
            primary = {"REDIS_URL": topology.redis_url}
            for where, env in (
                ("primary", primary),
                ("replica", {**primary, "DATABASE_REPLICA_URLS": topology.replica_url}),
            ):
                server = Server(own, port=free_port(), extra_env=env)
                try:
                    for name, label in (("credits", "first page of a customer's credits"),
                                        ("usages", f"usages page {LIST_DEPTH:.0%} deep")):  # fmt: skip
                        before = replica_commits()
                        started = time.perf_counter()
                        latencies = _sequential_latencies(server, paths[name], key, LIST_REQUESTS)
                        seconds = time.perf_counter() - started
                        time.sleep(0.6)  # the statistics collector's flush
                        served = replica_commits() - before
                        p50 = percentile(latencies, 0.50) * 1000
                        baseline.setdefault(name, p50)
                        log(f"replica: {label} from the {where}: p50 {p50:.1f} ms; replica commits +{served}")
                        rows.append(
                            Row(
                                f"GET {label}, {REPLICA_LIST_SIZE:,} rows, read from the {where} "
                                f"(replica transactions +{served})",
                                LIST_REQUESTS,
                                seconds,
                                p50_ms=p50,
                                p99_ms=percentile(latencies, 0.99) * 1000,
                                limit=f"p50 from the primary: {baseline[name]:.1f} ms" if where == "replica" else "",
                                ratio=f"{p50 / baseline[name]:.2f}x" if where == "replica" else "",
                            )
                        )
                finally:
                    server.stop()
    finally:
        topology.stop()
    return rows


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
    """The table; the latency and statement columns only when some row times requests."""
    timed = any(r.p50_ms is not None or r.statements is not None for r in rows)
    header = ["measurement", "rows", "seconds", "rows/s", "peak MB"]
    header += ["p50 ms", "p99 ms", "SQL/req", "CPU ms/req, median (min) of 10 rounds; x /healthz"] if timed else []
    header += ["limit measured in this run", "ratio", "target"]
    lines = []
    for r in rows:
        line = [
            r.what,
            f"{r.rows:,}",
            f"{r.seconds:.2f}",
            f"{r.rate:,.0f}",
            f"{r.peak_mb:.0f}" if r.peak_mb is not None else "",
        ]
        if timed:
            line += [
                f"{r.p50_ms:.1f}" if r.p50_ms is not None else "",
                f"{r.p99_ms:.1f}" if r.p99_ms is not None else "",
                r.statements or "",
                (
                    f"{r.cpu_ms:.2f}"
                    + (f" (min {r.cpu_ms_min:.2f})" if r.cpu_ms_min is not None else "")
                    + (f"; {r.cpu_reference}" if r.cpu_reference else "")
                )
                if r.cpu_ms is not None
                else "",
            ]
        lines.append([*line, r.limit, r.ratio, r.target])
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")


def grant_and_membership_rows(bench: Bench) -> list[Row]:
    rows = grant_rows(bench)
    return rows + membership_rows(bench, grant_rate=rows[0].rate)


def liability_rows(bench: Bench) -> list[Row]:
    from bench.liability import liability_rows as rows  # bench/liability.py imports this module

    return rows(bench)


# BENCH_ONLY=name,name selects; every one runs by default, in this order.
MEASUREMENTS = {
    "grants": grant_and_membership_rows,
    "billing": billing_rows,
    "redeem": redeem_rows,
    "lists": list_rows,
    "liability": liability_rows,
    "pooler": pooler_rows,
    "replica": replica_rows,
}


def main() -> None:
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    unknown = only - set(MEASUREMENTS)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown {sorted(unknown)}; known: {', '.join(MEASUREMENTS)}")
    selected = [name for name in MEASUREMENTS if not only or name in only]
    bench = Bench(BENCH_URL)
    started = time.perf_counter()
    log(f"scratch database {BENCH_URL}")
    bench.recreate_database()
    # The discount refs of the lists rows take one customer each; the redeem rows one credit each.
    customers = max(max(SIZES), MEMBERSHIPS)
    if "lists" in selected:
        customers = max(customers, max(LIST_SIZES))
    if "redeem" in selected or "pooler" in selected:
        customers = max(customers, REDEEM_CREDITS)
    log(f"loading {customers:,} customers")
    bench.load_customers(customers)
    rows: list[Row] = []
    failed = []
    for name in selected:
        # One measurement that breaks must not cost the figures of the others: say so, and go on.
        try:
            rows += MEASUREMENTS[name](bench)
        except Exception as exc:
            log(f"{name} failed: {exc!r}")
            failed.append(name)
    print_table(rows)
    if failed:
        raise SystemExit(f"failed measurements: {', '.join(failed)}")
    log(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
