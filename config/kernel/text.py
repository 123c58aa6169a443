"""Text the database can hold. PostgreSQL refuses the NUL character in text and in jsonb, and a lone UTF-16
surrogate (which a JSON body may carry as "\\ud800") cannot be encoded as UTF-8 at all, and JSON has no
number for infinity or NaN (Python's parser reads 1e309 as inf; PostgreSQL's json refuses "Infinity"); an
input holding any of these must be refused as invalid before it reaches a query, or it ends as a 500.
DRF's CharField does this for serializer fields; this is for inputs parsed by hand and for free-form JSON
objects such as metadata, which are also kept shallow enough to be serialized again without hitting
Python's recursion limit."""

from __future__ import annotations

import math
import re

MAX_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value, *, max_depth: int = MAX_DEPTH) -> str | None:
    """Why `value` (a string, or a JSON value: every key and string in it) cannot be stored, or None."""
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, float):
        return _number_problem(value)
    if not value:
        return None
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem is not None:
                return problem
        elif isinstance(item, float):
            problem = _number_problem(item)
            if problem is not None:
                return problem
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return f"Nested deeper than {max_depth} levels."
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _number_problem(number: float) -> str | None:
    return None if math.isfinite(number) else "Numbers must be finite (at most about 1.8e308)."


def _text_problem(text: str) -> str | None:
    # The usage-ingestion hot path passes here several times per usage: ASCII text (an O(1) test) can only
    # hold a NUL; the pattern is searched only for the rest.
    if text.isascii():
        return "Null characters are not allowed." if "\x00" in text else None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Null characters are not allowed."
    return f"Surrogate characters are not allowed: U+{ord(found.group()):04X}."
