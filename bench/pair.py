"""Two versions of the code under the same load, in alternating bursts: what one change to the request
path costs or saves, measured in pairs. `python -m bench.pair TREE_A TREE_B` (two checkouts, e.g. main and
a worktree without one speed measure; the scratch database is migrated with this checkout's code, so the
two trees must have the same models).

Each tree gets its own gunicorn (the production settings, BENCH_REDEEM_WORKERS sync workers) on the same
scratch database (BENCH_DATABASE_URL) and Redis (BENCH_REDIS_URL). Both run at once, but only one is loaded
at a time: wrk sends bench.run's credit redeem (BENCH_PAIR_KIND=benefits: its benefit use) from
BENCH_REDEEM_CLIENTS connections for BENCH_REDEEM_SECONDS, to A, then B, then B, then A, BENCH_PAIR_ROUNDS
times, so that the machine's drift within a round falls on both sides alike. Printed: every burst's rate,
each side's median, each round's B/A and their median. The machine must be otherwise quiet."""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

from bench.run import (
    BENCH_URL,
    REDEEM_CLIENTS,
    REDEEM_CREDITS,
    REDEEM_KEY,
    REDEEM_WORKERS,
    Bench,
    Server,
    _load_redeem_credits,
    api_keys,
    log,
    wrk_load,
)
from tests.rehearsal.topology import free_port

ROUNDS = int(os.environ.get("BENCH_PAIR_ROUNDS", "3"))
KIND = os.environ.get("BENCH_PAIR_KIND", "credits")


def main(tree_a: Path, tree_b: Path) -> None:
    bench = Bench(BENCH_URL)
    log(f"scratch database {BENCH_URL}")
    bench.recreate_database()
    bench.load_customers(REDEEM_CREDITS)
    credits = _load_redeem_credits(bench, bench.coupon(REDEEM_KEY, multi_use=True), REDEEM_CREDITS)
    keys = [secret for _, secret in api_keys(bench, REDEEM_CLIENTS, "CUSTOMER_BENEFIT_WRITE", "credits:write")]
    if KIND == "credits":
        paths = [f"/customers/customers/{customer}/credits/{credit}/redeem" for _, customer, credit in credits]
        body, expect = json.dumps({}).encode(), 200
    else:
        paths = [f"/v1/customers/{number}/benefits/{REDEEM_KEY}/use" for number, _, _ in credits]
        body, expect = None, 204
    servers = {
        side: Server(bench, port=free_port(), workers=REDEEM_WORKERS, root=tree)
        for side, tree in (("A", tree_a), ("B", tree_b))
    }
    rates: dict[str, list[float]] = {"A": [], "B": []}
    try:
        for round_number in range(1, ROUNDS + 1):
            for side in "ABBA":
                bench.settle()
                requests, seconds, _, p99 = wrk_load(bench, servers[side], KIND, paths, keys, "POST", body, expect)
                rates[side].append(requests / seconds)
                log(f"round {round_number}, {side}: {requests / seconds:,.0f} requests/s (p99 {p99 * 1000:.1f} ms)")
    finally:
        for server in servers.values():
            server.stop()
    a, b = statistics.median(rates["A"]), statistics.median(rates["B"])
    # Each round's B/A (its two B bursts over its two A bursts) cancels a drift that is steady within the
    # round; their median is the figure to read.
    by_round = [sum(rates["B"][2 * i : 2 * i + 2]) / sum(rates["A"][2 * i : 2 * i + 2]) for i in range(ROUNDS)]
    print(f"A {tree_a}: {', '.join(f'{rate:,.0f}' for rate in rates['A'])} requests/s; median {a:,.0f}")
    print(f"B {tree_b}: {', '.join(f'{rate:,.0f}' for rate in rates['B'])} requests/s; median {b:,.0f}")
    print(f"B/A by round: {', '.join(f'{ratio:.3f}' for ratio in by_round)}")
    print(f"B/A: {statistics.median(by_round):.3f} ({KIND}, {ROUNDS} rounds of ABBA, {REDEEM_CLIENTS} wrk connections)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
