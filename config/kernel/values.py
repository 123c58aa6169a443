"""Small value rules every family shares."""

from __future__ import annotations

import re
import uuid

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


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
