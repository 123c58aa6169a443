"""The benefits family's seam (Magicline-style, under /v1/customers/): its error dialect and base view.
Errors: {"errorMessage","errorCode","traceId","args","typedArgs","reference"}."""

from datetime import date, datetime

from config.api.dialects import Dialect, Problem, register
from config.api.views import FamilyAPIView
from credits.errors import CreditError
from customers.errors import CustomerError

NAME = "benefits"

# The stable error codes of this family (also listed in the OpenAPI description).
ERROR_CODES = {
    "request.invalid": "400: a parameter is invalid; `reference` names it.",
    "request.malformed": "400: the request could not be read.",
    "customer.identifier_missing": "400: none of `cardNumber`, `barcode` or `pin` was given.",
    "customer.identifier_ambiguous": "400: more than one customer identifier was given.",
    "idempotency_key.invalid": "400: the Idempotency-Key header is not 1 to 255 characters (none of them NUL).",
    "idempotency_key.reused": "400: the Idempotency-Key was already used for another request.",
    "auth.unauthenticated": "401: missing or invalid credentials.",
    "auth.forbidden": "403: the API client has none of the scopes the endpoint accepts.",
    "customer.not_found": "404: no customer has that number, card number, barcode or PIN.",
    "request.not_found": "404: no such path.",
    "request.method_not_allowed": "405: the path does not take that method.",
    "benefit.not_available": "409: the customer has no active credit carrying the benefit key.",
    "idempotency_key.in_flight": "409: a request with this Idempotency-Key is still running; see Retry-After.",
    "request.too_large": "413: the request body is larger than 1 MiB.",
    "request.unsupported_media_type": "415: the body is not JSON.",
    "request.throttled": "429: too many requests; see Retry-After.",
    "server.error": "500: an unexpected error; quote the traceId.",
    "server.unavailable": "503: the database is unavailable; retry shortly.",
}
# The domain codes the services raise that this family names (Magicline's strings); any other domain code is
# answered with the code for its kind of problem.
DOMAIN_CODES = {
    CustomerError.CUSTOMER_NOT_FOUND: "customer.not_found",
    CreditError.BENEFIT_NOT_AVAILABLE: "benefit.not_available",
}
_CODE_FOR_KIND = {
    "validation": "request.invalid",
    "malformed": "request.malformed",
    "unauthenticated": "auth.unauthenticated",
    "forbidden": "auth.forbidden",
    "not_found": "request.not_found",
    "method_not_allowed": "request.method_not_allowed",
    "not_acceptable": "request.invalid",
    "conflict": "request.invalid",
    "not_possible": "request.invalid",
    "too_large": "request.too_large",
    "unsupported_media_type": "request.unsupported_media_type",
    "throttled": "request.throttled",
    "internal": "server.error",
    "unavailable": "server.unavailable",
}
ARG_TYPES = [
    "TIMESTAMP",
    "BOOLEAN",
    "DATE",
    "MONTH_DAY",
    "TIME",
    "TERM",
    "TERM_LIST",
    "INTEGER",
    "DECIMAL",
    "STRING",
    "MONEY",
    "LIMITABLE_CONFIG_PROPERTY",
    "I18N_KEY",
    "I18N_KEY_LIST",
    "PERMISSION_LIST",
    "ENUM",
    "AVAILABILITY_LIST",
]


def _typed(value) -> dict:
    if isinstance(value, bool):
        kind = "BOOLEAN"
    elif isinstance(value, int):
        kind = "INTEGER"
    elif isinstance(value, float):
        kind = "DECIMAL"
    elif isinstance(value, datetime):
        kind, value = "TIMESTAMP", value.isoformat()
    elif isinstance(value, date):
        kind, value = "DATE", value.isoformat()
    else:
        kind, value = "STRING", str(value)
    return {"value": value, "type": kind}


@register
class BenefitsDialect(Dialect):
    name = NAME
    prefixes = ("/v1/customers/", "/v1/customers")

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        code = DOMAIN_CODES.get(problem.code) or (
            # Codes the API layer raises are already this family's (the views' and the idempotency check's).
            problem.code if problem.code in ERROR_CODES else _CODE_FOR_KIND[problem.kind]
        )
        args = list(problem.args)
        body = {
            "errorMessage": problem.message,
            "errorCode": code,
            "traceId": request_id,
            "args": [a["value"] for a in map(_typed, args)],
            "typedArgs": [_typed(a) for a in args],
        }
        if problem.kind == "validation" and problem.fields:
            body["reference"] = next(iter(problem.fields))
        return body

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "required": ["errorMessage", "errorCode", "traceId", "args", "typedArgs"],
            "additionalProperties": False,
            "description": "Error codes: " + "; ".join(f"`{c}` {d}" for c, d in ERROR_CODES.items()),
            "properties": {
                "errorMessage": {"type": "string", "description": "Human readable message."},
                "errorCode": {"type": "string", "enum": list(ERROR_CODES)},
                "traceId": {"type": "string", "description": "The request id (X-Request-ID)."},
                "args": {"type": "array", "items": {}},
                "typedArgs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value", "type"],
                        "properties": {"value": {}, "type": {"type": "string", "enum": ARG_TYPES}},
                    },
                },
                "reference": {"type": "string", "description": "The offending field, as a dotted path."},
            },
        }


class BenefitsFamilyView(FamilyAPIView):
    dialect = NAME
