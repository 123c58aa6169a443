"""Small value rules every family shares."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# The instants whose local date is a real date (years 1 to 9999) in every time zone: zones are within 14
# hours of UTC, and an instant past these shown in an account's zone (the admin, reports) would leave the
# calendar (OverflowError). Every date-time an input brings in is held within them.
EARLIEST_INSTANT = datetime(1, 1, 1, 14, tzinfo=UTC)
LATEST_INSTANT = datetime(9999, 12, 31, 10, tzinfo=UTC) - timedelta(microseconds=1)
INSTANT_RANGE = "Must be between 0001-01-01T14:00:00Z and 9999-12-31T09:59:59Z."


def instant_problem(moment: datetime | None) -> str | None:
    """Why an aware `moment` cannot be kept (its local date would leave the calendar in some time zone), or
    None (also for None). A naive moment is read as UTC."""
    if moment is None:
        return None
    try:
        aware = moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)
        inside = EARLIEST_INSTANT <= aware <= LATEST_INSTANT
    except (OverflowError, ValueError):
        inside = False
    return None if inside else INSTANT_RANGE


def uuid_or_none(value) -> uuid.UUID | None:
    """The UUID a path or query value names, or None when it is not one (so a lookup finds nothing)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


_ASCII_INTEGER = re.compile(r"-?[0-9]+")


def ascii_int(value, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int | None:
    """The integer `value` names, or None. Only ASCII digits make a number (str.isdigit() and int() also
    take "²" and "١٢٣"); no sign but a leading "-", no white space, no "_" (leading zeros are read as
    decimal, "007" is 7), and never outside
    [minimum, maximum] (int64 unless told). A JSON number passes when it is a whole int, never a bool."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and len(value) <= 20 and _ASCII_INTEGER.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None
