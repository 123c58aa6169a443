from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    """Liveness and database check: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not ready"; never a 500
        return JsonResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(exc).__name__}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})
