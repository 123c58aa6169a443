"""The delivery worker (`python manage.py worker`): turns new events into deliveries, posts due
deliveries, and runs the scheduled scans.

At least once, nothing lost: on PostgreSQL a delivery is claimed by locking its endpoint's row (SELECT ...
FOR UPDATE SKIP LOCKED) in a transaction that stays open while it is posted and commits with the outcome;
a worker killed at any point leaves its transaction uncommitted, so the delivery is still pending and is
posted again (the receiver sees the same `webhook-id` / event id). Several workers share the queue, each
endpoint served by one at a time. In order per endpoint: an endpoint's next delivery is its pending one
with the lowest sequence number, so a failing delivery holds back the later ones. On SQLite
(`make run`, one worker) the post happens outside a transaction (SQLite would block every writer for it)
and the outcome is recorded after it: a kill in between still leaves it pending."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone
from urllib3 import HTTPHeaderDict

from credits.services import credit_expiry_scan
from events.models import Event, EventCounter
from events.services import events_sequence

from . import render, services, signing, targets
from .models import Delivery, Endpoint

log = logging.getLogger(__name__)

# Seconds after each failed attempt before the next (the Standard Webhooks schedule, then two more days):
# 10 attempts over about 3.2 days; then the delivery is failed.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400)
FAN_OUT_BATCH = 1000
EXCERPT = 1024
# How long a claimed endpoint's transaction may idle while its receiver answers (see deliver_one).
CLAIM_IDLE = "60s"


def _skip_locked() -> bool:
    return connection.vendor == "postgresql"


# --- events -> deliveries ---------------------------------------------------------------------------


def fan_out() -> int:
    """Queue each enabled endpoint's new events (those after its cursor); how many were queued."""
    last = EventCounter.objects.filter(account=OuterRef("account_id")).values("last_sequence")
    behind = (
        Endpoint.objects.filter(state=Endpoint.State.ENABLED, deleted_at__isnull=True)
        .annotate(last=Subquery(last))
        .filter(cursor__lt=F("last"))
        .values_list("pk", flat=True)
    )
    queued = 0
    for pk in list(behind):
        queued += _fan_out_one(pk)
    return queued


@transaction.atomic
def _fan_out_one(pk) -> int:
    endpoint = Endpoint.objects.select_for_update(skip_locked=_skip_locked()).filter(pk=pk).first()
    if endpoint is None:
        return 0
    events = list(
        Event.objects.filter(account_id=endpoint.account_id, sequence__gt=endpoint.cursor)
        .order_by("sequence")
        .annotate(days_before=KT("data__days_before"))
        .only("id", "sequence", "type")[:FAN_OUT_BATCH]
    )
    if not events:
        return 0
    now = timezone.now()
    account_days = services.account_expiring_soon_days(endpoint.account_id)
    rows = [
        Delivery(endpoint=endpoint, event_id=e.id, sequence=e.sequence, next_attempt_at=now)
        for e in events
        if endpoint.wants(e.type, e.days_before, account_days)
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    Endpoint.objects.filter(pk=pk).update(cursor=events[-1].sequence)
    return len(rows)


# --- one delivery -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int | None = None
    excerpt: str = ""
    error: str = ""
    latency_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def body_and_headers(delivery: Delivery, now) -> tuple[bytes, HTTPHeaderDict]:
    event, endpoint = delivery.event, delivery.endpoint
    headers = HTTPHeaderDict(
        {**endpoint.headers, "Content-Type": "application/json", "User-Agent": "benefit-ledger-webhooks"}
    )
    live = services.live_secrets(endpoint, now)  # newest first
    if not live:
        raise LookupError("no live secret")
    if endpoint.kind == Endpoint.Kind.FRONTIER:
        data = render.plain(render.resource(event))
        data.update(sequence=event.sequence, account_id=event.account_id, occurred_at=event.created_at.isoformat())
        # created_at is the send time: Frontier's ParseAndValidateEvent refuses events older than 10 minutes,
        # which a retry would be; the change's time is data.occurred_at.
        payload = {
            "id": str(event.id),
            "action": event.type,
            "data": data,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        # One `X-Signature: <secret id>=<hex>` field per live secret, the oldest first (see signing).
        for live_id, live_secret in reversed(live):
            headers.add("X-Signature", signing.frontier(body, key_id=live_id, secret_hex=live_secret))
    else:
        body = json.dumps(render.envelope(event), separators=(",", ":")).encode()
        timestamp = int(now.timestamp())
        msg_id = str(event.id)
        headers["webhook-id"] = msg_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = signing.standard(
            body, msg_id=msg_id, timestamp=timestamp, secrets=[secret for _, secret in live]
        )
    return body, headers


def post(url: str, body: bytes, headers: HTTPHeaderDict) -> Outcome:
    """POST to the address just resolved and checked (targets.resolve), redirects not followed, with
    connect and read timeouts, reading at most WEBHOOK_MAX_RESPONSE_BYTES of the answer."""
    started = time.monotonic()
    try:
        parts, port, address = targets.resolve(url)
    except targets.TargetRefused as refused:
        return Outcome(error=str(refused))
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_CONNECT_TIMEOUT, read=settings.WEBHOOK_READ_TIMEOUT)
    host = address if ":" not in address else f"[{address}]"
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            host, port, timeout=timeout, retries=False, server_hostname=parts.hostname, assert_hostname=parts.hostname
        )
    else:
        pool = urllib3.HTTPConnectionPool(host, port, timeout=timeout, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                path,
                body=body,
                headers=_with_host(headers, parts.netloc.rpartition("@")[2]),
                redirect=False,
                retries=False,
                preload_content=False,
            )
            try:
                raw = _read_capped(response, started)
            finally:
                response.close()
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(error=f"{type(error).__name__}: {error}"[:EXCERPT], latency_ms=_ms(started))
    excerpt = raw[:EXCERPT].decode("utf-8", "replace")
    return Outcome(status=response.status, excerpt=excerpt, latency_ms=_ms(started))


def _with_host(headers, host: str) -> HTTPHeaderDict:
    """The headers and Host, each repeated field still sent as its own line."""
    out = HTTPHeaderDict(headers)
    out["Host"] = host
    return out


class _TooSlow(OSError):
    pass


def _read_capped(response, started: float) -> bytes:
    """At most WEBHOOK_MAX_RESPONSE_BYTES of the answer, within WEBHOOK_TOTAL_TIMEOUT of the attempt's
    start: a receiver that drips its answer a byte at a time never holds the claim past it."""
    chunks, size = [], 0
    while size < settings.WEBHOOK_MAX_RESPONSE_BYTES:
        if time.monotonic() - started > settings.WEBHOOK_TOTAL_TIMEOUT:
            raise _TooSlow(f"no complete answer within {settings.WEBHOOK_TOTAL_TIMEOUT} s")
        chunk = response.read(min(8192, settings.WEBHOOK_MAX_RESPONSE_BYTES - size), decode_content=False)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _due_endpoints(now):
    """Enabled endpoints whose next delivery (their pending one with the lowest sequence number: in order
    per endpoint) is due, the longest due first. One index probe per endpoint, however long its queue."""
    head = Delivery.objects.filter(endpoint=OuterRef("pk"), status=Delivery.Status.PENDING).order_by("sequence")
    return (
        Endpoint.objects.filter(state=Endpoint.State.ENABLED, deleted_at__isnull=True)
        .annotate(due_at=Subquery(head.values("next_attempt_at")[:1]), head=Subquery(head.values("pk")[:1]))
        .filter(due_at__lte=now)
        .order_by("due_at")
    )


def deliver_one() -> bool:
    """Post the next delivery of one endpoint that has one due, and record its outcome; False when none is
    due. The endpoint's row is the claim (FOR UPDATE SKIP LOCKED): one delivery per endpoint in flight."""
    if _skip_locked():
        with transaction.atomic():
            endpoint = _due_endpoints(timezone.now()).select_for_update(skip_locked=True, of=("self",)).first()
            if endpoint is None:
                return False
            # The claim is held while the receiver answers: longer than a request may idle in a transaction
            # (a DNS lookup has no timeout of its own), transaction-locally so a pooler can share the session.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, true)", [CLAIM_IDLE])
            _attempt(endpoint.head)
        return True
    endpoint = _due_endpoints(timezone.now()).first()
    if endpoint is None:
        return False
    _attempt(endpoint.head)
    return True


def _attempt(delivery_id) -> None:
    now = timezone.now()
    # Still pending: another worker may have recorded it since this one's snapshot was taken.
    delivery = (
        Delivery.objects.select_related("event", "endpoint")
        .filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .first()
    )
    if delivery is None:
        return
    try:
        body, headers = body_and_headers(delivery, now)
    except Exception as error:  # an endpoint that cannot be signed for (no live secret, a key that changed)
        log.exception("webhook endpoint %s: cannot sign delivery %s", delivery.endpoint_id, delivery.pk)
        _record(delivery, Outcome(error=f"cannot sign: {type(error).__name__}"))
        return
    outcome = post(delivery.endpoint.url, body, headers)
    _record(delivery, outcome)


@transaction.atomic
def _record(delivery: Delivery, outcome: Outcome) -> None:
    now = timezone.now()
    endpoint = delivery.endpoint
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.latency_ms = outcome.latency_ms
    delivery.response_status = outcome.status
    delivery.response_excerpt = outcome.excerpt
    delivery.error = outcome.error
    endpoint_changes: dict = {}
    if outcome.ok:
        delivery.status, delivery.delivered_at = Delivery.Status.DELIVERED, now
        if endpoint.failing_since is not None:
            endpoint_changes["failing_since"] = None
    else:
        failing_since = endpoint.failing_since or now
        if endpoint.failing_since is None:
            endpoint_changes["failing_since"] = now
        if outcome.status == 410:
            endpoint_changes.update(state=Endpoint.State.DISABLED, disabled_reason=f"410 Gone at {now.isoformat()}")
            delivery.next_attempt_at = now
        elif now - failing_since >= timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS):
            endpoint_changes.update(
                state=Endpoint.State.DISABLED, disabled_reason=f"failing since {failing_since.isoformat()}"
            )
            delivery.next_attempt_at = now
        elif delivery.attempts > len(SCHEDULE):
            delivery.status = Delivery.Status.FAILED
        else:
            delay = SCHEDULE[delivery.attempts - 1] * random.uniform(0.9, 1.1)  # noqa: S311 (jitter, not a secret)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save()
    if endpoint_changes:
        Endpoint.objects.filter(pk=endpoint.pk).update(**endpoint_changes)
        if endpoint_changes.get("state") == Endpoint.State.DISABLED:
            log.warning("webhook endpoint %s disabled: %s", endpoint.pk, endpoint_changes["disabled_reason"])


# --- the loop ---------------------------------------------------------------------------------------


def run_scans(now=None) -> int:
    return credit_expiry_scan(now=now or timezone.now(), endpoint_days=services.endpoint_expiring_soon_days())


def run(*, once: bool = False, stop=lambda: False) -> None:
    """Until `stop()` (or, with `once`, until nothing is left to do now)."""
    next_scan = 0.0
    while not stop():
        if time.monotonic() >= next_scan:
            run_scans()
            next_scan = time.monotonic() + settings.WEBHOOK_SCAN_SECONDS
        worked = events_sequence() > 0
        worked = fan_out() > 0 or worked
        # Deliver for a while, then look for new events again (they join the queue in sequence order).
        until = time.monotonic() + 0.5
        while time.monotonic() < until and not stop() and deliver_one():
            worked = True
        if once and not worked:
            return
        if not worked:
            time.sleep(settings.WEBHOOK_POLL_SECONDS)
