"""Time zones as staff read them: a zone whose name is its IANA key, so that every time the admin renders
says where it is (`2026-12-03 13:05 Europe/Oslo`), with Django's `e` format character."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class NamedZone(ZoneInfo):
    """A ZoneInfo whose tzname is its key ("Europe/Oslo") rather than the abbreviation ("CET")."""

    def tzname(self, dt):
        return self.key


def zone_named(name: str | None) -> NamedZone:
    """The zone of that name; UTC for a name that is not a known zone."""
    try:
        return NamedZone(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return NamedZone("UTC")
