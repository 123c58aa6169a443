"""Request parsing for the billing family. The vendor's API is protobuf behind a JSON gateway, so int64
fields arrive as JSON numbers or as strings of decimal digits. Usage batches are parsed by hand rather
than by a DRF serializer: a batch has up to 1000 usages, and this path is the ingestion hot path."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from django.utils.dateparse import parse_datetime

from billing.services import MAX_BATCH, Usage
from config.kernel.exceptions import InvalidInput
from config.kernel.text import unstorable
from config.kernel.values import INT64_MAX, INT64_MIN


def int64(value, field: str, *, minimum: int = INT64_MIN) -> int:
    if isinstance(value, bool):
        raise InvalidInput.single(field, f"{field} must be an int64 (a number or a string of digits).")
    if isinstance(value, str):
        text = value.strip()
        if not (text.lstrip("-").isdigit() and text.count("-") <= 1 and not text.endswith("-")):
            raise InvalidInput.single(field, f"{field} must be an int64 (a number or a string of digits).")
        value = int(text)
    if not isinstance(value, int) or not INT64_MIN <= value <= INT64_MAX:
        raise InvalidInput.single(field, f"{field} must be an int64 (a number or a string of digits).")
    if value < minimum:
        raise InvalidInput.single(field, f"{field} must be at least {minimum}.")
    return value


def uuid_of(value, field: str, *, required: bool = True) -> uuid.UUID | None:
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput.single(field, f"{field} must be a UUID.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput.single(field, f"{field} must be a UUID, not {value!r}.") from None


def text(value, field: str, *, default: str = "", max_length: int = 5000) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput.single(field, f"{field} must be a string.")
    problem = unstorable(value)
    if problem is not None:
        raise InvalidInput.single(field, f"{field}: {problem}")
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


def body_of(request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise InvalidInput.single("body", "The body must be a JSON object.")
    return data


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
        usage_id = uuid_of(item.get("id"), f"{where}.id")
        if usage_id in seen:
            raise InvalidInput.single(f"{where}.id", f"Usage id {usage_id} appears twice in this call.")
        seen.add(usage_id)
        kind = item.get("type") or "credit"
        if kind not in ("credit", "feature"):
            raise InvalidInput.single(f"{where}.type", f"type must be credit or feature, not {kind!r}.")
        parsed.append(
            Usage(
                id=usage_id,
                type=kind,
                amount=int64(item.get("amount", 0), f"{where}.amount", minimum=0),
                source=text(item.get("source"), f"{where}.source", max_length=255).lower() or "system",
                description=text(item.get("description"), f"{where}.description"),
                user_id=text(item.get("user_id"), f"{where}.user_id", max_length=255),
                metadata=obj(item.get("metadata"), f"{where}.metadata"),
            )
        )
    return parsed


def timestamp(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput.single(field, f"{field} must be an RFC 3339 date-time with an offset.")
    return moment


def encode_page_token(created_at: datetime, pk: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        moment, _, pk = raw.partition("|")
        parsed = parse_datetime(moment)
        if parsed is None:
            raise ValueError
        return parsed, uuid.UUID(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput.single("page_token", "page_token is not one this service gave out.") from None
