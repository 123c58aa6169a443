"""Found or not found: the one way every app's `<entity>_get` selector fetches one object of the caller's
account. The 404 body is the family's dialect (config/api/dialects.py); the selector gives the code and the
message."""

from __future__ import annotations

from django.db.models import Model, QuerySet

from config.kernel.exceptions import NotFound
from config.kernel.values import uuid_or_none


def found(queryset: QuerySet, *, code: str, message: str, **lookup) -> Model:
    """The first object of `queryset` (in its order) matching `lookup`, or NotFound with the entity's code.
    A primary key that is not a UUID finds nothing (never a database error)."""
    if "pk" in lookup:
        lookup["pk"] = uuid_or_none(lookup["pk"])
        if lookup["pk"] is None:
            raise NotFound(message, code=code)
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise NotFound(message, code=code)
    return obj
