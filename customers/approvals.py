"""Four eyes: a staff write above the account's approval threshold (and any bulk grant) becomes an
ApprovalRequest that a different staff member with customers.approve_approvalrequest approves or
rejects. Approving runs the handler the writing app registered for the kind, which calls the same service
as the direct path, in the same transaction as the decision. API clients never come here: their scopes
are their control."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from config.kernel.exceptions import Conflict, InvalidInput, NotPossible

from .models import Account, ApprovalRequest

APPROVE_PERMISSION = "customers.approve_approvalrequest"

Written = TypeVar("Written")

# kind -> handler(approval_request) -> JSON-able result of the write.
_HANDLERS: dict[str, Callable[[ApprovalRequest], dict]] = {}


def register(kind: str, handler: Callable[[ApprovalRequest], dict]) -> None:
    _HANDLERS[kind] = handler


def needs_approval(account: Account, value: int | None) -> bool:
    """A staff write of this value needs a second person (value None: a bulk grant, whatever its size)."""
    threshold = account.approval_threshold
    if threshold is None:
        return False
    return value is None or value > threshold


def write_or_hold(
    *,
    account: Account,
    kind: str,
    value: int | None,
    requested_by,
    write: Callable[[], Written],
    held: Callable[[], tuple[str, dict]],
) -> Written | ApprovalRequest:
    """A staff write through four eyes, the one way every app files one: `write()` at once, or, when the
    account's threshold holds a write of `value` (needs_approval), an approval request of `kind` whose
    summary and payload `held()` gives (asked for only then); nothing is written until it is approved."""
    if not needs_approval(account, value):
        return write()
    summary, payload = held()
    return approval_request_create(
        account=account, kind=kind, summary=summary, value=value, payload=payload, requested_by=requested_by
    )


@transaction.atomic
def approval_request_create(
    *, account: Account, kind: str, summary: str, value: int | None, payload: dict, requested_by
) -> ApprovalRequest:
    if kind not in _HANDLERS:
        raise NotPossible(f"Nothing approves a {kind!r} request.", code="unknown_kind")
    return ApprovalRequest.objects.create(
        account=account, kind=kind, summary=summary[:500], value=value, payload=payload, requested_by=requested_by
    )


def _locked_pending(request_id, decided_by) -> ApprovalRequest:
    approval = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if approval is None:
        raise NotPossible("No such approval request.", code="not_found")
    if approval.status != ApprovalRequest.Status.PENDING:
        raise Conflict(f"The request is already {approval.status}.", code="already_decided")
    if not (decided_by.is_active and decided_by.is_staff and decided_by.has_perm(APPROVE_PERMISSION)):
        raise NotPossible("You may not decide approval requests.", code="forbidden")
    if approval.requested_by_id == decided_by.pk:
        raise NotPossible("A request is decided by someone other than its requester.", code="own_request")
    return approval


def _decide(approval: ApprovalRequest, *, status: str, decided_by, reason: str, result=None) -> ApprovalRequest:
    approval.status = status
    approval.decided_by = decided_by
    approval.decided_at = timezone.now()
    approval.reason = reason
    approval.result = result
    approval.save(update_fields=["status", "decided_by", "decided_at", "reason", "result"])
    return approval


@transaction.atomic
def approval_request_approve(*, request_id, decided_by, reason: str = "") -> ApprovalRequest:
    """Run the held write (the service's errors leave the request pending) and record the approval."""
    approval = _locked_pending(request_id, decided_by)
    result = _HANDLERS[approval.kind](approval)
    return _decide(
        approval, status=ApprovalRequest.Status.APPROVED, decided_by=decided_by, reason=reason.strip(), result=result
    )


@transaction.atomic
def approval_request_reject(*, request_id, decided_by, reason: str) -> ApprovalRequest:
    approval = _locked_pending(request_id, decided_by)
    if not reason.strip():
        raise InvalidInput.single("reason", "Say why the request is rejected.")
    return _decide(approval, status=ApprovalRequest.Status.REJECTED, decided_by=decided_by, reason=reason.strip())
