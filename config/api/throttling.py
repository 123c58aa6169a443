"""Per-API-client rate limits: a fixed window counted in a shared store, so that every server process
counts against the same limit. Over the limit: 429 with Retry-After.

The store is Redis when REDIS_URL is set: one command per request, an EVAL of `_INCR_WINDOW` (INCR, and
EXPIRE when the window's key is new), atomic on the server, sent on a connection each thread keeps (no
pool checkout, no pipeline object: the throttle is on every request's path). Without REDIS_URL: the
default cache (the database cache in production settings).

Degraded mode, Redis unreachable: the throttle FAILS OPEN. The request is let through unthrottled, a
warning is logged (`config.api.throttling`, at most once per REDIS_RETRY_SECONDS per process) and the
process's `throttle_fail_open_total` counter (shown by /healthz) goes up. The time a request can lose
to a dead Redis is bounded by REDIS_TIMEOUT_SECONDS, and after a failure Redis is not asked again for
REDIS_RETRY_SECONDS (requests pass without waiting); then the next request tries it again, so the
limits come back by themselves when Redis does. The API never answers 500 because of Redis."""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "second": 1, "m": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "6000/minute" -> (6000, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


# Counts this request in its window: the count after it. The key is the window's own, so it only needs
# its expiry set once, when INCR creates it. Redis caches the compiled script by its SHA1 (EVAL with the
# text costs hashing 100 bytes, and never meets NOSCRIPT after a Redis restart).
_INCR_WINDOW = (
    "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
)


class _RedisState:
    """The process's Redis client, and what it knows about Redis being down."""

    def __init__(self):
        self.local = threading.local()
        self.lock = threading.Lock()
        self.url = None
        self.client: redis.Redis | None = None
        self.down_until = 0.0
        self.fail_open_total = 0
        self.last_error = ""

    def get(self) -> redis.Redis:
        url = settings.REDIS_URL
        if self.client is None or self.url != url:
            with self.lock:
                timeout = settings.REDIS_TIMEOUT_SECONDS
                self.client = redis.Redis.from_url(  # no retries: a failure fails open at once
                    url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
                )
                self.url = url
                self.down_until = 0.0
        return self.client

    def connection(self) -> redis.Connection:
        """This thread's own connection, made with the client's settings (timeouts, no retries); it
        connects on first use and again after a failure disconnected it."""
        client = self.get()
        local = self.local
        if getattr(local, "client", None) is not client:
            pool = client.connection_pool
            local.connection = pool.connection_class(**pool.connection_kwargs)
            local.client = client
        return local.connection

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.fail_open_total += 1
            self.last_error = f"{type(error).__name__}: {error}"
            warn = self.down_until <= now
            self.down_until = now + settings.REDIS_RETRY_SECONDS
        if warn:
            logger.warning(
                "Redis unreachable (%s): throttling fails open (requests pass unthrottled) for %ss, then retries",
                self.last_error,
                settings.REDIS_RETRY_SECONDS,
            )


redis_state = _RedisState()


def redis_client() -> redis.Redis | None:
    """The process's shared Redis client, or None when REDIS_URL is not set."""
    return redis_state.get() if settings.REDIS_URL else None


def _count(key: str, period: int) -> int | None:
    """The window's count after this request, or None when the store is unreachable (fail open)."""
    if not settings.REDIS_URL:
        try:
            return cache.incr(key)
        except ValueError:
            return 1 if cache.add(key, 1, timeout=period + 5) else cache.incr(key)
    connection = redis_state.connection()
    if redis_state.down_until > time.monotonic():
        with redis_state.lock:
            redis_state.fail_open_total += 1
        return None
    try:
        connection.send_command("EVAL", _INCR_WINDOW, 1, key, period + 5)
        return connection.read_response()
    except redis.RedisError as error:
        connection.disconnect()
        redis_state.failed(error)
        return None


class ApiClientThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        client = request.user
        if not getattr(client, "is_api_client", False):
            return True  # unauthenticated requests are refused before they cost anything
        limit, period = parse_rate(settings.API_THROTTLE_RATE)
        now = time.time()
        window = int(now // period)
        # INCR is atomic on Redis, so concurrent processes never both take the last slot.
        count = _count(f"throttle:{client.pk}:{period}:{window}", period)
        self._wait = (window + 1) * period - now
        return count is None or count <= limit

    def wait(self) -> float:
        return self._wait
