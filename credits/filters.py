from django_filters import rest_framework as filters

from config.api.filters import StrictBooleanFilter
from credits.models import CustomerCredit
from credits.selectors import credit_list_filter


class CustomerCreditFilter(filters.FilterSet):
    """`redeemed`, `expired`, `revoked` include credits in that status (active ones are always in);
    `multi_use` keeps only one kind. The selector does the filtering; this class parses strictly."""

    redeemed = StrictBooleanFilter(method="noop", help_text="Include redeemed credits.")
    expired = StrictBooleanFilter(method="noop", help_text="Include expired credits.")
    revoked = StrictBooleanFilter(method="noop", help_text="Include revoked credits.")
    multi_use = StrictBooleanFilter(method="noop", help_text="Only multi-use (true) or single-use (false) credits.")

    class Meta:
        model = CustomerCredit
        fields = ["redeemed", "expired", "revoked", "multi_use"]

    def noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        return credit_list_filter(queryset, **self.form.cleaned_data)
