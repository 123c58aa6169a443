"""`Idempotency-Key` on every POST, PUT, PATCH and DELETE of an API client.

The first request with a key stores its answer (scoped to the client) for IDEMPOTENCY_KEY_TTL_SECONDS;
a retry with the same method, path, query and body gets that answer replayed; the same key with another
request is refused in the family's dialect. Answers worth retrying (429, 5xx) are not stored, so the
retry runs for real; neither are access tokens (views that set `idempotency_store_answer = False`).

The claim is tied to the request's own database transaction: the claim row, the effect and the stored
answer are written in ONE transaction, committed together after the view ran. So:

- while the first request runs, its uncommitted claim row holds the key (a unique-index wait): a retry
  waits up to IDEMPOTENCY_WAIT_MS for it; if the first commits in that time the retry gets the replay,
  otherwise 409 with Retry-After;
- when the worker running the first request dies (SIGKILL, gunicorn's timeout, OOM, a lost network),
  PostgreSQL rolls its transaction back, effect and claim together, as soon as the session ends (at
  once for a dead process; after `idle_in_transaction_session_timeout` for a lost network), and the
  retry runs afresh;
- once committed, the effect and its answer exist together: the retry gets the replay.

A retry therefore never runs the effect twice and never meets a claim that outlives its holder."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.response import Response

from config.kernel.exceptions import Conflict, InvalidInput
from config.models import IdempotencyRecord

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"  # HEADER in the WSGI environ
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REPLAYED_HEADERS = ("Location", "Link", "Deprecation", "Retry-After")


class Replay(Exception):
    """Raised from a view's initial(): answer with the stored response instead of running the view."""

    def __init__(self, response: Response):
        super().__init__("replay")
        self.response = response


class KeyInFlight(Conflict):
    headers = {"Retry-After": "1"}


@dataclass
class Claim:
    """A key claimed by the running request: the open transaction and the (uncommitted) claim row."""

    record: IdempotencyRecord
    atomic: transaction.Atomic
    store_answer: bool = True


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _test_pause(point: str) -> None:
    """Test-only: the fault-injection tests make a gunicorn worker stop at `point` so they can kill it.
    `IDEMPOTENCY_TEST_PAUSE` exists only in config.settings.test; production never has it."""
    wanted = getattr(settings, "IDEMPOTENCY_TEST_PAUSE", None)
    if not wanted or wanted[0] != point:
        return
    try:  # only the first request to get here pauses (the retry must not)
        fd = os.open(wanted[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(300)


def _claim(request, key: str, fingerprint: str, now) -> IdempotencyRecord:
    """Insert the claim row inside the request's transaction, or raise Replay / an error."""
    expires = now + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    on_postgres = connection.vendor == "postgresql"
    for _attempt in range(3):
        try:
            with transaction.atomic():
                if on_postgres:
                    # A live holder's uncommitted claim makes this INSERT wait; wait only so long.
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT set_config('lock_timeout', %s, true)", [f"{settings.IDEMPOTENCY_WAIT_MS}ms"]
                        )
                try:
                    return IdempotencyRecord.objects.create(
                        api_client=request.user, key=key, fingerprint=fingerprint, expires_at=expires
                    )
                finally:
                    if on_postgres and not connection.needs_rollback:
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT set_config('lock_timeout', '0', true)")
        except OperationalError as exc:
            if getattr(getattr(exc, "__cause__", None), "sqlstate", None) == "55P03":  # lock_not_available
                raise KeyInFlight(
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    code="idempotency_key.in_flight",
                ) from None
            raise
        except IntegrityError:
            earlier = IdempotencyRecord.objects.filter(api_client=request.user, key=key).first()
            if earlier is None:
                continue  # dropped meanwhile: claim it again
            if earlier.expires_at <= now or earlier.state == IdempotencyRecord.State.IN_FLIGHT:
                # Expired, or a committed in-flight claim left by a version that committed claims on
                # their own (its holder is gone: claims are never committed in flight any more).
                IdempotencyRecord.objects.filter(pk=earlier.pk).delete()
                continue
            if earlier.fingerprint != fingerprint:
                raise InvalidInput.single(
                    HEADER, "This Idempotency-Key was used for another request.", code="idempotency_key.reused"
                ) from None
            response = Response(earlier.body, status=earlier.status, headers=earlier.headers)
            response["Idempotent-Replayed"] = "true"
            raise Replay(response) from None
    raise KeyInFlight("The Idempotency-Key is busy; retry shortly.", code="idempotency_key.in_flight")


def begin(request, *, store_answer: bool = True) -> Claim | None:
    """Open the request's transaction and claim the key in it, or raise Replay / an error. None when no
    key applies. Every Claim returned must be passed to finish()."""
    key = request.META.get(META_KEY)
    if key is None or request.method not in UNSAFE or not getattr(request.user, "is_api_client", False):
        return None
    if not 1 <= len(key) <= 255 or "\x00" in key:  # PostgreSQL can neither store nor compare a NUL
        raise InvalidInput.single(
            HEADER, "An Idempotency-Key is 1 to 255 characters, none of them NUL.", code="idempotency_key.invalid"
        )
    if not store_answer:
        return None  # answers that must never be stored at rest (access tokens): the key is ignored
    fingerprint = _fingerprint(request._request)
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        record = _claim(request, key, fingerprint, timezone.now())
    except BaseException as exc:
        atomic.__exit__(type(exc), exc, exc.__traceback__)
        raise
    return Claim(record=record, atomic=atomic, store_answer=store_answer)


def _worth_storing(response) -> bool:
    status = response.status_code
    return not (status == 429 or status >= 500 or response.get("Idempotent-Replayed"))


def finish(claim: Claim, response) -> None:
    """Store the answer with the effect and commit both, or roll both back when the answer is worth
    retrying (the effect of a failed request is rolled back with it). Raises DatabaseError when a
    successful answer could not be committed: the caller answers 503 instead (nothing was written)."""
    if not _worth_storing(response) or connection.needs_rollback:
        claim.atomic.__exit__(_Drop, _Drop(), None)  # rolls back
        return
    try:
        _test_pause("after_effect")
        body = (
            response.data if hasattr(response, "data") else json.loads(response.content) if response.content else None
        )
        headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
        IdempotencyRecord.objects.filter(pk=claim.record.pk).update(
            state=IdempotencyRecord.State.DONE,
            status=response.status_code,
            body=json.loads(json.dumps(body, default=str)),
            headers=headers,
        )
        _test_pause("after_answer")
    except BaseException as exc:
        claim.atomic.__exit__(type(exc), exc, exc.__traceback__)  # rolls back
        if isinstance(exc, DatabaseError) and response.status_code >= 400:
            return  # an error answer goes out unstored; nothing was written anyway
        raise
    claim.atomic.__exit__(None, None, None)  # commits effect and answer together (raises if it cannot)
    _test_pause("after_commit")


class _Drop(Exception):
    pass
