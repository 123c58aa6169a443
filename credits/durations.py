"""ISO 8601 durations (`P30D`, `P1M`, `P1Y`) as coupons' `valid_for` and rules' frequencies use them."""

from datetime import datetime, timedelta

import isodate

# A credit's expiry is computed as now + valid_for: a duration past this would overflow a date-time.
LONGEST = datetime(3000, 1, 1) - datetime(2000, 1, 1)


def parse(value: str) -> timedelta | isodate.Duration:
    """Parse a positive ISO 8601 duration of at most about 1000 years; raises ValueError for anything else
    (ASCII only, nothing before or after it: isodate also takes a trailing newline)."""
    if not isinstance(value, str) or not value.startswith("P") or not value.isascii() or not value.isprintable():
        raise ValueError("not an ISO 8601 duration")
    if value != value.strip():
        raise ValueError("not an ISO 8601 duration")
    probe = datetime(2000, 1, 1)
    try:
        duration = isodate.parse_duration(value)
        end = probe + duration
    except (isodate.ISO8601Error, ValueError, OverflowError) as exc:
        raise ValueError("not an ISO 8601 duration") from exc
    if end < probe:
        raise ValueError("a duration must not be negative")
    if end - probe > LONGEST:
        raise ValueError("a duration must not be longer than 1000 years")
    return duration


def add(moment: datetime, value: str) -> datetime:
    return moment + parse(value)
