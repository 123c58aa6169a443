"""The credit list's filters."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone

from config.kernel.actors import actor_name
from customers.models import MembershipType

from ..models import CustomerCredit
from .display import SOURCE_NAMES


class CreditStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return CustomerCredit.Status.choices

    def queryset(self, request, queryset):
        if self.value() in CustomerCredit.Status.values:
            return queryset.with_status().filter(computed_status=self.value())
        return queryset


class CreditMembershipFilter(admin.SimpleListFilter):
    title = "membership"
    parameter_name = "membership"

    def lookups(self, request, model_admin):
        types = MembershipType.objects.order_by("name", "id")
        return [
            ("any", "With a membership"),
            ("none", "Without a membership"),
            *((str(membership_type.pk), f"Type: {membership_type.name}") for membership_type in types),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.filter(membership__isnull=False)
        if value == "none":
            return queryset.filter(membership__isnull=True)
        if value:
            try:
                membership_type_id = uuid.UUID(value)
            except ValueError as exc:
                raise IncorrectLookupParameters(f"Unknown membership filter {value!r}.") from exc
            return queryset.filter(membership__membership_type_id=membership_type_id)
        return queryset


class ExpiringFilter(admin.SimpleListFilter):
    title = "expiring"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("7", "Within 7 days"), ("30", "Within 30 days")]

    def queryset(self, request, queryset):
        if self.value() in ("7", "30"):
            now = timezone.now()
            return queryset.usable(now).filter(expiry_date__lte=now + timedelta(days=int(self.value())))
        return queryset


class ExpiryRangeFilter(admin.ListFilter):
    """Credits whose expiry date falls in a range of days (both ends included, days in the page's zone)."""

    title = "expiry date range"
    template = "admin/credits/customercredit/expiry_range_filter.html"
    parameters = ("expiry_from", "expiry_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value
        self.dates = {}
        for name, value in self.values.items():
            try:
                self.dates[name] = datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError as exc:
                raise IncorrectLookupParameters(f"{name} must be a date (YYYY-MM-DD).") from exc

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def choices(self, changelist):
        yield {
            "values": self.values,
            "keep": [(k, v) for k, v in changelist.get_filters_params().items() if k not in self.parameters],
            "clear_url": changelist.get_query_string(remove=list(self.parameters)),
        }

    def queryset(self, request, queryset):
        # Days where the business is: the zone of the page (the only account's, or UTC with several).
        zone = timezone.get_current_timezone()
        if "expiry_from" in self.dates:
            queryset = queryset.filter(expiry_date__gte=datetime.combine(self.dates["expiry_from"], time.min, zone))
        if "expiry_to" in self.dates:
            end = datetime.combine(self.dates["expiry_to"] + timedelta(days=1), time.min, zone)
            queryset = queryset.filter(expiry_date__lt=end)
        return queryset


class IssuedByFilter(admin.SimpleListFilter):
    """Who issued the credit: a staff user or an API client by name, and every bulk grant (one entry, not
    one per batch) and every membership rule together."""

    title = "issued by"
    parameter_name = "issued_by"
    limit = 50
    GROUPS = {"bulk:": "bulk grants", "rule:": "membership rules"}

    def lookups(self, request, model_admin):
        people = (
            CustomerCredit.objects.exclude(issued_by__startswith="bulk:")
            .exclude(issued_by__startswith="rule:")
            .order_by("issued_by")
            .values_list("issued_by", flat=True)
            .distinct()[: self.limit]
        )
        return [*((label, actor_name(label)) for label in people), *self.GROUPS.items()]

    def queryset(self, request, queryset):
        value = self.value()
        if value in self.GROUPS:
            return queryset.filter(issued_by__startswith=value)
        if value:
            return queryset.filter(issued_by=value)
        return queryset


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return list(SOURCE_NAMES.items())

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() in SOURCE_NAMES else queryset
