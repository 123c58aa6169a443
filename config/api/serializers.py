"""Serializer machinery shared by the families."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import ISO_8601, serializers
from rest_framework import fields as drf_fields
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from config.kernel.values import ascii_int, uuid_or_none

from .fields import Int64Field

# The fields whose representation of a value reads nothing but the value and the field's own options
# (never the context, the request or the parent), so one bound copy can answer for every serializer
# instance of a class. A subclass of one of these counts too.
_CONTEXT_FREE = (
    drf_fields.BooleanField,
    drf_fields.CharField,  # and EmailField, RegexField, SlugField, URLField
    drf_fields.ChoiceField,
    drf_fields.DateField,
    drf_fields.DateTimeField,
    drf_fields.DecimalField,
    drf_fields.FloatField,
    drf_fields.IntegerField,  # and BigIntegerField
    drf_fields.JSONField,
    drf_fields.ReadOnlyField,
    drf_fields.UUIDField,
)
_VALUE, _METHOD, _NESTED, _DATETIME = 0, 1, 2, 3
_UNSET = object()


def _plan(cls) -> list | None:
    """[(name, bound field, kind, attribute)] for the readable fields of `cls`, bound once to a prototype
    instance; `attribute` is the one attribute the field reads (None: a dotted or "*" source, read by
    DRF's get_attribute). None when a field could read the context through its parent (then DRF's own
    to_representation runs)."""
    plan = []
    for field in cls()._readable_fields:
        attribute = field.source_attrs[0] if len(field.source_attrs) == 1 else None
        if isinstance(field, drf_fields.SerializerMethodField):
            plan.append((field.field_name, field, _METHOD, None))
        elif isinstance(field, StaticFieldsModelSerializer):
            plan.append((field.field_name, field, _NESTED, attribute))
        elif isinstance(field, drf_fields.DateTimeField) and _plain_iso(field):
            plan.append((field.field_name, field, _DATETIME, attribute))
        elif isinstance(field, _CONTEXT_FREE) and not isinstance(field, serializers.BaseSerializer):
            plan.append((field.field_name, field, _VALUE, attribute))
        else:
            return None
    return plan


def _plain_iso(field) -> bool:
    """A DateTimeField that answers ISO 8601 in the current time zone (no format or time zone of its own)."""
    output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return isinstance(output, str) and output.lower() == ISO_8601 and not hasattr(field, "timezone")


def _plan_of(cls) -> list | None:
    if "_representation_plan" not in cls.__dict__:
        cls._representation_plan = _plan(cls)
    return cls._representation_plan


def _needs_instance(cls) -> bool:
    """Whether answering for `cls` needs a serializer instance: DRF's own path, a method field (it may read
    the context), or a nested serializer that needs one."""
    if "_representation_needs_instance" not in cls.__dict__:
        plan = _plan_of(cls)
        own = cls.to_representation is not StaticFieldsModelSerializer.to_representation
        cls._representation_needs_instance = (
            own
            or plan is None
            or any(kind == _METHOD or (kind == _NESTED and _needs_instance(type(field))) for _, field, kind, _ in plan)
        )
    return cls._representation_needs_instance


def _represent(plan: list, serializer, instance) -> dict:
    """The answer for `instance` by `plan` (see StaticFieldsModelSerializer): what DRF's
    Serializer.to_representation gives, field by field. `serializer` answers the method fields and lends
    its context to nested serializers that need one (None when the plan needs neither: _needs_instance)."""
    ret = {}
    zone = _UNSET
    model = isinstance(instance, Model)
    for name, field, kind, source in plan:
        if kind == _METHOD:
            ret[name] = getattr(serializer, field.method_name)(instance)
            continue
        try:
            attribute = _attribute(field, instance, source if model else None)
        except SkipField:
            continue
        if (attribute.pk if isinstance(attribute, PKOnlyObject) else attribute) is None:
            ret[name] = None
        elif kind == _DATETIME and isinstance(attribute, datetime) and attribute.utcoffset() is not None:
            if zone is _UNSET:  # looked up once per answer, not once per field
                zone = timezone.get_current_timezone() if settings.USE_TZ else None
            ret[name] = _iso(field, attribute, zone)
        elif kind == _NESTED:
            nested = type(field)
            if _needs_instance(nested):
                ret[name] = nested(context=serializer.context).to_representation(attribute)
            else:
                ret[name] = _represent(_plan_of(nested), None, attribute)
        else:
            ret[name] = field.to_representation(attribute)
    return ret


def _iso(field, value: datetime, zone) -> str:
    """DateTimeField.to_representation of an aware `value` in `zone` (the current time zone); without a
    zone (USE_TZ off), or on an overflow, DRF's own way, with its errors."""
    if zone is None:
        return field.to_representation(value)
    try:
        text = value.astimezone(zone).isoformat()
    except OverflowError:
        return field.to_representation(value)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _attribute(field, instance, name):
    """What DRF's field.get_attribute(instance) gives, read straight off a model instance when the field's
    source is one plain attribute (a column value or a related object: never callable); anything else (a
    dict, a missing attribute, a callable) takes DRF's own way, with its defaults and SkipField. `name`:
    that attribute, or None when `instance` is not a model instance (the caller checks once per answer)."""
    if name is not None:
        try:
            value = getattr(instance, name)
        except Exception:  # DRF's get_attribute decides what each failure means
            return field.get_attribute(instance)
        if not callable(value):
            return value
    return field.get_attribute(instance)


def _copy(field):
    """An unbound copy of a field built once: its attributes are the options it was built with (binding,
    which sets the rest, happens on the copy). Nested serializers are made anew from their arguments."""
    if isinstance(field, serializers.BaseSerializer):
        return field.__class__(*field._args, **field._kwargs)
    copied = object.__new__(field.__class__)
    copied.__dict__.update(field.__dict__)
    return copied


# --- request bodies ---------------------------------------------------------------------------------

NOT_A_STRING = "Not a valid string."
NOT_A_BOOLEAN = "Must be true or false."


def unknown_field_errors(data: Mapping, known: Iterable[str] | frozenset[str], message: str) -> dict[str, list[str]]:
    """{name: [message]} for each key of a hand-parsed body that is not among `known`: a field a request does
    not know is refused, never dropped (a misspelt `billing_id` must not fall back to the default account),
    as StrictInputSerializer refuses it in a body read through a serializer."""
    if not isinstance(known, set | frozenset):
        known = set(known)
    if data.keys() <= known:  # the usual case, once per usage of a batch: no dict built
        return {}
    return {str(name): [message] for name in data if name not in known}


def loose_value_error(field, value) -> str | None:
    """Why a JSON `value` is not of `field`'s own type, where DRF would convert it: a number or a boolean
    for a string (stored as its text), anything but true/false for a boolean ("yes", 1, "on"), a number
    for a UUID or a choice. None when it is (null is the field's allow_null to judge). An int64 given as a
    string of digits is the one conversion kept (config/api/fields.py): see README, "What a request body
    may hold"."""
    if value is None:
        return None
    if isinstance(field, drf_fields.BooleanField):
        return None if isinstance(value, bool) else NOT_A_BOOLEAN
    if isinstance(field, drf_fields.MultipleChoiceField):
        return None  # a list of choices; DRF checks each
    if isinstance(field, drf_fields.ChoiceField):
        textual = all(isinstance(choice, str) for choice in field.choices)
        return NOT_A_STRING if textual and not isinstance(value, str) else None
    if isinstance(field, drf_fields.CharField | drf_fields.UUIDField | drf_fields.DateTimeField):
        return None if isinstance(value, str) else NOT_A_STRING
    if isinstance(field, drf_fields.ListField) and isinstance(value, list):
        return next((problem for item in value if (problem := loose_value_error(field.child, item))), None)
    return None


class StrictInputSerializer(serializers.Serializer):
    # A request body that refuses what it cannot keep instead of dropping it: a field it does not have answers
    # `unknown_field_message` (each family's wording), a read-only field `read_only_message`, and a value not
    # of its field's own type (loose_value_error: a number for a string, "yes" for a boolean) is refused too.
    # Every body read through a serializer is one of these (FamilyAPIView.valid checks it).
    # The body of an update names `resource_class`, the serializer that answers for the object it updates,
    # and is made as DRF updates are, with that object: `Serializer(instance, data=...)`. It is then the
    # resource as read: the answer's fields that are not inputs are its read-only fields (readOnly in the
    # OpenAPI document, config/api/schema.py), taken when they hold what the server answers for the object
    # now and ignored, refused when they differ. So a client can write back what it read with one field
    # changed. Values are compared as answered; an int64, uuid or date-time also in another spelling of the
    # same value ("5" or 5, upper-case hex, another offset of the same instant).
    # (A comment, not a docstring: drf-spectacular would show it as every subclass's description.)

    unknown_field_message: ClassVar[str] = "This field is not supported."
    read_only_message: ClassVar[str] = "Read-only, and not what the server holds: send it as read, or leave it out."
    resource_class: ClassVar[type[serializers.Serializer] | None] = None

    def get_fields(self):
        fields = super().get_fields()
        if self.resource_class is not None:
            for name, field in self.resource_class().fields.items():
                if name not in fields:
                    fields[name] = _read_only_copy(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            refused = self._refused(data)
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)

    def _refused(self, data: Mapping) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        held = None
        for name, value in data.items():
            field = self.fields.get(name)
            if field is None:
                errors[name] = [self.unknown_field_message]
            elif not field.read_only:
                if (problem := loose_value_error(field, value)) is not None:
                    errors[name] = [problem]
            else:
                if held is None:
                    held = self._held()
                if name not in held or not _same(field, value, held[name]):
                    errors[name] = [self.read_only_message]
        return errors

    def _held(self) -> Mapping:
        """The object being updated as the server answers it ({} for a body that updates nothing)."""
        if self.resource_class is None or self.instance is None or self.parent is not None:
            return {}
        return self.resource_class(self.instance, context=self.context).data


class StaticInputSerializer(StrictInputSerializer):
    # A Serializer for request bodies whose declared fields are copied per instance attribute by attribute
    # instead of by DRF's deepcopy, which builds every field again from its arguments (the cost is in
    # docs/scaling.md). Only for flat bodies of scalar fields (no ListField, DictField or nested
    # serializer: their child fields are bound to their parent once, at construction).
    # (A comment, not a docstring: drf-spectacular would show it as every subclass's description.)

    def get_fields(self):
        return {name: _copy(field) for name, field in self._declared_fields.items()}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, field in cls._declared_fields.items():
            if isinstance(field, (serializers.BaseSerializer, drf_fields.ListField, drf_fields.DictField)):
                raise TypeError(f"{cls.__name__}.{name}: StaticInputSerializer takes scalar fields only")


class StaticFieldsModelSerializer(serializers.ModelSerializer):
    # A ModelSerializer for answers, whose fields are worked out from the model once per class, not once per
    # instance. DRF builds, copies and binds every field each time a serializer is made and asked for its
    # data (a credit with its coupon has 27 fields; what that costs a redeem is in docs/scaling.md).
    # - get_fields: each instance gets unbound copies of the fields built the first time (the schema and
    #   any caller of `.fields` see DRF's usual fields);
    # - to_representation: the answer is built the way DRF builds it (get_attribute, None stays None, the
    #   field's to_representation) with fields bound once per class to a prototype. That is only done for
    #   fields whose representation reads nothing but the value (_CONTEXT_FREE); a SerializerMethodField is
    #   called on this instance (so it sees this instance's context), a nested StaticFieldsModelSerializer
    #   the same way (made with this context only when it has method fields of its own); an ISO 8601
    #   DateTimeField reads the current time zone once per answer, not once per field; any other field
    #   sends the class back to DRF's own path.
    # Only for serializers whose fields never depend on the instance, the context or the request: answers
    # with a fixed `Meta.fields`. tests/config/test_static_serializers.py checks the answers equal DRF's.
    # (A comment, not a docstring: drf-spectacular would show a docstring as every subclass's description.)

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        return {name: _copy(field) for name, field in built.items()}

    def to_representation(self, instance):
        plan = _plan_of(type(self))
        if plan is None:
            return super().to_representation(instance)
        return _represent(plan, self, instance)


def _read_only_copy(field):
    """A new unbound `field`, read-only (a declared field of an answer need not say so)."""
    kwargs = {key: value for key, value in field._kwargs.items() if key not in ("required", "default", "write_only")}
    return field.__class__(*field._args, **{**kwargs, "read_only": True})


def _same(field, sent, held) -> bool:
    """Whether `sent` is the value `held` (as answered) of read-only `field`."""
    if _json_equal(sent, held):
        return True
    if isinstance(field, Int64Field | drf_fields.IntegerField):
        number = ascii_int(sent)
        return number is not None and number == ascii_int(held)
    if isinstance(field, drf_fields.UUIDField):
        uuid = uuid_or_none(sent) if isinstance(sent, str) else None
        return uuid is not None and uuid == uuid_or_none(held)
    if isinstance(field, drf_fields.DateTimeField):
        instant = _instant(sent)
        return instant is not None and instant == _instant(held)
    return False


def _instant(value) -> datetime | None:
    """The instant an RFC 3339 date-time with an offset names, or None."""
    if not isinstance(value, str) or not value.isascii():
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _json_equal(a, b) -> bool:
    """JSON equality: true is not 1, 1 is 1.0, objects whatever their key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b
