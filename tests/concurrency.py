"""Run one request many times at once, from real threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from django.db import connections


def run_simultaneously(count: int, call: Callable[[int], int]) -> Counter:
    """Start `count` threads that wait on one barrier, then each runs call(i) and reports a status."""
    barrier = threading.Barrier(count)
    results: list[int | str] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call(index)
        except Exception as exc:  # a crash must fail the test, not vanish with its thread
            results[index] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return Counter(results)
