"""Sign-in throttling with django-axes: failures are counted per username and, separately, per client
address; STAFF_SIGNIN_FAILURE_LIMIT failures within the cool-off lock that username (whether or not it
exists) or that address out. The first lockout lasts STAFF_LOCKOUT_SECONDS; every further failure
while locked out doubles it, up to STAFF_LOCKOUT_MAX_SECONDS. The answer is the same for a username
that exists and one that does not."""

from __future__ import annotations

from datetime import timedelta

from axes.helpers import get_client_ip_address, get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Max, Q
from django.shortcuts import render


def _failures(request) -> int:
    username = get_client_username(request) if request is not None else None
    address = getattr(request, "axes_ip_address", None) or (get_client_ip_address(request) if request else None)
    match = Q()
    if username:
        match |= Q(username=username)
    if address:
        match |= Q(ip_address=address)
    if not match:
        return 0
    return AccessAttempt.objects.filter(match).aggregate(most=Max("failures_since_start"))["most"] or 0


def cool_off(request=None) -> timedelta:
    """AXES_COOLOFF_TIME: grows with the failures beyond the limit."""
    over = max(0, _failures(request) - settings.AXES_FAILURE_LIMIT)
    seconds = settings.STAFF_LOCKOUT_SECONDS * 2 ** min(over, 32)
    return timedelta(seconds=min(seconds, settings.STAFF_LOCKOUT_MAX_SECONDS))


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{(seconds + 59) // 60} minutes"
    return f"{(seconds + 3599) // 3600} hours"


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 with a plain message; it names no username and says nothing about
    whether one exists."""
    context = {
        **admin.site.each_context(request),
        "title": "Signing in is paused",
        "wait": _duration(cool_off(request)),
    }
    # Rendered here: this answer comes from the middleware, after the view's templates were rendered.
    response = render(request, "staff/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(cool_off(request).total_seconds()))
    return response
