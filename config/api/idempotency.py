"""`Idempotency-Key` on every POST, PUT, PATCH and DELETE of an API client.

The first request with a key stores its answer (scoped to the client) for IDEMPOTENCY_KEY_TTL_SECONDS;
a retry with the same method, path, query and body gets that answer replayed; the same key with another
request is refused in the family's dialect; a retry while the first is still running gets 409 with
Retry-After. Answers worth retrying (409 for a key in flight, 429, 5xx) are not stored, so the retry
runs for real."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from config.kernel.exceptions import Conflict, InvalidInput
from config.models import IdempotencyRecord

HEADER = "Idempotency-Key"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REPLAYED_HEADERS = ("Location", "Link", "Deprecation", "Retry-After")


class Replay(Exception):
    """Raised from a view's initial(): answer with the stored response instead of running the view."""

    def __init__(self, response: Response):
        super().__init__("replay")
        self.response = response


class KeyInFlight(Conflict):
    headers = {"Retry-After": "1"}


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def begin(request) -> IdempotencyRecord | None:
    """Claim the key for this request, or raise Replay / an error. None when no key applies."""
    key = request.headers.get(HEADER)
    if key is None or request.method not in UNSAFE or not getattr(request.user, "is_api_client", False):
        return None
    if not 1 <= len(key) <= 255 or "\x00" in key:  # PostgreSQL can neither store nor compare a NUL
        raise InvalidInput.single(
            HEADER, "An Idempotency-Key is 1 to 255 characters, none of them NUL.", code="idempotency_key.invalid"
        )
    fingerprint = _fingerprint(request._request)
    now = timezone.now()
    expires = now + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    api_client=request.user, key=key, fingerprint=fingerprint, expires_at=expires
                )
        except IntegrityError:
            earlier = IdempotencyRecord.objects.filter(api_client=request.user, key=key).first()
            if earlier is None:
                continue  # finished and dropped meanwhile: claim it again
            if earlier.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=earlier.pk).delete()
                continue
            if earlier.fingerprint != fingerprint:
                raise InvalidInput.single(
                    HEADER, "This Idempotency-Key was used for another request.", code="idempotency_key.reused"
                ) from None
            if earlier.state == IdempotencyRecord.State.IN_FLIGHT:
                raise KeyInFlight(
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    code="idempotency_key.in_flight",
                ) from None
            response = Response(earlier.body, status=earlier.status, headers=earlier.headers)
            response["Idempotent-Replayed"] = "true"
            raise Replay(response) from None
    raise KeyInFlight("The Idempotency-Key is busy; retry shortly.", code="idempotency_key.in_flight")


def finish(record: IdempotencyRecord, response) -> None:
    """Store the answer, or drop the claim when the answer is worth retrying."""
    status = response.status_code
    if (
        status == 429
        or status >= 500
        or response.get("Idempotent-Replayed")
        or isinstance(getattr(response, "exception_class", None), type)
    ):
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    body = response.data if hasattr(response, "data") else json.loads(response.content) if response.content else None
    headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE,
        status=status,
        body=json.loads(json.dumps(body, default=str)),
        headers=headers,
    )
