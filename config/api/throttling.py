"""Per-API-client rate limits: a fixed window counted in a shared store, so that every server process
counts against the same limit. Over the limit: 429 with Retry-After.

The store is Redis when REDIS_URL is set: one round trip per request (INCR and EXPIRE in one pipeline)
on a client (and connection pool) built once per process. Without REDIS_URL: the default cache (the
database cache in production settings).

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


class _RedisState:
    """The process's Redis client, and what it knows about Redis being down."""

    def __init__(self):
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
    client = redis_state.get()
    if redis_state.down_until > time.monotonic():
        with redis_state.lock:
            redis_state.fail_open_total += 1
        return None
    try:
        pipe = client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, period + 5)
        count, _ = pipe.execute()
    except redis.RedisError as error:
        redis_state.failed(error)
        return None
    return count


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
