"""A per-request deadline on the database, enforced from outside the request's thread.

libpq's keepalives and `tcp_user_timeout` (config/settings/base.py) end a connection whose packets are
lost, and `statement_timeout` ends a slow statement on the server; but a server (or proxy) that still
acknowledges packets and answers slowly, or not at all, would hold a worker until gunicorn kills it.
So every API request (and /healthz) gets DB_REQUEST_DEADLINE_SECONDS: when it is still running then,
a watchdog thread cuts its database socket (shutdown), which makes the blocked database call fail with
OperationalError at once (answered 503 in the family's dialect), and refuses the request any new
database connection. The connection is discarded at the end of the request; the next request opens a
fresh one, so service resumes by itself."""

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
    __slots__ = ("deadline", "expired", "wrappers")

    def __init__(self, deadline: float, wrappers: list):
        self.deadline = deadline
        self.wrappers = wrappers
        self.expired = False


_watches: dict[int, _Watch] = {}
_lock = threading.Lock()
_thread: threading.Thread | None = None
_thread_pid = 0


def _refuse_new_connection(*args, **kwargs):
    raise OperationalError("request deadline passed: no new database connection")


def _cut(watch: _Watch) -> None:
    watch.expired = True
    for wrapper in watch.wrappers:
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
    logger.error("database call over the request deadline (%ss): connection cut", settings.DB_REQUEST_DEADLINE_SECONDS)


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
    watch = _Watch(time.monotonic() + seconds, [connections[alias] for alias in connections])
    with _lock:
        _watches[threading.get_ident()] = watch


def end() -> None:
    with _lock:
        watch = _watches.pop(threading.get_ident(), None)
    if watch is not None and watch.expired:
        for wrapper in watch.wrappers:
            wrapper.__dict__.pop("get_new_connection", None)
            with suppress(Exception):
                wrapper.close()
