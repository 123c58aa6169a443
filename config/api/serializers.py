"""Serializer machinery shared by the families."""

from __future__ import annotations

from rest_framework import serializers


class StaticFieldsModelSerializer(serializers.ModelSerializer):
    # A ModelSerializer whose fields are worked out from the model once per class, not once per
    # instance. DRF's ModelSerializer inspects the model's fields, validators and constraints every time a
    # serializer is made (about 0.2 ms for a credit, and again for its nested coupon: together with the
    # answer itself, a third of a redeem request's CPU); here each instance gets its own unbound copies of
    # the fields built the first time, copied attribute by attribute (a field's attributes are the
    # options it was built with; binding, which sets the rest, happens on the copy). Nested serializers
    # are made anew from their arguments. Only for serializers whose fields never depend on the instance,
    # the context or the request: output serializers with a fixed `Meta.fields`.
    # (A comment, not a docstring: drf-spectacular would show a docstring as every subclass's description.)

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        fields = {}
        for name, field in built.items():
            if isinstance(field, serializers.BaseSerializer):
                fields[name] = field.__class__(*field._args, **field._kwargs)
            else:
                copied = object.__new__(field.__class__)
                copied.__dict__.update(field.__dict__)
                fields[name] = copied
        return fields
