"""Top-ups by staff worth more than the account's approval threshold wait for a second staff member
(customers/approvals.py); approving calls billing_top_up with the same arguments."""

from __future__ import annotations

import uuid

from config.kernel.actors import Actor
from customers import approvals
from customers.models import ApprovalRequest

from . import services
from .models import BillingAccount

SOURCE = "system.awarded"


def billing_top_up_by_staff(
    *, billing_account: BillingAccount, usage_id: uuid.UUID, amount: int, description: str, user
) -> BillingAccount | ApprovalRequest:
    """Top up now, or file the request; `usage_id` is the top-up's idempotency key either way."""

    def write() -> BillingAccount:
        services.billing_top_up(
            account=billing_account.account,
            billing_account_id=billing_account.pk,
            usage_id=usage_id,
            amount=amount,
            description=description,
            source=SOURCE,
            actor=Actor.staff(user),
        )
        return billing_account

    def held() -> tuple[str, dict]:
        summary = f"top up {billing_account} by {amount} {billing_account.currency}"
        payload = {
            "billing_account_id": str(billing_account.pk),
            "amount": amount,
            "description": description,
            "usage_id": str(usage_id),
        }
        return summary, payload

    return approvals.write_or_hold(
        account=billing_account.account,
        kind=ApprovalRequest.Kind.TOP_UP,
        value=amount,
        requested_by=user,
        write=write,
        held=held,
    )


def _approve_top_up(approval: ApprovalRequest) -> dict:
    payload = approval.payload
    transaction, _ = services.billing_top_up(
        account=approval.account,
        billing_account_id=payload["billing_account_id"],
        usage_id=uuid.UUID(payload["usage_id"]),
        amount=payload["amount"],
        description=payload["description"],
        source=SOURCE,
        actor=Actor.staff(approval.requested_by),
    )
    return {"transaction_id": str(transaction.pk)}


approvals.register(ApprovalRequest.Kind.TOP_UP, _approve_top_up)
