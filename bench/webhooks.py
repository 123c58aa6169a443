"""Webhook delivery figures (docs/scaling.md): throughput of one `manage.py worker` to a receiver on
loopback (a backlog of events, one endpoint), and the lag from an event's commit to its arrival while
changes keep coming at a steady rate (p50/p99).

    BENCH_DATABASE_URL=postgres://... python -m bench.webhooks   # a migrated scratch database
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/benefit_ledger_bench")
BACKLOG = int(os.environ.get("BENCH_WEBHOOK_BACKLOG", "3000"))
RATE = float(os.environ.get("BENCH_WEBHOOK_RATE", "50"))  # changes per second during the lag run
SECONDS = float(os.environ.get("BENCH_WEBHOOK_SECONDS", "20"))
ENV = {
    **os.environ,
    "DATABASE_URL": URL,
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "DJANGO_DEBUG": "false",
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from billing import services as billing  # noqa: E402
from config.kernel.actors import Actor  # noqa: E402
from customers import services as customers  # noqa: E402
from webhooks import services as webhooks  # noqa: E402

SYSTEM = Actor.system("bench")
arrivals: list[tuple[float, dict]] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        arrivals.append((time.time(), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    account_id = f"P{int(time.time()) % 10**8:08d}"
    account = customers.account_create(account_id=account_id, name="webhook bench", currency="NOK")
    org = customers.customer_create(
        account=account, actor=SYSTEM, first_name="A", last_name="B", email="bench@example.com"
    )
    wallet = billing.billing_account_create(account=account, org_id=org.pk, actor=SYSTEM)
    webhooks.endpoint_create(account=account, url=f"http://127.0.0.1:{server.server_address[1]}/hook", actor=SYSTEM)
    for _ in range(BACKLOG // 1000):
        billing.billing_top_up(
            account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=10**6, actor=SYSTEM
        )
        billing.billing_usage_report(
            account=account,
            billing_account_id=wallet.pk,
            actor=SYSTEM,
            usages=[billing.Usage(id=uuid.uuid4(), type="credit", amount=1) for _ in range(999)],
        )
    backlog = (BACKLOG // 1000) * 1000
    worker = subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        while len(arrivals) < backlog:
            time.sleep(0.01)
            if time.monotonic() - started > 600:
                raise SystemExit(f"only {len(arrivals)} of {backlog} arrived in 600 s")
        seconds = time.monotonic() - started
        print(f"throughput: {backlog} events in {seconds:.1f} s = {backlog / seconds:,.0f} events/s (one worker)")
        arrivals.clear()
        stop = time.monotonic() + SECONDS
        count = 0
        while time.monotonic() < stop:
            billing.billing_top_up(
                account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=1, actor=SYSTEM
            )
            count += 1
            time.sleep(max(0.0, 1 / RATE - 0.002))
        time.sleep(2)
        lags = [at - datetime.fromisoformat(body["timestamp"]).timestamp() for at, body in arrivals]
        print(
            f"lag from commit to arrival, {count} changes at ~{count / SECONDS:.0f}/s: "
            f"p50 {percentile(lags, 0.5) * 1000:.0f} ms, p99 {percentile(lags, 0.99) * 1000:.0f} ms, "
            f"{len(lags)} arrived"
        )
    finally:
        worker.terminate()
        worker.wait(20)
        server.shutdown()


if __name__ == "__main__":
    main()
