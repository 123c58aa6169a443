"""The usage-batch parser. Every other billing body goes through a DRF input serializer
(billing/api/serializers.py); usage batches are parsed by hand because a batch holds up to 1000 usages
and this is the ingestion hot path (about 4x faster than the serializer). It reads numbers the one way
(config.kernel.values.ascii_int) and enforces the limits `UsageInSerializer` documents (a test holds
them equal)."""

from __future__ import annotations

import uuid

from billing.services import MAX_BATCH, Usage
from config.api.serializers import unknown_field_errors
from config.kernel.exceptions import InvalidInput
from config.kernel.text import unstorable
from config.kernel.values import ascii_int, uuid_or_none

from .serializers import (
    AMOUNT_MAX,
    AMOUNT_MIN,
    DESCRIPTION_MAX,
    SOURCE_MAX,
    USER_ID_MAX,
    StrictSerializer,
    UsageInSerializer,
    UsageReportInPathSerializer,
    UsageReportSerializer,
)

LIMITS = {
    "max_batch": MAX_BATCH,
    "amount_min": AMOUNT_MIN,
    "amount_max": AMOUNT_MAX,
    "source_max": SOURCE_MAX,
    "description_max": DESCRIPTION_MAX,
    "user_id_max": USER_ID_MAX,
}


def int64(value, field: str, *, minimum: int, maximum: int) -> int:
    number = ascii_int(value)
    if number is None:
        raise InvalidInput.single(field, f"{field} must be an int64: a number or a string of the digits 0-9.")
    if not minimum <= number <= maximum:
        raise InvalidInput.single(field, f"{field} must be between {minimum} and {maximum}.")
    return number


def uuid_of(value, field: str, *, required: bool = True) -> uuid.UUID | None:
    if value in (None, "") and not required:
        return None
    found = uuid_or_none(value) if isinstance(value, str) else None
    if found is None:
        raise InvalidInput.single(field, f"{field} must be a UUID, not {value!r}.")
    return found


def text(value, field: str, *, default: str = "", max_length: int, lower: bool = False) -> str:
    """A string field's value; `lower`: stored lower case, so its length is checked lower-cased ("İ" is
    two characters lower-cased)."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput.single(field, f"{field} must be a string.")
    problem = unstorable(value)
    if problem is not None:
        raise InvalidInput.single(field, f"{field}: {problem}")
    if lower:
        value = value.lower()
    if len(value) > max_length:
        raise InvalidInput.single(field, f"{field} is longer than {max_length} characters.")
    return value


def obj(value, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput.single(field, f"{field} must be an object.")
    problem = unstorable(value)
    if problem is not None:
        raise InvalidInput.single(field, f"{field}: {problem}")
    return value


# The fields of each body, as the documented serializers name them.
REPORT_FIELDS = frozenset(UsageReportSerializer().fields)
REPORT_IN_PATH_FIELDS = frozenset(UsageReportInPathSerializer().fields)
USAGE_FIELDS = frozenset(UsageInSerializer().fields)


def refuse_unknown(data: dict, known: frozenset[str], prefix: str = "") -> None:
    errors = unknown_field_errors(data, known, StrictSerializer.unknown_field_message)
    if errors:
        raise InvalidInput({prefix + name: messages for name, messages in errors.items()})


def body_of(request, known: frozenset[str]) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise InvalidInput.single("body", "The body must be a JSON object.")
    refuse_unknown(data, known)
    return data


_ABSENT = object()


def usage_type(value, field: str) -> str:
    """`credit` or `feature`; empty ("") or absent means `credit`, anything else (null, false, 0, [], {}) is
    refused, as the spec says."""
    if value is _ABSENT or value == "":
        return "credit"
    if isinstance(value, str) and value in ("credit", "feature"):
        return value
    raise InvalidInput.single(field, f"type must be credit or feature, not {value!r}.")


def usages(raw) -> list[Usage]:
    if not isinstance(raw, list):
        raise InvalidInput.single("usages", "usages must be a list.")
    if len(raw) > MAX_BATCH:
        raise InvalidInput.single("usages", f"At most {MAX_BATCH} usages per call, not {len(raw)}.")
    parsed: list[Usage] = []
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(raw):
        where = f"usages.{index}"
        if not isinstance(item, dict):
            raise InvalidInput.single(where, "Each usage must be an object.")
        refuse_unknown(item, USAGE_FIELDS, f"{where}.")
        usage_id = uuid_of(item.get("id"), f"{where}.id")
        if usage_id in seen:
            raise InvalidInput.single(f"{where}.id", f"Usage id {usage_id} appears twice in this call.")
        seen.add(usage_id)
        kind = usage_type(item.get("type", _ABSENT), f"{where}.type")
        parsed.append(
            Usage(
                id=usage_id,
                type=kind,
                amount=int64(item.get("amount"), f"{where}.amount", minimum=AMOUNT_MIN, maximum=AMOUNT_MAX),
                source=text(item.get("source"), f"{where}.source", max_length=SOURCE_MAX, lower=True) or "system",
                description=text(item.get("description"), f"{where}.description", max_length=DESCRIPTION_MAX),
                user_id=text(item.get("user_id"), f"{where}.user_id", max_length=USER_ID_MAX),
                metadata=obj(item.get("metadata"), f"{where}.metadata"),
            )
        )
    return parsed
