"""Small value rules every family shares."""

from __future__ import annotations

import uuid

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def uuid_or_none(value) -> uuid.UUID | None:
    """The UUID a path or query value names, or None when it is not one (so a lookup finds nothing)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
