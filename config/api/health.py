from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import deadline, throttling


def _redis() -> str:
    client = throttling.redis_client()
    if client is None:
        return "not_configured"
    try:
        client.ping()
    except Exception:  # any Redis failure means "unreachable"; never a 500
        return "unreachable"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """Readiness: 503 when the database does not answer (the API cannot work without it); 200 otherwise.
    Redis is reported by name: when it is unreachable the API keeps answering with throttling failing
    open (config/api/throttling.py), so the status is "degraded" and the code stays 200, lest a load
    balancer take every instance out because of the throttle's store."""
    redis = _redis()
    body = {
        "status": "ok" if redis != "unreachable" else "degraded",
        "database": "ok",
        "redis": redis,
        "throttle_fail_open_total": throttling.redis_state.fail_open_total,
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not ready"; never a 500
        deadline.unavailable()
        body.update(status="unavailable", database="unreachable", error=type(exc).__name__)
        return JsonResponse(body, status=503)
    if settings.REDIS_URL and redis == "unreachable":
        body["error"] = "redis unreachable: throttling fails open"
    return JsonResponse(body)
