"""Re-authentication ("sudo mode"): before creating API clients, changing an account's approval
threshold, deciding an approval request or resetting another user's second factor, the staff member
types their password again; it holds for STAFF_REAUTH_SECONDS in this session."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_KEY = "staff_reauthenticated_at"


def is_recent(request) -> bool:
    at = request.session.get(SESSION_KEY)
    return at is not None and time.time() - at < settings.STAFF_REAUTH_SECONDS


def mark(request) -> None:
    request.session[SESSION_KEY] = time.time()


def redirect(request, back: str | None = None) -> HttpResponseRedirect:
    """To the password page, and from there back to `back` (default: this page, as a GET)."""
    return HttpResponseRedirect(f"{reverse('staff:reauth')}?{urlencode({'next': back or request.get_full_path()})}")


def required(view):
    """For a view function or method whose last positional argument before the URL's is the request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        request = next(arg for arg in args if hasattr(arg, "session"))
        if not is_recent(request):
            return redirect(request)
        return view(*args, **kwargs)

    return wrapper
