"""The credits family's seam (Trybe-style, under /customers/): its error dialect, its page-number
pagination with the {data, links, meta} envelope, and its base view. The family is served by two apps,
customers (customers, memberships) and credits (coupons, credits, rules), each with its own urls; its seam
lives in the lower.
Errors: `{"message": ...}`, plus `"errors": {field: [messages]}` on 422."""

from __future__ import annotations

import math

from django.utils.dateparse import parse_datetime
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import humanize_datetime
from rest_framework.utils.urls import remove_query_param, replace_query_param

from config.api.dialects import Dialect, Problem, register
from config.api.fields import AwareDateTimeField, Int64Field, Int64FieldSchema
from config.api.views import ActionRoutedViewSetMixin, FamilyAPIView
from config.kernel.values import INT64_MAX, INT64_MIN, ascii_int
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


# --- input fields: the shared rules (config.api.fields), with the messages this family has always answered ---


class IntegerInput(Int64Field):
    """An integer as Int64Field reads it (ASCII digits only, within its bounds: int64 unless told), refused
    with DRF IntegerField's messages, which the family's clients already know."""

    default_error_messages = {
        "invalid": "A valid integer is required.",
        "min_value": "Ensure this value is greater than or equal to {min_value}.",
        "max_value": "Ensure this value is less than or equal to {max_value}.",
    }

    def to_internal_value(self, data) -> int:
        # Read wider than int64 (up to 20 digits), so that a number just past a bound is told so.
        number = ascii_int(data, minimum=-(10**20), maximum=10**20)
        if number is None:
            self.fail("invalid")
        if number < max(self.min_value, INT64_MIN):
            self.fail("min_value", min_value=self.min_value)
        if number > min(self.max_value, INT64_MAX):
            self.fail("max_value", max_value=self.max_value)
        return number


class IntegerInputSchema(Int64FieldSchema):
    """IntegerInput reads in the OpenAPI document as Int64Field does."""

    target_class = IntegerInput


class DateTimeInput(AwareDateTimeField):
    """An RFC 3339 date-time with an offset, as AwareDateTimeField reads it; what is no date-time at all gets
    DRF's message, a date-time without an offset gets AwareDateTimeField's."""

    def to_internal_value(self, value):
        parsed = None
        if isinstance(value, str) and value.isascii():
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
        if parsed is None:
            formats = humanize_datetime.datetime_formats(api_settings.DATETIME_INPUT_FORMATS)
            self.fail("invalid", format=formats)
        return super().to_internal_value(value)


# --- pagination ---

MAX_PAGE = 2_147_483_647


def _positive_int(request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = ascii_int(raw, minimum=-(10**20), maximum=10**20)  # past MAX_PAGE is told so below
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


class CreditsFamilyViewSet(ActionRoutedViewSetMixin, FamilyAPIView):
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
