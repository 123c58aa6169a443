"""Reads from streaming replicas (DATABASE_REPLICA_URLS), with read-your-writes by log position.

Which requests read from a replica: GET and HEAD (lists, retrieves, reports, exports, the staff pages),
for the project's own models, outside any transaction. Everything else uses the primary: every write,
every statement inside a transaction (a service's reads under its locks, the liability report's rollup),
every request that may write (POST, PUT, PATCH, DELETE), and the rows authentication depends on (API
clients, staff users and their sessions: a deactivation applies at once, whatever a replica's lag).

Read-your-writes, by log position rather than a fixed pin window: after a request that wrote, the
primary's WAL insert position (`pg_current_wal_insert_lsn()`, past the request's commit) is kept in the
shared cache (Redis) under each credential the request carried (the API key or Authorization header, the
staff session cookie, hashed). A replica serves that client's next read only once its replay position
(`pg_last_wal_replay_lsn()`) has passed it; until then the primary does. A window would either be too
short for a replica that falls behind (a stale read) or send every read of every recent writer to the
primary for its whole length; the log position is exact, and costs one cache read per GET and one
primary query and cache write per writing request. A position that could not be kept (the cache failed the
write) pins the writer's credentials to the primary in this process for DATABASE_REPLICA_MAX_LAG_SECONDS
(a replica allowed to serve is at most that far behind, so by then it has the write) and stops trusting
the cache here for RETRY_SECONDS; other processes do not learn of the pin, so if the cache answers them
again at once, a read of theirs may meet a replica that has not replayed the write yet.

A replica further behind than DATABASE_REPLICA_MAX_LAG_SECONDS, or unreachable, is skipped without an
error answer: the primary serves, and an unreachable replica is not asked again for RETRY_SECONDS. The
shared cache unreachable: the client's position is unknown, so the primary serves."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections

logger = logging.getLogger("config.replicas")

PRIMARY = "default"
RETRY_SECONDS = 5.0  # an unreachable replica (or cache) is not asked again for this long
STATUS_SECONDS = 0.25  # each process reuses a replica's replay position and lag this long
POSITION_SECONDS = 600  # a client's last write position is kept this long (far past any allowed lag)
_ROUTED_APPS = frozenset({"config", "customers", "credits", "discounts", "billing"})
_PRIMARY_ONLY = frozenset({("customers", "apiclient")})
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_CACHE_PREFIX = "replica-lsn:"

# The replay position, and how far behind the primary the replica is: 0 when it is streaming and has
# replayed all it received, else the age of the last transaction it replayed (so an idle primary is no
# lag). A replica that is not streaming (its WAL receiver stopped, or cut off by a failover) has replayed
# all it received and still falls behind: it counts as too far behind, whatever it last replayed. The
# receiver's status is shown to superusers and to roles with pg_read_all_stats (pg_monitor); for any
# other role it reads as not streaming and the primary serves every read.
STATUS_SQL = """SELECT pg_last_wal_replay_lsn()::text,
    CASE WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 1e9
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
         ELSE COALESCE(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 1e9) END"""


@dataclass
class _Request:
    reads: bool
    keys: list[str]
    wrote: bool = False
    alias: str | None = None
    position: int | None = field(default=None)


_state: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("replica_request", default=None)
_status: dict[str, tuple[float, int, float]] = {}
_down_until: dict[str, float] = {}
_pinned: dict[str, float] = {}  # credential -> until when its reads use the primary (its position was lost)


def lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def _unavailable(what: str, error: Exception) -> None:
    _down_until[what] = time.monotonic() + RETRY_SECONDS
    logger.warning("%s unavailable (%s): the primary serves reads for %ss", what, error, RETRY_SECONDS)


def replica_status(alias: str, *, fresh: bool = False) -> tuple[int, float] | None:
    """(replay position, lag seconds) of a replica, or None while it is unreachable."""
    now = time.monotonic()
    if _down_until.get(alias, 0) > now:
        return None
    cached = _status.get(alias)
    if cached and not fresh and now - cached[0] < STATUS_SECONDS:
        return cached[1], cached[2]
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(STATUS_SQL)
            replay, lag = cursor.fetchone()
    except DatabaseError as error:
        _unavailable(alias, error)
        with contextlib.suppress(DatabaseError):
            connections[alias].close()
        return None
    if replay is None:  # not (or no longer) a standby
        return None
    _status[alias] = (now, lsn(replay), float(lag))
    return _status[alias][1], _status[alias][2]


def _client_position(state: _Request) -> int | None:
    """The client's last write position (0: none known), or None when the cache cannot say."""
    if not state.keys:
        return 0
    now = time.monotonic()
    if _down_until.get("cache", 0) > now or any(_pinned.get(key, 0) > now for key in state.keys):
        return None
    try:
        found = cache.get_many([_CACHE_PREFIX + key for key in state.keys])
    except Exception as error:  # any cache backend's failure: the position is unknown
        _unavailable("cache", error)
        return None
    return max((lsn(value) for value in found.values()), default=0)


def _choose(state: _Request) -> str:
    aliases = replica_aliases()
    if not aliases:
        return PRIMARY
    needed = _client_position(state)
    if needed is None:
        return PRIMARY
    random.shuffle(aliases)
    for alias in aliases:
        status = replica_status(alias)
        if status is not None and status[0] < needed:
            status = replica_status(alias, fresh=True)
        if status is not None and status[0] >= needed and status[1] <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
            return alias
    return PRIMARY


def read_alias() -> str:
    """The database this request's reads use (chosen once per request): the primary outside a request,
    for a request that may write, and once the request has written (its reads then see its writes)."""
    state = _state.get()
    if state is None or not state.reads or state.wrote:
        return PRIMARY
    if state.alias is None:
        state.alias = _choose(state)
    return state.alias


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        meta = model._meta
        if meta.app_label not in _ROUTED_APPS or (meta.app_label, meta.model_name) in _PRIMARY_ONLY:
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return read_alias()

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


def _hashed(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def _client_keys(request) -> list[str]:
    meta = request.META
    keys = [_hashed(name, meta[name]) for name in ("HTTP_X_API_KEY", "HTTP_AUTHORIZATION") if meta.get(name)]
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session:
        keys.append(_hashed("session", session))
    return keys


def remember_write(keys: list[str]) -> None:
    """Keep the primary's current WAL position for each of the writer's credentials."""
    if not keys:
        return
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            position = cursor.fetchone()[0]
        cache.set_many({_CACHE_PREFIX + key: position for key in keys}, timeout=POSITION_SECONDS)
    except Exception as error:  # the answer stands (the write committed); its reads go to the primary
        until = time.monotonic() + settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        for key in list(_pinned):
            if _pinned[key] <= time.monotonic():
                del _pinned[key]
        for key in keys:
            _pinned[key] = max(_pinned.get(key, 0), until)
        _unavailable("cache", error)
        logger.warning(
            "write position not kept (%s): this writer's reads use the primary for %ss",
            error,
            settings.DATABASE_REPLICA_MAX_LAG_SECONDS,
        )


class ReplicaMiddleware:
    """Opens each request's routing state; after a request that wrote, keeps its write position. A read
    request that failed (5xx) on a replica that turns out to be unreachable now (it stopped between its
    status check and the request's query) is served again by the primary: it wrote nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def _run(self, request, state: _Request):
        token = _state.set(state)
        try:
            return self.get_response(request)
        finally:
            _state.reset(token)

    def __call__(self, request):
        state = _Request(reads=request.method in _READS, keys=_client_keys(request))
        response = self._run(request, state)
        replica = state.alias
        failed_on_replica = response.status_code >= 500 and replica not in (None, PRIMARY) and not state.wrote
        if failed_on_replica and replica_status(replica, fresh=True) is None:
            state = _Request(reads=False, keys=state.keys)  # every read on the primary this time
            response = self._run(request, state)
        if (state.wrote or not state.reads) and response.status_code < 500:
            session = response.cookies.get(settings.SESSION_COOKIE_NAME)
            keys = state.keys + ([_hashed("session", session.value)] if session and session.value else [])
            remember_write(keys)
        return response
