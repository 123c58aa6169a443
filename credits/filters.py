from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from config.api.filters import StrictBooleanFilter
from credits.models import CustomerCredit
from credits.selectors import credit_list_filter


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFlag(StrictBooleanFilter):
    """`true`/`false`/`1`/`0`; the flags are not model fields, so the document is told their type."""


class CustomerCreditFilter(filters.FilterSet):
    """`redeemed`, `expired`, `revoked` include credits in that status (active ones are always in);
    `multi_use` keeps only one kind. The selector does the filtering; this class parses strictly."""

    redeemed = BooleanFlag(method="noop", help_text="Include redeemed credits.")
    expired = BooleanFlag(method="noop", help_text="Include expired credits.")
    revoked = BooleanFlag(method="noop", help_text="Include revoked credits.")
    multi_use = BooleanFlag(method="noop", help_text="Only multi-use (true) or single-use (false) credits.")

    class Meta:
        model = CustomerCredit
        fields = ["redeemed", "expired", "revoked", "multi_use"]

    def noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        return credit_list_filter(queryset, **self.form.cleaned_data)
