"""The discounts family's seam (Dintero-style, under /v1/accounts/{aid}/): its error dialect, its keyset
pagination and its base view. Errors: {"error": {"code", "message"}}; validation adds
"errors": [{field, message}].

Pagination: The discounts family's pagination (Dintero style): `limit` and `starting_after` (the id of the last
object of the previous page), a bare JSON array, and a `Link: <...>; rel="next"` header when more
follow. Pages are keyset ranges over (created_at, id), so page 10,000 costs the same as page 1."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from rest_framework.utils.urls import replace_query_param

from config.api.dialects import Dialect, Problem, register
from config.api.views import FamilyAPIView
from config.kernel.exceptions import InvalidInput
from config.kernel.values import uuid_or_none

NAME = "discounts"

_CODE_FOR_KIND = {
    "validation": "validation_error",
    "malformed": "bad_request",
    "unauthenticated": "unauthorized",
    "forbidden": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "conflict": "conflict",
    "not_possible": "bad_request",
    "too_large": "payload_too_large",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "too_many_requests",
    "internal": "internal_error",
    "unavailable": "service_unavailable",
}


@register
class DiscountsDialect(Dialect):
    name = NAME
    prefixes = ("/v1/accounts/",)

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        # Generic codes (named after the kind of problem) get this family's name for them.
        generic = problem.code in _CODE_FOR_KIND or problem.code in {"validation_failed", "error"}
        code = _CODE_FOR_KIND[problem.kind] if generic or "." in problem.code else problem.code
        error: dict = {"code": code, "message": problem.message}
        if problem.fields:
            error["errors"] = [
                {"field": field, "message": message}
                for field, messages in problem.fields.items()
                for message in messages
            ]
        return {"error": error}

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                }
            },
        }


# --- pagination ---


def limit_of(request, *, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise InvalidInput.single("limit", f"limit must be a whole number from 1 to {maximum}.", code="invalid_limit")
    return int(raw)


def after(queryset: QuerySet, anchor: dict) -> QuerySet:
    """The objects after `anchor` in (created_at, id) order. The redundant `created_at >= X` bound gives
    PostgreSQL an index range that starts at the cursor; the OR alone makes it walk the index from the
    beginning (12x slower at 1,000,000 rows in the harness's "lists" rows)."""
    return queryset.filter(created_at__gte=anchor["created_at"]).filter(
        Q(created_at__gt=anchor["created_at"]) | Q(created_at=anchor["created_at"], id__gt=anchor["id"])
    )


def page(request, queryset: QuerySet, *, default: int = 10, maximum: int = 100) -> tuple[list, dict[str, str]]:
    """One page of `queryset` (whose objects have created_at and id) and the headers to send with it."""
    limit = limit_of(request, default=default, maximum=maximum)
    starting_after = request.query_params.get("starting_after")
    queryset = queryset.order_by("created_at", "id")
    if starting_after is not None:
        anchor = (
            queryset.filter(pk=starting_after).values("created_at", "id").first()
            if uuid_or_none(starting_after)
            else None
        )
        if anchor is None:
            raise InvalidInput.single("starting_after", "No object with that id in this list.", code="invalid_cursor")
        queryset = after(queryset, anchor)
    items = list(queryset[: limit + 1])
    headers = {}
    if len(items) > limit:
        items = items[:limit]
        url = replace_query_param(request.build_absolute_uri(), "limit", limit)
        headers["Link"] = f'<{replace_query_param(url, "starting_after", items[-1].pk)}>; rel="next"'
    return items, headers


# --- base view ---


class DiscountsFamilyView(FamilyAPIView):
    dialect = NAME
