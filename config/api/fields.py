"""Serializer fields every family's input shares, so that one rule holds everywhere: numbers are ASCII
digits within int64, and date-times carry an offset (RFC 3339)."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from config.kernel.values import INSTANT_RANGE, INT64_MAX, INT64_MIN, ascii_int, instant_problem


class Int64Field(serializers.Field):
    """An int64 given as a JSON number or as a string of ASCII digits (proto3 JSON writes int64 as a
    string); answered as `as_string` says. Unicode digits, padding, decimals, booleans and values
    outside [min_value, max_value] are refused."""

    default_error_messages = {
        "invalid": "Must be a whole number written with the digits 0-9.",
        "range": "Must be between {min_value} and {max_value}.",
    }

    def __init__(self, *, min_value: int = INT64_MIN, max_value: int = INT64_MAX, as_string: bool = False, **kwargs):
        self.min_value, self.max_value, self.as_string = min_value, max_value, as_string
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        number = ascii_int(data)
        if number is None:
            self.fail("invalid")
        if not self.min_value <= number <= self.max_value:
            self.fail("range", min_value=self.min_value, max_value=self.max_value)
        return number

    def to_representation(self, value):
        return str(value) if self.as_string else int(value)


class AwareDateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time with an offset ("2027-01-01T00:00:00Z"); a date or a naive date-time is
    refused rather than read in some time zone the client never named, and so is an instant whose date
    would leave the calendar in some time zone (config.kernel.values.instant_problem)."""

    default_error_messages = {
        "naive": "Must be an RFC 3339 date-time with an offset, e.g. 2027-01-01T00:00:00Z.",
        "calendar": INSTANT_RANGE,
    }

    def to_internal_value(self, value):
        if not isinstance(value, str) or not value.isascii():  # Django's parser reads fullwidth digits
            self.fail("invalid", format="RFC 3339")
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("naive")
        if parsed.tzinfo is None:
            self.fail("naive")
        try:
            moment = super().to_internal_value(value)
        except OverflowError:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC
            self.fail("calendar")
        if instant_problem(moment) is not None:
            self.fail("calendar")
        return moment


class Int64FieldSchema(OpenApiSerializerFieldExtension):
    """How Int64Field reads in the OpenAPI document: an answer is the int64 as `as_string` says; an input is
    a JSON integer or a string of ASCII digits, within the field's bounds."""

    target_class = Int64Field

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        if field.as_string and (direction == "response" or field.read_only):
            return {"type": "string", "format": "int64", "pattern": "^-?[0-9]{1,19}$"}
        number = {"type": "integer", "format": "int64"}
        if field.min_value != INT64_MIN:
            number["minimum"] = field.min_value
        if field.max_value != INT64_MAX:
            number["maximum"] = field.max_value
        text = {"type": "string", "pattern": "^-?[0-9]{1,19}$" if field.min_value < 0 else "^[0-9]{1,19}$"}
        return {"oneOf": [number, text]}
