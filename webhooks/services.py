"""Every write to endpoints and deliveries (the admin, the Frontier admin API and the worker call these)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.db.models.fields.json import KT
from django.utils import timezone

from config.kernel.actors import Actor
from config.kernel.exceptions import InvalidInput
from customers.models import Account
from events.catalogue import CATALOGUE
from events.models import Event, EventCounter, EventSettings
from events.services import events_sequence

from . import secrets, targets
from .models import Delivery, Endpoint, EndpointSecret

FRONTIER_SECRET_ID = "1"  # Frontier's DefaultSecretID
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{0,1000}")


def endpoint_check(
    *, url: str, subscribed_events: list, headers: dict, state: str, expiring_soon_days: list | None = None
) -> None:
    errors: dict[str, list[str]] = {}
    try:
        targets.resolve(url)
    except targets.TargetRefused as refused:
        errors["url"] = [str(refused)]
    unknown = sorted(set(subscribed_events) - set(CATALOGUE))
    if unknown:
        errors["subscribed_events"] = [f"Unknown event types: {', '.join(unknown)}."]
    if not all(
        isinstance(k, str) and isinstance(v, str) and _HEADER_NAME.fullmatch(k) and _HEADER_VALUE.fullmatch(v)
        for k, v in headers.items()
    ):
        errors["headers"] = ["Header names are HTTP tokens and values printable ASCII on one line."]
    if state not in Endpoint.State.values:
        errors["state"] = [f"Must be {' or '.join(Endpoint.State.values)}."]
    if expiring_soon_days is not None and not _days_valid(expiring_soon_days):
        errors["expiring_soon_days"] = ["A list of whole days from 1 to 366."]
    if errors:
        raise InvalidInput(errors)


def _days_valid(days) -> bool:
    return isinstance(days, list) and all(type(d) is int and 1 <= d <= 366 for d in days)


def expiring_soon_days_from(metadata: dict | None):
    """The thresholds a Frontier admin API client gives in the endpoint's `metadata.expiring_soon_days`
    (Frontier's webhook has no field for them), None when it gives none."""
    return (metadata or {}).get("expiring_soon_days")


def account_expiring_soon_days(account_id: str) -> list[int]:
    """The account's own thresholds (Event settings), for its endpoints that have none."""
    return (
        EventSettings.objects.filter(account_id=account_id).values_list("expiring_soon_days", flat=True).first() or []
    )


def endpoint_expiring_soon_days() -> dict[str, set[int]]:
    """Account id -> the thresholds its live endpoints asked for (the expiry scan adds the account's own)."""
    out: dict[str, set[int]] = {}
    endpoints = Endpoint.objects.filter(state=Endpoint.State.ENABLED, deleted_at__isnull=True).exclude(
        expiring_soon_days=[]
    )
    for account_id, days in endpoints.values_list("account_id", "expiring_soon_days"):
        out.setdefault(account_id, set()).update(days)
    return out


@transaction.atomic
def endpoint_create(
    *,
    account: Account,
    url: str,
    actor: Actor,
    kind: str = Endpoint.Kind.STANDARD,
    description: str = "",
    subscribed_events: list | None = None,
    headers: dict | None = None,
    metadata: dict | None = None,
    state: str = Endpoint.State.ENABLED,
    expiring_soon_days: list | None = None,
) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (answered this once; kept encrypted). It receives the account's
    events from now on (webhooks.worker starts it at the account's last sequence number). Its
    `credit.expiring_soon` thresholds are `expiring_soon_days`, else `metadata.expiring_soon_days`."""
    url = url.strip()
    subscribed_events, headers = list(subscribed_events or []), dict(headers or {})
    if expiring_soon_days is None:
        expiring_soon_days = expiring_soon_days_from(metadata)
    days = [] if expiring_soon_days is None else expiring_soon_days
    endpoint_check(
        url=url,
        subscribed_events=subscribed_events,
        headers=headers,
        state=state or Endpoint.State.ENABLED,
        expiring_soon_days=days,
    )
    events_sequence(account_id=account.pk)  # the events committed before this moment are not this endpoint's
    last = EventCounter.objects.filter(account=account).values_list("last_sequence", flat=True).first() or 0
    endpoint = Endpoint.objects.create(
        account=account,
        kind=kind,
        url=url,
        description=description or "",
        subscribed_events=subscribed_events,
        headers=headers,
        metadata=metadata or {},
        state=state or Endpoint.State.ENABLED,
        expiring_soon_days=sorted(set(days)),
        cursor=last,
        created_by=actor.label,
    )
    secret = _new_secret(endpoint, FRONTIER_SECRET_ID if kind == Endpoint.Kind.FRONTIER else "1")
    return endpoint, secret


def _new_secret(endpoint: Endpoint, key_id: str) -> str:
    value = secrets.new_frontier_secret() if endpoint.kind == Endpoint.Kind.FRONTIER else secrets.new_standard_secret()
    EndpointSecret.objects.create(endpoint=endpoint, key_id=key_id, sealed=secrets.seal(value))
    return value


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, actor: Actor, **values) -> Endpoint:
    merged = {
        "url": (values.get("url") or endpoint.url).strip(),
        "subscribed_events": list(values.get("subscribed_events", endpoint.subscribed_events) or []),
        "headers": dict(values.get("headers", endpoint.headers) or {}),
        "state": values.get("state") or endpoint.state,
        "expiring_soon_days": values.get("expiring_soon_days"),
    }
    if merged["expiring_soon_days"] is None and values.get("metadata") is not None:
        # The metadata replaced (Frontier's PUT) carries the thresholds, or none.
        merged["expiring_soon_days"] = expiring_soon_days_from(values["metadata"]) or []
    if merged["expiring_soon_days"] is None:
        merged["expiring_soon_days"] = endpoint.expiring_soon_days
    endpoint_check(**merged)
    merged["expiring_soon_days"] = sorted(set(merged["expiring_soon_days"]))
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if merged["state"] == Endpoint.State.ENABLED and endpoint.state != Endpoint.State.ENABLED:
        endpoint.disabled_reason, endpoint.failing_since = "", None
    for name, value in merged.items():
        setattr(endpoint, name, value)
    for name in ("description", "metadata"):
        if name in values and values[name] is not None:
            setattr(endpoint, name, values[name])
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, actor: Actor) -> None:
    """Deleted endpoints receive nothing more; their deliveries stay for the record."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        deleted_at=timezone.now(), state=Endpoint.State.DISABLED, disabled_reason=f"deleted by {actor.label}"
    )


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: Endpoint, actor: Actor, overlap: timedelta = timedelta(hours=24)) -> str:
    """A new secret, answered once; the current ones keep signing beside it for `overlap`."""
    now = timezone.now()
    live = endpoint.secrets.filter(expires_at__isnull=True)
    live.update(expires_at=now + overlap)
    next_id = str(
        1 + max((int(k) for k in endpoint.secrets.values_list("key_id", flat=True) if k.isdigit()), default=0)
    )
    return _new_secret(endpoint, next_id)


def live_secrets(endpoint: Endpoint, now=None) -> list[tuple[str, str]]:
    """(key id, secret) of the secrets that sign now, newest first."""
    now = now or timezone.now()
    return [
        (s.key_id, secrets.unseal(s.sealed))
        for s in endpoint.secrets.all()
        if s.expires_at is None or s.expires_at > now
    ]


@transaction.atomic
def deliveries_resend(*, endpoint: Endpoint, actor: Actor, first: int, last: int | None = None) -> int:
    """Send the endpoint's events with sequence numbers first..last (all after `first` when last is None)
    again, at once: delivered or failed ones become pending; events never queued for it are queued."""
    now = timezone.now()
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    last = (
        last if last is not None else Event.objects.filter(account=endpoint.account).aggregate(m=Max("sequence"))["m"]
    )
    if last is None or last < first:
        return 0
    last = min(last, endpoint.cursor)
    events = Event.objects.filter(account=endpoint.account, sequence__gte=first, sequence__lte=last)
    queued = set(Delivery.objects.filter(endpoint=endpoint, event__in=events).values_list("event_id", flat=True))
    account_days = account_expiring_soon_days(endpoint.account_id)
    Delivery.objects.bulk_create(
        [
            Delivery(endpoint=endpoint, event=e, sequence=e.sequence, next_attempt_at=now)
            for e in events.annotate(days_before=KT("data__days_before")).only("id", "sequence", "type")
            if e.id not in queued and endpoint.wants(e.type, e.days_before, account_days)
        ]
    )
    Delivery.objects.filter(endpoint=endpoint, sequence__gte=first, sequence__lte=last).update(
        status=Delivery.Status.PENDING, next_attempt_at=now, error=""
    )
    return Delivery.objects.filter(endpoint=endpoint, sequence__gte=first, sequence__lte=last).count()
