from django import forms
from django_filters import rest_framework as filters

TRUE = {"true", "1"}
FALSE = {"false", "0"}


class StrictBooleanField(forms.Field):
    """`true`/`false`/`1`/`0`, any case; anything else is a validation error (never silently ignored)."""

    def to_python(self, value):
        if value is None:
            return None
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise forms.ValidationError("Must be one of true, false, 1 or 0.")

    def validate(self, value):
        return None


class StrictBooleanFilter(filters.Filter):
    field_class = StrictBooleanField
