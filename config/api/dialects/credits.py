"""Credits family (Trybe-style): `{"message": ...}`, plus `"errors": {field: [messages]}` on 422."""

from . import Dialect, Problem, register

NAME = "credits"


@register
class CreditsDialect(Dialect):
    name = NAME
    prefixes = ("/customers/",)
    # Validation failures and bodies that are not JSON are 422 in this family, as in the vendor's API.
    status_overrides = {"validation": 422, "malformed": 422}

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        body: dict = {"message": problem.message}
        if status == 422:
            body["errors"] = problem.fields or {"body": [problem.message]}
        return body

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Only on 422: the messages of each invalid field.",
                },
            },
        }
