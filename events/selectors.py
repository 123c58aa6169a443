from __future__ import annotations

from django.db.models import QuerySet

from .models import Event


def events_since(*, account_id: str, after: int, types: list[str] | None = None) -> QuerySet[Event]:
    """The account's events after sequence number `after`, oldest first."""
    queryset = Event.objects.filter(account_id=account_id, sequence__gt=after).order_by("sequence")
    if types:
        queryset = queryset.filter(type__in=types)
    return queryset
