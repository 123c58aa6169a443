"""ISO 8601 durations (`P30D`, `P1M`, `P1Y`) as coupons' `valid_for` and rules' frequencies use them."""

from datetime import datetime, timedelta

import isodate


def parse(value: str) -> timedelta | isodate.Duration:
    """Parse a positive ISO 8601 duration; raises ValueError for anything else."""
    if not isinstance(value, str) or not value.startswith("P"):
        raise ValueError("not an ISO 8601 duration")
    try:
        duration = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError("not an ISO 8601 duration") from exc
    probe = datetime(2000, 1, 1)
    if probe + duration < probe:
        raise ValueError("a duration must not be negative")
    return duration


def add(moment: datetime, value: str) -> datetime:
    return moment + parse(value)
