"""The billing family's seam (Frontier-style, under /v1beta1/): its error dialect and base view.
Errors: {"code": <gRPC status number>, "message", "details": []}."""

from config.api.dialects import Dialect, Problem, register
from config.api.views import FamilyAPIView

NAME = "billing"

# gRPC status codes (google.rpc.Code) for each kind of problem.
GRPC = {
    "validation": 3,  # INVALID_ARGUMENT
    "malformed": 3,
    "not_possible": 3,
    "too_large": 3,
    "unsupported_media_type": 3,
    "not_acceptable": 3,
    "unauthenticated": 16,  # UNAUTHENTICATED
    "forbidden": 7,  # PERMISSION_DENIED
    "not_found": 5,  # NOT_FOUND
    "conflict": 6,  # ALREADY_EXISTS
    "method_not_allowed": 12,  # UNIMPLEMENTED
    "throttled": 8,  # RESOURCE_EXHAUSTED
    "internal": 13,  # INTERNAL
    "unavailable": 14,  # UNAVAILABLE
}


@register
class BillingDialect(Dialect):
    name = NAME
    prefixes = ("/v1beta1/",)

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        details = []
        if problem.fields:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "field_violations": [
                        {"field": field, "description": message}
                        for field, messages in problem.fields.items()
                        for message in messages
                    ],
                }
            )
        details.append({"@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": request_id})
        return {"code": GRPC[problem.kind], "message": problem.message, "details": details}

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "integer", "format": "int32", "description": "The gRPC status code."},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"@type": {"type": "string"}},
                        "additionalProperties": True,
                    },
                },
            },
        }


class BillingFamilyView(FamilyAPIView):
    dialect = NAME
