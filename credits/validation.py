"""Value rules of the credits app, written once: the API's serializers, the admin's forms, the services
and the bulk and recurring grants all check through these."""

from __future__ import annotations

from datetime import datetime

from django.core.validators import RegexValidator
from django.utils import timezone

from config.kernel.values import instant_problem

# A benefit key: what a partner app names a benefit by (the benefits family's {benefitKey}).
BENEFIT_KEY_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
# "\Z", not "$": "$" also matches before a trailing newline. The message names the pattern as documented.
BENEFIT_KEY_VALIDATOR = RegexValidator(r"^[A-Za-z0-9_.-]{1,64}\Z", f"Must match {BENEFIT_KEY_PATTERN}.")

EXPIRY_IN_THE_PAST = "Must be in the future."


def expiry_date_error(expiry_date: datetime | None, *, now: datetime | None = None) -> str | None:
    """Why `expiry_date` cannot be a new credit's expiry (it is not in the future, or past the calendar in
    some time zone), or None when it can.
    No expiry (None) is always allowed."""
    if expiry_date is None:
        return None
    if (problem := instant_problem(expiry_date)) is not None:
        return problem
    return EXPIRY_IN_THE_PAST if expiry_date <= (now or timezone.now()) else None
