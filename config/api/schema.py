"""OpenAPI: every operation tagged with its family, and every error status it can answer documented
with that family's error body."""

from __future__ import annotations

from functools import cache

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from . import dialects
from .dialects import Problem

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ERROR_DESCRIPTIONS = {
    "400": "The request is invalid or the action is not possible.",
    "401": "Missing or invalid credentials.",
    "403": "The API client lacks the scope this operation needs.",
    "404": "Not found (also for objects of another account).",
    "409": "The request conflicts with the current state.",
    "413": "The request body is larger than 1 MiB.",
    "422": "Validation failed.",
    "429": "Too many requests.",
}


class FamilyAutoSchema(AutoSchema):
    def _dialect(self):
        name = getattr(self.view, "dialect", "")
        return dialects.get(name) if name else None

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "dialect", "") and self.method in UNSAFE:
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    {"type": "string", "minLength": 1, "maxLength": 255},
                    OpenApiParameter.HEADER,
                    required=False,
                    description="Retries with the same key, method, path and body get the first answer replayed "
                    "(for 24 hours; header `Idempotent-Replayed: true`). The same key with another request is "
                    "refused; a retry while the first is running answers 409 with Retry-After.",
                )
            )
        return parameters

    # The body of an update is the resource as read (config.api.serializers.StrictInputSerializer): its
    # read-only fields stay in the request schema, `readOnly: true`, never required, and as the server answers
    # them, where COMPONENT_SPLIT_REQUEST would drop them.

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if direction == "request" and field.read_only and _is_update_body(field.parent):
            direction = "response"
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _postprocess_serializer_schema(self, schema, serializer, direction):
        if direction == "request" and _is_update_body(serializer):
            properties = schema.get("properties", {})
            read_only = {name for name, prop in properties.items() if prop.get("readOnly")}
            required = [name for name in schema.get("required", []) if name not in read_only]
            schema.pop("required", None)
            if required:
                schema["required"] = required
            return schema
        return super()._postprocess_serializer_schema(schema, serializer, direction)

    def get_tags(self) -> list[str]:
        name = getattr(self.view, "dialect", "")
        return [name] if name else super().get_tags()

    def _error_ref(self, dialect) -> dict:
        component = ResolvedComponent(
            name=f"{dialect.name.capitalize()}Error",
            type=ResolvedComponent.SCHEMA,
            object=f"{dialect.name}-error",
            schema=dialect.error_schema(),
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        dialect = self._dialect()
        if dialect is None or direction != "response":
            return responses
        ref = self._error_ref(dialect)
        statuses = ["401", "403", "429"]
        statuses += [str(s) for s in getattr(self.view, "error_statuses", {}).get(self.method, ())]
        if self.method in UNSAFE:
            # Idempotency-Key: a key that is not 1 to 255 characters, or that was used for another request, fails
            # validation (400, or 422 in the credits family); a retry while the first request runs answers 409.
            statuses += [str(dialect.status_for(Problem("validation", "", ""))), "409"]
        for status in statuses:
            responses.setdefault(
                status,
                {
                    "description": ERROR_DESCRIPTIONS.get(status, "Error."),
                    "content": {"application/json": {"schema": ref}},
                },
            )
        return responses


def _is_update_body(serializer) -> bool:
    return getattr(serializer, "resource_class", None) is not None


@cache
def data_envelope(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """`{"data": <object>}`, the credits family's single-object wrapper, as a schema."""
    name = serializer_class.__name__.removesuffix("Serializer") + "EnvelopeSerializer"
    return type(
        name, (serializers.Serializer,), {"data": serializer_class(), "__module__": serializer_class.__module__}
    )
