from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from config.kernel.values import ascii_int
from customers.models import Customer


class Int64FormField(forms.Field):
    """An int64 written with the ASCII digits 0-9 (a leading "-" allowed); anything else is refused, with the
    message the NumberFilter it replaces gave."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        number = ascii_int(value)
        if number is None:
            raise forms.ValidationError("Enter a number.")  # the message NumberFilter gave
        return number


@extend_schema_field(OpenApiTypes.INT64)
class Int64Filter(filters.Filter):
    field_class = Int64FormField


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")
    external_ref = filters.CharFilter(field_name="external_ref")
    number = Int64Filter(field_name="number")

    class Meta:
        model = Customer
        fields = ["email", "external_ref", "number"]
