"""A per-request deadline on the database, enforced from outside the request's thread.

libpq's keepalives and `tcp_user_timeout` (config/settings/base.py) end a connection whose packets are
lost, and `statement_timeout` ends a slow statement on the server; but a server (or proxy) that still
acknowledges packets and answers slowly, or not at all, would hold a worker until gunicorn kills it.
So every API request (and /healthz) gets DB_REQUEST_DEADLINE_SECONDS: when it is still running then,
a watchdog thread cuts its database socket (shutdown), which makes the blocked database call fail with
OperationalError at once (answered 503 in the family's dialect), and refuses the request any new
database connection. The connection is discarded at the end of the request; the next request opens a
fresh one, so service resumes by itself.

The deadline starts when a worker takes the request; a client also spends the time its request waits for a
busy worker (with more clients than workers, behind another request that is spending its own deadline on a
dead database). So once a request of this process has found a database unavailable, the requests of the
next DB_UNAVAILABLE_RETRY_SECONDS are refused a connection to it at once (503 without waiting): a client
waits at most one request's deadline for a worker, and then is answered at once. The first request after
that window tries the database again (and, if it is back, service resumes)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from contextlib import suppress

from django.conf import settings
from django.db import OperationalError, connections

logger = logging.getLogger(__name__)


class _Watch:
    __slots__ = ("deadline", "expired", "refused", "wrappers")

    def __init__(self, deadline: float, wrappers: list):
        self.deadline = deadline
        self.wrappers = wrappers
        self.expired = False  # the deadline passed: every connection was cut
        self.refused = False  # some databases were presumed unavailable when the request began


_watches: dict[int, _Watch] = {}
_lock = threading.Lock()
_thread: threading.Thread | None = None
_thread_pid = 0
# Database alias -> time.monotonic() until which this process presumes that database unavailable.
_unavailable_until: dict[str, float] = {}


def _refuse_new_connection(*args, **kwargs):
    raise OperationalError("no new database connection: the deadline passed, or the database was just unavailable")


def _cut(watch: _Watch, *, log: bool = True, aliases: set[str] | None = None) -> None:
    """Cut the request's database connections (those of `aliases` only, when given) and refuse it new ones."""
    if aliases is None:
        watch.expired = True
    else:
        watch.refused = True
    for wrapper in watch.wrappers:
        if aliases is not None and wrapper.alias not in aliases:
            continue
        wrapper.get_new_connection = _refuse_new_connection  # instance attribute; removed by end()
        raw = wrapper.connection
        if raw is None:
            continue
        with suppress(Exception):
            fd = raw.pgconn.socket if hasattr(raw, "pgconn") else raw.fileno()
            dup = socket.socket(fileno=os.dup(fd))
            try:
                dup.shutdown(socket.SHUT_RDWR)
            finally:
                dup.close()
    if log:
        seconds = settings.DB_REQUEST_DEADLINE_SECONDS
        logger.error("database call over the request deadline (%ss): connection cut", seconds)


def _run() -> None:
    while True:
        time.sleep(0.1)
        now = time.monotonic()
        with _lock:
            due = [w for w in _watches.values() if not w.expired and w.deadline <= now]
            for watch in due:
                _cut(watch)


def _ensure_thread() -> None:
    global _thread, _thread_pid
    if _thread is None or _thread_pid != os.getpid() or not _thread.is_alive():  # gunicorn forks workers
        _thread_pid = os.getpid()
        _thread = threading.Thread(target=_run, name="db-deadline", daemon=True)
        _thread.start()


def begin() -> None:
    seconds = settings.DB_REQUEST_DEADLINE_SECONDS
    if not seconds or not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    _ensure_thread()
    now = time.monotonic()
    watch = _Watch(now + seconds, [connections[alias] for alias in connections])
    with _lock:
        _watches[threading.get_ident()] = watch
        presumed = {alias for alias, until in _unavailable_until.items() if now < until}
        if presumed:
            _cut(watch, log=False, aliases=presumed)


def unavailable() -> None:
    """A request of this process found a database unavailable (a failed connection or call, the deadline):
    presume it still is for DB_UNAVAILABLE_RETRY_SECONDS. The databases are those whose connection had an
    error in this request (Django's `errors_occurred`), so a replica that stopped does not shut the primary
    out (config/replicas.py serves the read again there); without replicas, the one database. A refusal
    within the window does not extend it, so the first request after it tries the database again."""
    wrappers = connections.all(initialized_only=True)
    failed = {wrapper.alias for wrapper in wrappers if wrapper.errors_occurred}
    if not failed and len(settings.DATABASES) == 1:
        failed = {next(iter(settings.DATABASES))}
    now = time.monotonic()
    with _lock:
        for alias in failed:
            if now >= _unavailable_until.get(alias, 0.0):
                _unavailable_until[alias] = now + settings.DB_UNAVAILABLE_RETRY_SECONDS


def end() -> None:
    with _lock:
        watch = _watches.pop(threading.get_ident(), None)
    if watch is not None and (watch.expired or watch.refused):
        if watch.expired:
            unavailable()
        for wrapper in watch.wrappers:
            wrapper.__dict__.pop("get_new_connection", None)
            with suppress(Exception):
                wrapper.close()
