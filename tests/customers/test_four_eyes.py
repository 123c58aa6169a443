"""Four eyes: above an account's approval threshold a staff member's manual credit or top-up, and any
bulk grant, becomes a pending request; nothing reaches the ledger until a different staff member with
the approve permission approves it (after re-authenticating), which runs the same service; a rejection
needs a reason; the requester can never decide their own request. API clients are not affected."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billing import services as billing_services
from billing.models import BillingTransaction
from config.kernel.exceptions import Conflict, InvalidInput, NotPossible
from credits.models import CreditEvent, CustomerCredit
from credits.services import approvals as credit_approvals
from customers import approvals, services
from customers.models import ApprovalRequest
from tests.concurrency import run_simultaneously
from tests.conftest import SYSTEM
from tests.credits.test_credits_api import credits_url
from tests.staff.two_factor import reauthenticated

PASSWORD = "a-long-test-password-1"


def staff(username: str, *, approve: bool = False, desk: bool = True):
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    if desk:
        user.groups.add(Group.objects.get(name="Credit desk"))
    if approve:
        user.user_permissions.add(Permission.objects.get(codename="approve_approvalrequest"))
    return get_user_model().objects.get(pk=user.pk)  # no cached permissions


def client_for(user, *, fresh_password: bool = True) -> Client:
    client = Client()
    client.force_login(user)
    return reauthenticated(client) if fresh_password else client


@pytest.fixture
def guarded(account):
    """The account with a threshold of NOK 1000.00."""
    return services.account_approval_threshold_set(account=account, threshold=100000, actor=SYSTEM)


@pytest.fixture
def alice(db):
    return staff("alice", approve=True)


@pytest.fixture
def bob(db):
    return staff("bob", approve=True)


def issue(client, customer, coupon, **extra):
    return client.post(
        reverse("admin:credits_customercredit_add"), {"customer": customer.pk, "coupon": coupon.pk, **extra}
    )


def decide(client, approval, decision: str, reason: str = ""):
    url = reverse("admin:customers_approvalrequest_decide", args=[approval.pk])
    return client.post(url, {"decision": decision, "reason": reason}, follow=True)


def test_a_manual_credit_above_the_threshold_waits_for_another_staff_member(guarded, customer, make_coupon, alice, bob):
    big = make_coupon(guarded, name="Gift 2000", kind="monetary", value=200000, currency="NOK", offering="")
    small = make_coupon(guarded, name="Gift 100", kind="monetary", value=10000, currency="NOK", offering="")
    desk = client_for(alice)
    assert issue(desk, customer, small).status_code == 302
    assert CustomerCredit.objects.filter(coupon=small).count() == 1  # below: at once
    response = issue(desk, customer, big)
    approval = ApprovalRequest.objects.get()
    assert response["Location"] == reverse("admin:customers_approvalrequest_change", args=[approval.pk])
    assert (approval.status, approval.value, approval.requested_by) == ("pending", 200000, alice)
    assert not CustomerCredit.objects.filter(coupon=big).exists()

    refused = decide(desk, approval, "approve")
    assert "decided by someone other than its requester" in refused.content.decode()
    approval.refresh_from_db()
    assert approval.status == "pending" and not CustomerCredit.objects.filter(coupon=big).exists()

    approved = decide(client_for(bob), approval, "approve", "checked the gift order")
    assert "Approved and written" in approved.content.decode()
    approval.refresh_from_db()
    credit = CustomerCredit.objects.get(coupon=big)
    assert (approval.status, approval.decided_by, approval.reason) == ("approved", bob, "checked the gift order")
    assert approval.result == {"credit_id": str(credit.pk)} and approval.decided_at is not None
    assert (credit.source, credit.issued_by, credit.issued_by_user) == ("manual", "staff:alice", alice)
    assert CreditEvent.objects.get(credit=credit).actor == "staff:alice"
    assert "already approved" in decide(client_for(bob), approval, "reject", "late").content.decode()


def test_the_service_refuses_the_requester_and_anyone_without_the_permission(guarded, customer, make_coupon, alice):
    coupon = make_coupon(guarded, default_revenue=500000)
    desk = client_for(alice)
    issue(desk, customer, coupon)
    approval = ApprovalRequest.objects.get()
    with pytest.raises(NotPossible, match="other than its requester"):
        approvals.approval_request_approve(request_id=approval.pk, decided_by=alice)
    with pytest.raises(NotPossible, match="other than its requester"):
        approvals.approval_request_reject(request_id=approval.pk, decided_by=alice, reason="mine")
    carol = staff("carol")
    with pytest.raises(NotPossible, match="may not decide"):
        approvals.approval_request_approve(request_id=approval.pk, decided_by=carol)
    assert client_for(carol).post(reverse("admin:customers_approvalrequest_decide", args=[approval.pk]), {
        "decision": "approve"
    }).status_code == 403  # fmt: skip
    approval.refresh_from_db()
    assert approval.status == "pending" and not CustomerCredit.objects.exists()


def test_a_rejection_needs_a_reason_and_writes_nothing(guarded, customer, make_coupon, alice, bob):
    coupon = make_coupon(guarded, default_revenue=500000)
    issue(client_for(alice), customer, coupon)
    approval = ApprovalRequest.objects.get()
    with pytest.raises(InvalidInput):
        approvals.approval_request_reject(request_id=approval.pk, decided_by=bob, reason="  ")
    decided = approvals.approval_request_reject(request_id=approval.pk, decided_by=bob, reason="not agreed")
    assert (decided.status, decided.decided_by, decided.reason) == ("rejected", bob, "not agreed")
    assert not CustomerCredit.objects.exists()
    with pytest.raises(Conflict):
        approvals.approval_request_approve(request_id=approval.pk, decided_by=bob)


def test_deciding_needs_a_fresh_password(guarded, customer, make_coupon, alice, bob):
    coupon = make_coupon(guarded, default_revenue=500000)
    issue(client_for(alice), customer, coupon)
    approval = ApprovalRequest.objects.get()
    response = client_for(bob, fresh_password=False).post(
        reverse("admin:customers_approvalrequest_decide", args=[approval.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("staff:reauth"))
    approval.refresh_from_db()
    assert approval.status == "pending" and not CustomerCredit.objects.exists()


def test_a_top_up_above_the_threshold_waits_and_its_approval_tops_up_once(guarded, customer, alice, bob):
    wallet = billing_services.billing_account_create(account=guarded, org_id=customer.pk, actor=SYSTEM)
    top_up = reverse("admin:billing_billingaccount_top_up", args=[wallet.pk])
    desk = client_for(alice)
    desk.post(top_up, {"amount": 100000, "description": "at the threshold"})
    desk.post(top_up, {"amount": 100001, "description": "above"})
    wallet.refresh_from_db()
    assert wallet.balance == 100000 and BillingTransaction.objects.count() == 1
    approval = ApprovalRequest.objects.get(kind="billing_top_up")
    decide(client_for(bob), approval, "approve")
    wallet.refresh_from_db()
    assert wallet.balance == 200001
    assert BillingTransaction.objects.filter(billing_account=wallet).count() == 2
    assert BillingTransaction.objects.get(description="above").created_by == "staff:alice"


def test_every_bulk_grant_waits_but_a_dry_run_runs(guarded, make_customer, coupon, alice, bob):
    customers = [make_customer(guarded, email=f"c{i}@example.com") for i in range(3)]
    csv = "email\n" + "\n".join(c.email for c in customers) + "\n"
    url = reverse("admin:credits_customercredit_bulk_grant")
    desk = client_for(alice)

    def upload(**extra):
        data = {"account": guarded.pk, "coupon": coupon.pk, **extra}
        return desk.post(url, {**data, "customers": SimpleUploadedFile("c.csv", csv.encode(), "text/csv")})

    dry = upload(dry_run="on")
    assert "would grant" in dry.content.decode() and not ApprovalRequest.objects.exists()
    page = upload()
    assert "Sent for approval" in page.content.decode()
    assert not CustomerCredit.objects.exists()
    approval = ApprovalRequest.objects.get(kind="credit_grant_bulk")
    decide(client_for(bob), approval, "approve")
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.result["granted"] == 3
    assert CustomerCredit.objects.filter(source="bulk", issued_by_user=alice).count() == 3


def test_api_clients_are_not_held(guarded, api, customer, make_coupon):
    coupon = make_coupon(guarded, default_revenue=500000)
    response = api.post(credits_url(customer), {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)})
    assert response.status_code == 201 and not ApprovalRequest.objects.exists()


def test_changing_the_threshold_needs_the_password_and_records_who(account, alice):
    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    url = reverse("admin:customers_account_threshold", args=[account.pk])
    fresh = client_for(root, fresh_password=False)
    assert fresh.post(url, {"approval_threshold": 5})["Location"].startswith(reverse("staff:reauth"))
    account.refresh_from_db()
    assert account.approval_threshold is None
    assert fresh.post(reverse("staff:reauth"), {"password": PASSWORD, "next": url}).status_code == 302
    assert fresh.post(url, {"approval_threshold": 5}).status_code == 302
    account.refresh_from_db()
    assert (account.approval_threshold, account.approval_threshold_set_by) == (5, "staff:root")
    assert client_for(alice).post(url, {"approval_threshold": ""}).status_code == 403
    account.refresh_from_db()
    assert account.approval_threshold == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_decisions_decide_once(account, customer, make_coupon):
    """Four approvers at once, on real concurrent transactions: one decision wins, the others are told
    it is already decided, and at most one credit is written."""
    guarded = services.account_approval_threshold_set(account=account, threshold=0, actor=SYSTEM)
    coupon = make_coupon(guarded, default_revenue=500)
    requester = staff("alice", desk=False)  # (a flushed database has no staff groups)
    customer.account = guarded
    approval = credit_approvals.credit_issue_by_staff(customer=customer, coupon=coupon, user=requester)
    assert isinstance(approval, ApprovalRequest)
    deciders = [staff(f"approver{i}", approve=True, desk=False) for i in range(4)]

    def decide_now(index: int) -> str:
        user = get_user_model().objects.get(pk=deciders[index].pk)
        try:
            if index % 2:
                approvals.approval_request_reject(request_id=approval.pk, decided_by=user, reason="no")
            else:
                approvals.approval_request_approve(request_id=approval.pk, decided_by=user)
        except Conflict:
            return "already decided"
        return "decided"

    assert run_simultaneously(4, decide_now) == {"decided": 1, "already decided": 3}
    approval.refresh_from_db()
    written = CustomerCredit.objects.filter(coupon=coupon).count()
    assert (approval.status, written) in {("approved", 1), ("rejected", 0)}
