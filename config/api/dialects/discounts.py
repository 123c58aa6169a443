"""Discounts family (Dintero-style): {"error": {"code", "message"}}; validation adds "errors": [{field, message}]."""

from . import Dialect, Problem, register

NAME = "discounts"

_CODE_FOR_KIND = {
    "validation": "validation_error",
    "malformed": "bad_request",
    "unauthenticated": "unauthorized",
    "forbidden": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "conflict": "conflict",
    "not_possible": "bad_request",
    "too_large": "payload_too_large",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "too_many_requests",
    "internal": "internal_error",
    "unavailable": "service_unavailable",
}


@register
class DiscountsDialect(Dialect):
    name = NAME
    prefixes = ("/v1/accounts/",)

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        # Generic codes (named after the kind of problem) get this family's name for them.
        generic = problem.code in _CODE_FOR_KIND or problem.code in {"validation_failed", "error"}
        code = _CODE_FOR_KIND[problem.kind] if generic or "." in problem.code else problem.code
        error: dict = {"code": code, "message": problem.message}
        if problem.fields:
            error["errors"] = [
                {"field": field, "message": message}
                for field, messages in problem.fields.items()
                for message in messages
            ]
        return {"error": error}

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                }
            },
        }
