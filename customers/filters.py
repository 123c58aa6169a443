from django_filters import rest_framework as filters

from customers.models import Customer


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")
    external_ref = filters.CharFilter(field_name="external_ref")
    number = filters.NumberFilter(field_name="number")

    class Meta:
        model = Customer
        fields = ["email", "external_ref", "number"]
