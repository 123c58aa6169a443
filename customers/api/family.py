"""The credits family's seam (Trybe-style, under /customers/): its error dialect, its page-number
pagination with the {data, links, meta} envelope, and its base view. The family is served by two apps,
customers (customers, memberships) and credits (coupons, credits, rules), each with its own urls; its seam
lives in the lower.
Errors: `{"message": ...}`, plus `"errors": {field: [messages]}` on 422."""

from __future__ import annotations

import math

from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.viewsets import ViewSetMixin

from config.api.dialects import Dialect, Problem, register
from config.api.views import ActionRoutedViewSetMixin, FamilyAPIView
from config.kernel.values import ascii_int
from customers import selectors as customer_selectors
from customers.models import Customer

NAME = "credits"


@register
class CreditsDialect(Dialect):
    name = NAME
    prefixes = ("/customers/",)
    # Validation failures and bodies that are not JSON are 422 in this family, as in the vendor's API.
    status_overrides = {"validation": 422, "malformed": 422}

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        body: dict = {"message": problem.message}
        if status == 422:
            body["errors"] = problem.fields or {"body": [problem.message]}
        return body

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Only on 422: the messages of each invalid field.",
                },
            },
        }


# --- pagination ---

MAX_PAGE = 2_147_483_647


def _positive_int(request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = ascii_int(raw)
    if value is None:
        raise ValidationError({name: ["Must be a whole number."]})
    if value < 1 or value > MAX_PAGE:
        raise ValidationError({name: [f"Must be between 1 and {MAX_PAGE}."]})
    return min(value, maximum) if maximum else value


class EnvelopePagination(BasePagination):
    """`page`/`per_page`, answered as `{data, links, meta}`. The list actions of the family's viewsets use it,
    so the OpenAPI document lists `page` and `per_page` on every list, from this class."""

    default_per_page = 15
    max_per_page = 100  # a larger per_page is capped silently, as the vendor does

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page = _positive_int(request, "page", 1)
        self.per_page = _positive_int(request, "per_page", self.default_per_page, self.max_per_page)
        self.total = queryset.count()
        self.last_page = max(1, math.ceil(self.total / self.per_page))
        offset = (self.page - 1) * self.per_page
        if offset >= self.total:
            return []  # a page past the last: empty data, no query with a huge offset
        return list(queryset[offset : offset + self.per_page])

    def _url(self, page: int | None) -> str | None:
        if page is None:
            return None
        url = self.request.build_absolute_uri()
        return remove_query_param(url, "page") if page == 1 else replace_query_param(url, "page", page)

    def get_paginated_response(self, data) -> Response:
        count = len(data)
        start = (self.page - 1) * self.per_page + 1
        return Response(
            {
                "data": data,
                "links": {
                    "first": self._url(1),
                    "last": self._url(self.last_page),
                    "prev": self._url(self.page - 1) if 1 < self.page <= self.last_page + 1 else None,
                    "next": self._url(self.page + 1) if self.page < self.last_page else None,
                },
                "meta": {
                    "current_page": self.page,
                    "from": start if count else None,
                    "to": start + count - 1 if count else None,
                    "total": self.total,
                    "per_page": self.per_page,
                    "last_page": self.last_page,
                },
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        url = {"type": "string", "format": "uri"}
        nullable_url = {"type": "string", "format": "uri", "nullable": True}
        integer = {"type": "integer"}
        nullable_integer = {"type": "integer", "nullable": True}
        return {
            "type": "object",
            "required": ["data", "links", "meta"],
            "properties": {
                "data": schema,
                "links": {
                    "type": "object",
                    "required": ["first", "last", "prev", "next"],
                    "properties": {"first": url, "last": url, "prev": nullable_url, "next": nullable_url},
                },
                "meta": {
                    "type": "object",
                    "required": ["current_page", "from", "to", "total", "per_page", "last_page"],
                    "properties": {
                        "current_page": integer,
                        "from": nullable_integer,
                        "to": nullable_integer,
                        "total": integer,
                        "per_page": integer,
                        "last_page": integer,
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "description": "Results per page; at most 100 (a larger value is capped).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 15},
            },
        ]


# --- base viewset ---


class CreditsFamilyViewSet(ActionRoutedViewSetMixin, ViewSetMixin, FamilyAPIView):
    """The family's base: one viewset per resource, its actions routed to the vendor's exact paths (each app's
    api/urls.py), with scopes and documented error statuses declared per action."""

    dialect = NAME
    pagination_class = EnvelopePagination

    def customer(self) -> Customer:
        return customer_selectors.customer_get(account=self.account, id=self.kwargs["customer_id"])

    def one(self, instance, serializer_class, *, created: bool = False) -> Response:
        body = {"data": serializer_class(instance, context=self.get_serializer_context()).data}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def page(self, queryset, serializer_class) -> Response:
        items = self.paginate_queryset(self.filter_queryset(queryset))
        data = serializer_class(items, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def valid(self, serializer_class, *, partial: bool = False, data=None, **context) -> dict:
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            partial=partial,
            context={**self.get_serializer_context(), **context},
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
