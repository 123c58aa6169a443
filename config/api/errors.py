"""The one exception-to-response path of the project. Every error, from a DRF view, a domain service
or Django itself, becomes a `Problem`, which the family's dialect renders."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf

from config.kernel.exceptions import DomainError, InvalidInput

from . import deadline, dialects, request_id
from .dialects import Dialect, Problem
from .idempotency import Replay

logger = logging.getLogger("config.api")

_DRF_KINDS: list[tuple[type[Exception], str]] = [
    (drf.ParseError, "malformed"),
    (drf.NotAuthenticated, "unauthenticated"),
    (drf.AuthenticationFailed, "unauthenticated"),
    (drf.PermissionDenied, "forbidden"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "throttled"),
]


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"dotted.path": [messages]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" and prefix else (f"{prefix}.{key}" if prefix else str(key))
            for path, messages in flatten_errors(value, name).items():
                flat.setdefault(path, []).extend(messages)
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "body": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            for path, messages in flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)).items():
                flat.setdefault(path, []).extend(messages)
        return flat
    return {prefix or "body": [str(detail)]}


def _validation_message(fields: dict[str, list[str]]) -> str:
    first_field, messages = next(iter(fields.items()))
    message = messages[0] if messages else "is invalid"
    text = message if first_field == "body" else f"{first_field}: {message}"
    more = sum(len(m) for m in fields.values()) - 1
    if more > 0:
        text += f" (and {more} more error{'s' if more > 1 else ''})"
    return text


def problem_from_exception(exc: Exception) -> Problem | None:
    """The Problem an exception stands for, or None for an unexpected error (a 500)."""
    if isinstance(exc, InvalidInput):
        return Problem("validation", exc.message, exc.code, fields=exc.fields)
    if isinstance(exc, DomainError):
        return Problem(
            exc.kind, exc.message, exc.code, args=exc.message_args, headers=dict(getattr(exc, "headers", {}))
        )
    if isinstance(exc, drf.ValidationError):
        fields = flatten_errors(exc.detail)
        return Problem("validation", _validation_message(fields), "validation_failed", fields=fields)
    for exc_class, kind in _DRF_KINDS:
        if isinstance(exc, exc_class):
            problem = Problem(kind, str(exc.detail), kind)
            if isinstance(exc, drf.Throttled) and exc.wait is not None:
                problem.headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
            return problem
    if isinstance(exc, Http404):
        return Problem("not_found", "Not found.", "not_found")
    if isinstance(exc, DjangoPermissionDenied):
        return Problem("forbidden", "You do not have permission to perform this action.", "forbidden")
    if isinstance(exc, RequestDataTooBig):
        return Problem("too_large", "The request body is larger than 1 MiB.", "too_large")
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "statement timeout" in str(exc)
    ):
        return Problem(
            "unavailable",
            "The service is temporarily unavailable; try again shortly.",
            "unavailable",
            headers={"Retry-After": "5"},
        )
    return None


def database_unavailable(exc: Exception) -> None:
    logger.error("database unavailable: %s", exc)
    deadline.unavailable()


def internal_problem() -> Problem:
    return Problem(
        "internal",
        f"An unexpected error occurred; quote request id {request_id.current()} when reporting it.",
        "internal",
    )


def render(problem: Problem, dialect: Dialect) -> JsonResponse:
    status = dialect.status_for(problem)
    response = JsonResponse(dialect.body(problem, status, request_id.current()), status=status)
    for name, value in problem.headers.items():
        response[name] = value
    return response


def dialect_for(view, request) -> Dialect:
    name = getattr(view, "dialect", None)
    if name:
        return dialects.get(name)
    return dialects.for_path(request.path) or dialects.get("credits")


def exception_handler(exc: Exception, context: dict):
    """DRF's EXCEPTION_HANDLER: every error raised in an API view passes through here."""
    if isinstance(exc, Replay):
        return exc.response
    problem = problem_from_exception(exc)
    request = context.get("request")
    view = context.get("view")
    if problem is None:
        logger.exception("unhandled error in %s %s", getattr(request, "method", "?"), getattr(request, "path", "?"))
        problem = internal_problem()
    elif problem.kind == "unavailable":
        database_unavailable(exc)
    response = render(problem, dialect_for(view, request))
    if problem.kind == "unauthenticated":
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
