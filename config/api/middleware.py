import logging
import re

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import Resolver404, resolve

from . import deadline, dialects, errors, request_id
from .dialects import Problem

logger = logging.getLogger("config.api")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request_id.choose(request.META.get(request_id.META_KEY))  # META: see config/api/negotiation.py
        request.request_id = value
        token = request_id.bind(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.unbind(token)
        response[request_id.HEADER] = value
        return response


_GENERIC = {
    404: Problem("not_found", "The requested path does not exist.", "not_found"),
    405: Problem("method_not_allowed", "Method not allowed.", "method_not_allowed"),
    400: Problem("malformed", "Bad request.", "malformed"),
    403: Problem("forbidden", "Forbidden.", "forbidden"),
}


# Paths under the API prefixes that belong to no family (GET /v1/nonexistent): still JSON, in the
# dialect of the family nearest to the prefix.
_FALLBACKS = (("/v1beta1", "billing"), ("/v1", "benefits"), ("/customers", "credits"))


def _dialect_for(path: str) -> dialects.Dialect | None:
    dialect = dialects.for_path(path)
    if dialect is not None:
        return dialect
    for prefix, name in _FALLBACKS:
        if path == prefix or path.startswith(prefix + "/"):
            return dialects.get(name)
    return None


def api_dialect(request: HttpRequest) -> dialects.Dialect | None:
    """The dialect of the family whose path prefix was asked (None: not an API path), worked out once
    per request."""
    try:
        return request._api_dialect
    except AttributeError:
        request._api_dialect = dialect = _dialect_for(request.path)
        return dialect


def is_api(request: HttpRequest) -> bool:
    """An API request: a family's path, or /healthz."""
    return request.path == "/healthz" or api_dialect(request) is not None


def _over_limits(request: HttpRequest) -> Problem | None:
    """414 for an over-long URL, 431 for an over-long header, in the family's dialect. (Beyond
    gunicorn's own limits, gunicorn.conf.py, gunicorn answers itself, in HTML: see README.)"""
    url_limit, header_limit = settings.API_MAX_URL_LENGTH, settings.API_MAX_HEADER_LENGTH
    if len(request.get_full_path()) > url_limit:
        return Problem("too_large", f"The URL is longer than {url_limit} characters.", "uri_too_long", status=414)
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str) and len(value) > header_limit:
            header = name[5:].replace("_", "-").title()
            return Problem(
                "too_large",
                f"The {header} header is longer than {header_limit} characters.",
                "header_too_large",
                status=431,
            )
    return None


_PATH_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _control_in_path(path: str) -> Problem:
    """The answer to a path holding a control character: 400, naming the path parameter that holds it, or
    404 when no route takes it (an id that is a UUID or a number cannot hold one)."""
    try:
        kwargs = resolve(path).kwargs
    except Resolver404:
        return _GENERIC[404]
    name = next((key for key, value in kwargs.items() if _PATH_CONTROL.search(str(value))), "path")
    message = f"{name} must not hold a control character."
    return Problem("validation", message, "validation_failed", fields={name: [message]})


class FamilyErrorMiddleware:
    """Errors that never reach a DRF view (unknown paths, unexpected exceptions, oversized bodies read
    by Django itself) still answer JSON in the dialect of the family whose path prefix was asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        dialect = api_dialect(request)
        if _PATH_CONTROL.search(request.path):
            # Before any query, on every route: no path parameter holds a NUL or another control character
            # (PostgreSQL cannot store a NUL, and no id, key or name of the product holds one).
            if dialect is None:
                return HttpResponseBadRequest("The path holds a control character.", content_type="text/plain")
            return errors.render(_control_in_path(request.path_info), dialect)
        if dialect is not None and (problem := _over_limits(request)) is not None:
            return errors.render(problem, dialect)
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
            return response
        if dialect is None:
            return response
        problem = _GENERIC.get(response.status_code)
        if problem is None:
            return response
        return errors.render(problem, dialect)

    def process_exception(self, request: HttpRequest, exception: Exception):
        dialect = api_dialect(request)
        if dialect is None:
            return None
        problem = errors.problem_from_exception(exception)
        if problem is None:
            logger.error("unhandled error in %s %s", request.method, request.path, exc_info=exception)
            problem = errors.internal_problem()
        elif problem.kind == "unavailable":
            errors.database_unavailable(exception)
        return errors.render(problem, dialect)


class DatabaseDeadlineMiddleware:
    """Every API request and /healthz gets DB_REQUEST_DEADLINE_SECONDS for its database work (see
    config/api/deadline.py); the admin and the documentation pages do not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request):
            return self.get_response(request)
        deadline.begin()
        try:
            return self.get_response(request)
        finally:
            deadline.end()


# --- the admin's middleware, which API requests skip ---


class _BrowserOnly:
    """Django's middleware for the admin's browser sessions, which an API request (is_api) passes by: the
    API authenticates every request by its key or token (DRF's authentication, never a session cookie),
    sets no cookies and shows no messages. Skipping them saves CPU on every API request (docs/scaling.md). They
    are subclasses, so Django's admin checks (admin.E408-E410) still find them. (CSRF stays Django's own,
    for every request: `check --deploy` looks for it by name, and DRF's views are csrf_exempt anyway.)"""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_BrowserOnly, sessions_middleware.SessionMiddleware):
    """Sessions end after SESSION_COOKIE_AGE idle: a request that reads a session without changing it
    moves only its expiry on (the stored row's expire_date and the cookie), never rewriting its data. (Django's
    SESSION_SAVE_EVERY_REQUEST would rewrite the whole session on every request, so that a request running
    alongside one that signs in, passes the second factor or re-authenticates could put the old data back.)"""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        session = getattr(request, "session", None)
        if session is None or not session.accessed or session.modified or response.status_code >= 500:
            return response
        key = session.session_key
        if key is None or session.is_empty() or not hasattr(session, "get_model_class"):
            return response
        age = session.get_expiry_age()
        session.get_model_class().objects.filter(session_key=key).update(expire_date=session.get_expiry_date())
        response.set_cookie(
            settings.SESSION_COOKIE_NAME,
            key,
            max_age=age,
            domain=settings.SESSION_COOKIE_DOMAIN,
            path=settings.SESSION_COOKIE_PATH,
            secure=settings.SESSION_COOKIE_SECURE or None,
            httponly=settings.SESSION_COOKIE_HTTPONLY or None,
            samesite=settings.SESSION_COOKIE_SAMESITE,
        )
        return response


class AuthenticationMiddleware(_BrowserOnly, auth_middleware.AuthenticationMiddleware):
    pass


class MessageMiddleware(_BrowserOnly, messages_middleware.MessageMiddleware):
    pass
