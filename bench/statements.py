"""Counts the SQL statements that one API request sends, and measures the Python CPU it costs,
in-process (run by bench/run.py as a child: `python -m bench.statements '<json list of requests>'`, with
the production settings and the bench database in the environment; prints JSON).

Each request goes through django.test.Client, so through the same WSGI handler, middleware, DRF views
and database settings as under gunicorn, and its statements are captured with Django's
CaptureQueriesContext. Every request is sent twice and the second is counted: the first warms what a
long-running worker has warm (and writes the API client's `last_used_at`, which is written at most once
per API_CLIENT_LAST_USED_RESOLUTION seconds, so it is not part of the steady state). SAVEPOINT and
RELEASE SAVEPOINT lines are left out; BEGIN, COMMIT and ROLLBACK are captured (Django logs them) and
counted, and also reported on their own. Not captured, so not counted: the `SELECT 1` of
CONN_HEALTH_CHECKS, sent on the raw connection once per request before the first statement on a reused
connection.

CPU per request: after the counted request, the same request is sent BENCH_CPU_REQUESTS more times
(default 300), in 10 rounds; `time.process_time()` over a round, divided by its requests, is the Python
CPU one request costs in this process, and the median of the rounds is reported (the minimum too: on a
shared machine other processes' load inflates the figure, never deflates it). The test client's own
share is in it (building the WSGI environ: a few microseconds). The statement capture is off while
timing (CaptureQueriesContext adds its own cost), and DEBUG is False (production settings), so Django
keeps no query log. The database's own CPU is not in it (another process), nor the wait for it. This is
the figure that load tests on a shared machine cannot give steadily; the HTTP rows' rates follow from it.

The reference: GET /healthz is timed in the same rounds, right beside each request, and each request's
figure is also given as a multiple of it (the median over the rounds of request / healthz in that
round). On a shared host the speed a process gets drifts by up to 3x within minutes (seen here: the same
credit redeem at 1.1 and at 4.2 ms/request half an hour apart); the multiple does not drift with it.
The CPU target (2.5 ms per request) was set on a machine where /healthz cost 0.5 ms: 5x /healthz.

Why not pg_stat_statements: it needs shared_preload_libraries and a server restart; and log_statement
would need the harness to read the server's log file. Counting in-process needs neither."""

from __future__ import annotations

import functools
import json
import os
import statistics
import sys
import time

CPU_REQUESTS = int(os.environ.get("BENCH_CPU_REQUESTS", "300"))
CPU_ROUNDS = int(os.environ.get("BENCH_CPU_ROUNDS", "10"))
REFERENCE = "healthz"


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    out, sends = {}, {}
    for spec in json.loads(sys.argv[1]):
        send = functools.partial(
            client.generic,
            spec["method"],
            spec["path"],
            spec.get("body", ""),
            content_type="application/json",
            headers=spec.get("headers", {}),
        )
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = send()
        statements = [
            query["sql"]
            for query in captured.captured_queries
            if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ]
        out[spec["name"]] = {"status": response.status_code, "statements": statements, "cpu_ms": None}
        sends[spec["name"]] = send
    if CPU_REQUESTS > 0:  # (cpu_ms None: not timed)
        # The reference, timed in the same rounds: GET /healthz (Django's handler and middleware, one
        # SELECT 1, one Redis PING, a small JSON answer).
        sends[REFERENCE] = functools.partial(client.get, "/healthz")
        out[REFERENCE] = {"status": sends[REFERENCE]().status_code, "statements": []}
        rounds: dict[str, list[float]] = {name: [] for name in sends}
        per_round = max(1, CPU_REQUESTS // CPU_ROUNDS)
        for _ in range(CPU_ROUNDS):
            for name, send in sends.items():
                started = time.process_time()
                for _ in range(per_round):
                    send()
                rounds[name].append((time.process_time() - started) * 1000 / per_round)
        for name, times in rounds.items():
            out[name].update(
                cpu_ms=statistics.median(times),
                cpu_ms_min=min(times),
                # each round's figure over the reference's in the same round: the machine's speed, which
                # drifts between rounds on a shared host, cancels out
                per_reference=statistics.median(a / b for a, b in zip(times, rounds[REFERENCE], strict=True)),
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
