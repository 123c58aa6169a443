"""The billing family's seam (Frontier-style, under /v1beta1/): its error dialect with the map from the
domain's error codes (billing/errors.py) to the vendor's statuses and messages, its page-token pagination,
and its base views. Errors: {"code": <gRPC status number>, "message", "details": [...]}."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from billing.errors import BillingError
from config.api.dialects import Dialect, Problem, register
from config.api.views import ActionRoutedViewSetMixin, FamilyAPIView
from config.kernel.exceptions import InvalidInput
from config.kernel.values import ascii_int

NAME = "billing"

# gRPC status codes (google.rpc.Code) for each kind of problem.
GRPC = {
    "validation": 3,  # INVALID_ARGUMENT
    "malformed": 3,
    "not_possible": 3,
    "too_large": 3,
    "unsupported_media_type": 3,
    "not_acceptable": 3,
    "unauthenticated": 16,  # UNAUTHENTICATED
    "forbidden": 7,  # PERMISSION_DENIED
    "not_found": 5,  # NOT_FOUND
    "conflict": 6,  # ALREADY_EXISTS
    "method_not_allowed": 12,  # UNIMPLEMENTED
    "throttled": 8,  # RESOURCE_EXHAUSTED
    "internal": 13,  # INTERNAL
    "unavailable": 14,  # UNAVAILABLE
}

# Domain error codes the vendor answers differently from the kind's default: (HTTP status, gRPC code,
# the vendor's message or None to keep ours). The vendor's message goes in `message`; ours, with the
# domain code, in a google.rpc.ErrorInfo detail.
ERROR_CODES: dict[str, tuple[int, int, str | None]] = {
    # The vendor answers InvalidArgument when the usage to revert is not found (credit.ErrNotFound).
    BillingError.USAGE_NOT_FOUND: (400, 3, None),
    BillingError.REVERT_EXCEEDS_USAGE: (400, 3, "revert amount is greater than the usage amount"),
    BillingError.REVERT_OF_REVERT: (409, 6, "a reverted usage cannot be reverted again"),
    BillingError.INSUFFICIENT_CREDITS: (400, 3, "insufficient credits"),
    BillingError.ALREADY_APPLIED: (409, 6, "credits already applied"),
}


@register
class BillingDialect(Dialect):
    name = NAME
    prefixes = ("/v1beta1/",)

    def status_for(self, problem: Problem) -> int:
        mapped = ERROR_CODES.get(problem.code)
        return mapped[0] if mapped else super().status_for(problem)

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        mapped = ERROR_CODES.get(problem.code)
        grpc, message = (mapped[1], mapped[2] or problem.message) if mapped else (GRPC[problem.kind], problem.message)
        details: list[dict] = []
        if problem.fields:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "field_violations": [
                        {"field": field, "description": text}
                        for field, messages in problem.fields.items()
                        for text in messages
                    ],
                }
            )
        if problem.code.startswith("billing."):
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": problem.code,
                    "domain": "billing",
                    "metadata": {"detail": problem.message},
                }
            )
        details.append({"@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": request_id})
        return {"code": grpc, "message": message, "details": details}

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "integer", "format": "int32", "description": "The gRPC status code."},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"@type": {"type": "string"}},
                        "additionalProperties": True,
                    },
                },
            },
        }


# --- page tokens ---------------------------------------------------------------------------------


def encode_page_token(created_at: datetime, pk: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        moment, _, pk = raw.partition("|")
        parsed = parse_datetime(moment)
        if parsed is None or parsed.tzinfo is None:
            raise ValueError
        return parsed, uuid.UUID(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput.single("page_token", "page_token is not one this service gave out.") from None


class PageTokenPagination(BasePagination):
    """Keyset pages, newest first on (created_at, id), behind an opaque `page_token`. Opt-in: without
    `page_size` or `page_token` the vendor answers every item, so `paginate_queryset` answers None and
    the view streams the whole list. A subclass names the list's key (`items_key`)."""

    page_size_query_param = "page_size"
    page_token_query_param = "page_token"
    default_page_size = 100
    max_page_size = 1000

    next_page_token = ""
    items_key = "items"

    def requested(self, request) -> bool:
        params = request.query_params
        return self.page_size_query_param in params or self.page_token_query_param in params

    def page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.default_page_size
        size = ascii_int(raw, minimum=1, maximum=self.max_page_size)
        if size is None:
            raise InvalidInput.single(self.page_size_query_param, f"page_size must be from 1 to {self.max_page_size}.")
        return size

    def paginate_queryset(self, queryset, request, view=None):
        if not self.requested(request):
            return None
        size = self.page_size(request)
        token = request.query_params.get(self.page_token_query_param)
        if token:
            moment, pk = decode_page_token(token)
            # created_at <= X bounds the index range; the OR alone would not.
            queryset = queryset.filter(created_at__lte=moment).filter(
                Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk)
            )
        items = list(queryset.order_by("-created_at", "-id")[: size + 1])
        page, more = items[:size], len(items) > size
        self.next_page_token = encode_page_token(page[-1].created_at, page[-1].pk) if more else ""
        return page

    def get_paginated_response(self, data):
        return Response({self.items_key: data, "next_page_token": self.next_page_token})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": [self.items_key, "next_page_token"],
            "properties": {
                self.items_key: schema,
                "next_page_token": {
                    "type": "string",
                    "description": "Empty on the last page, and when no paging parameter was given.",
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": "Opt-in paging (an extension of the vendor's API): 1 to 1000, default 100. "
                "Without page_size and page_token every item in the range is answered.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.page_token_query_param,
                "in": "query",
                "required": False,
                "description": "next_page_token of the previous page.",
                "schema": {"type": "string"},
            },
        ]


# --- base views ----------------------------------------------------------------------------------


class BillingFamilyView(FamilyAPIView):
    dialect = NAME
    pagination_class = None
    filter_backends = []


class BillingViewSet(ActionRoutedViewSetMixin, BillingFamilyView):
    """Base of the family's viewsets: each groups one resource's operations, routed to the vendor's exact
    paths in billing/api/urls.py. Scopes and documented error statuses are given per action; each route
    gets its own class holding them per HTTP method, as every other view of the project does (the scope
    check, the OpenAPI document and the route-completeness tests read them there)."""
