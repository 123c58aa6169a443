"""Serializer machinery shared by the families."""

from __future__ import annotations

from rest_framework import serializers


class StaticFieldsModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields are worked out from the model once per class, not once per
    instance. DRF's ModelSerializer inspects the model's fields, validators and constraints every time a
    serializer is made (about a millisecond for a credit with its coupon, a third of a redeem request's
    CPU); here each instance gets fresh, unbound copies of the fields built the first time. Only for
    serializers whose fields never depend on the instance, the context or the request (output
    serializers with a fixed `Meta.fields`)."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        # What Field.__deepcopy__ does, without deep-copying the arguments: they are the immutable
        # options the fields were built with (validators and choices are copied by Field itself).
        return {name: field.__class__(*field._args, **field._kwargs) for name, field in built.items()}
