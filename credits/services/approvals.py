"""The credits writes that four eyes may hold (customers/approvals.py): a manual credit worth more than
the account's approval threshold, and any bulk grant. Staff pages call the *_by_staff functions; each
either writes at once through the service or files an approval request, whose approval later calls the
same service with the same arguments."""

from __future__ import annotations

from datetime import datetime

from django.utils.dateparse import parse_datetime

from config.kernel.actors import Actor
from customers import approvals
from customers.models import Account, ApprovalRequest, Customer, Membership

from ..models import Coupon, CustomerCredit
from . import credit_issue, grants


def credit_worth(coupon: Coupon, revenue: int | None) -> int:
    """What a credit is worth for the threshold: its face value (monetary coupons) or the revenue it
    recognises, whichever is more."""
    recognised = coupon.default_revenue if revenue is None else revenue
    face = coupon.value or 0 if coupon.kind == Coupon.Kind.MONETARY else 0
    return max(face, recognised or 0)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def credit_issue_by_staff(
    *,
    customer: Customer,
    coupon: Coupon,
    user,
    membership: Membership | None = None,
    expiry_date: datetime | None = None,
    revenue: int | None = None,
) -> CustomerCredit | ApprovalRequest:
    def write() -> CustomerCredit:
        return credit_issue(
            customer=customer,
            coupon=coupon,
            membership=membership,
            expiry_date=expiry_date,
            revenue=revenue,
            source=CustomerCredit.Source.MANUAL,
            actor=Actor.staff(user),
        )

    def held() -> tuple[str, dict]:
        payload = {
            "customer_id": str(customer.pk),
            "coupon_id": str(coupon.pk),
            "membership_id": str(membership.pk) if membership else None,
            "expiry_date": _iso(expiry_date),
            "revenue": revenue,
        }
        return f"{coupon.name} for {customer}", payload

    return approvals.write_or_hold(
        account=customer.account,
        kind=ApprovalRequest.Kind.CREDIT_ISSUE,
        value=credit_worth(coupon, revenue),
        requested_by=user,
        write=write,
        held=held,
    )


def _approve_credit_issue(approval: ApprovalRequest) -> dict:
    payload = approval.payload
    customer = Customer.objects.select_related("account").get(account=approval.account, pk=payload["customer_id"])
    credit = credit_issue(
        customer=customer,
        coupon_id=payload["coupon_id"],
        membership_id=payload["membership_id"],
        expiry_date=parse_datetime(payload["expiry_date"]) if payload["expiry_date"] else None,
        revenue=payload["revenue"],
        source=CustomerCredit.Source.MANUAL,
        actor=Actor.staff(approval.requested_by),
    )
    return {"credit_id": str(credit.pk)}


def credit_grant_bulk_by_staff(
    *,
    account: Account,
    coupon: Coupon,
    rows,
    column: str,
    batch_key: str,
    user,
    expiry_date: datetime | None = None,
    revenue: int | None = None,
    dry_run: bool = False,
    on_rejection=None,
) -> grants.GrantSummary | ApprovalRequest:
    """A dry run writes nothing and runs at once; a real grant waits for approval when the account has
    a threshold. `on_rejection` is given every rejected row of a grant that runs (grants.credit_grant_bulk)."""

    def write() -> grants.GrantSummary:
        return grants.credit_grant_bulk(
            account=account,
            coupon=coupon,
            column=column,
            batch_key=batch_key,
            rows=rows,
            actor_user=user,
            expiry_date=expiry_date,
            revenue=revenue,
            dry_run=dry_run,
            on_rejection=on_rejection,
        )

    def held() -> tuple[str, dict]:
        kept = [list(row) for row in rows]
        payload = {
            "coupon_id": str(coupon.pk),
            "column": column,
            "batch_key": batch_key,
            "expiry_date": _iso(expiry_date),
            "revenue": revenue,
            "rows": kept,
        }
        return f"{coupon.name} to {len(kept)} customer(s), batch {batch_key}", payload

    if dry_run:
        return write()
    return approvals.write_or_hold(
        account=account, kind=ApprovalRequest.Kind.BULK_GRANT, value=None, requested_by=user, write=write, held=held
    )


def _approve_bulk_grant(approval: ApprovalRequest) -> dict:
    payload = approval.payload
    summary = grants.credit_grant_bulk(
        account=approval.account,
        coupon=Coupon.objects.get(account=approval.account, pk=payload["coupon_id"]),
        rows=(grants.SourceRow(*row) for row in payload["rows"]),
        column=payload["column"],
        batch_key=payload["batch_key"],
        actor_user=approval.requested_by,
        expiry_date=parse_datetime(payload["expiry_date"]) if payload["expiry_date"] else None,
        revenue=payload["revenue"],
    )
    rejections = [[r.row, r.identifier, r.reason] for r in summary.rejections]
    return {
        "summary": summary.line(),
        "granted": summary.granted,
        "rejected": summary.rejected,
        "rejections": rejections,
    }


approvals.register(ApprovalRequest.Kind.CREDIT_ISSUE, _approve_credit_issue)
approvals.register(ApprovalRequest.Kind.BULK_GRANT, _approve_bulk_grant)
