"""Per-API-client rate limits: a fixed window counted in the shared cache (Redis when REDIS_URL is set),
so that every server process counts against the same limit. Over the limit: 429 with Retry-After."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "second": 1, "m": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "6000/minute" -> (6000, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


class ApiClientThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        client = request.user
        if not getattr(client, "is_api_client", False):
            return True  # unauthenticated requests are refused before they cost anything
        limit, period = parse_rate(settings.API_THROTTLE_RATE)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{client.pk}:{period}:{window}"
        # incr() is atomic on Redis, so concurrent processes never both take the last slot. The first
        # request of a window creates the counter (add() is atomic too; a lost race just increments).
        try:
            count = cache.incr(key)
        except ValueError:
            count = 1 if cache.add(key, 1, timeout=period + 5) else cache.incr(key)
        self._wait = (window + 1) * period - now
        return count <= limit

    def wait(self) -> float:
        return self._wait
