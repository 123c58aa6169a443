"""Four eyes in the admin: the approval requests (read-only history), each with Approve/Reject for staff
with customers.approve_approvalrequest (after re-authentication), and the account's approval threshold,
changed on its own page (customers.change_account, after re-authentication)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from config.kernel.actors import Actor
from config.kernel.admin import ReadOnlyAdmin, action_step, admin_page, posted
from staff import sudo

from . import approvals, services
from .models import Account, ApprovalRequest

THRESHOLD_PERMISSION = "customers.change_account"


class DecisionForm(forms.Form):
    # Sent by the button pressed (Approve or Reject).
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept with the decision; required to reject.",
    )


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("requested_at", "account", "kind", "summary", "value", "status", "requested_by", "decided_by")
    list_filter = ("status", "kind", "account")
    list_select_related = ("account", "requested_by", "decided_by")
    search_fields = ("summary",)
    fields = (
        "account", "kind", "summary", "value", "status", "requested_by", "requested_at", "decided_by", "decided_at",
        "reason", "result", "payload",
    )  # fmt: skip
    readonly_fields = fields
    change_form_template = "admin/customers/approvalrequest/change_form.html"
    own_pages = (("<path:object_id>/decide/", "decide_view", "decide"),)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        approval = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if approval is not None and approval.status == ApprovalRequest.Status.PENDING:
            extra_context["may_decide"] = request.user.has_perm(approvals.APPROVE_PERMISSION)
            extra_context["own_request"] = approval.requested_by_id == request.user.pk
            extra_context["decision_form"] = DecisionForm()
            extra_context["decide_url"] = reverse(
                "admin:customers_approvalrequest_decide", args=[quote(approval.pk)], current_app=self.admin_site.name
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _page(request, approval) -> str:
        return reverse("admin:customers_approvalrequest_change", args=[quote(approval.pk)])

    def decide_view(self, request, object_id):
        """POST: approve or reject, with a reason; the service refuses the requester and a second decision."""
        if not request.user.has_perm(approvals.APPROVE_PERMISSION):
            raise PermissionDenied
        approval = self.get_object(request, unquote(object_id))
        if approval is None:
            raise Http404("No such approval request.")
        back = self._page(request, approval)
        if not sudo.is_recent(request):
            return sudo.redirect(request, back)
        return _decide(self, request, approval, back)


def _decide(model_admin, request, approval, back):
    if request.method != "POST":
        return HttpResponseRedirect(back)

    def refused(form):
        message = "Choose Approve or Reject (a reason is at most 2000 characters)."
        model_admin.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(back)

    def decide(data) -> str:
        if data["decision"] == "approve":
            approvals.approval_request_approve(request_id=approval.pk, decided_by=request.user, reason=data["reason"])
            return "Approved and written"
        approvals.approval_request_reject(request_id=approval.pk, decided_by=request.user, reason=data["reason"])
        return "Rejected"

    return action_step(
        model_admin,
        request,
        DecisionForm(request.POST),
        decide,
        page=refused,
        done=lambda done: f"{done}: {approval.summary}.",
        failed=f"Could not {request.POST.get('decision')}",
        back=back,
    )


# --- the account's threshold ---------------------------------------------------------------------


class ThresholdForm(forms.Form):
    approval_threshold = forms.IntegerField(
        required=False, min_value=0, help_text=Account._meta.get_field("approval_threshold").help_text
    )


@sudo.required
def threshold_view(model_admin, request, object_id):
    if not request.user.has_perm(THRESHOLD_PERMISSION):
        raise PermissionDenied
    account = model_admin.get_object(request, unquote(object_id))
    if account is None:
        raise Http404("No such account.")
    back = reverse("admin:customers_account_change", args=[quote(account.pk)])
    return action_step(
        model_admin,
        request,
        ThresholdForm(posted(request), initial={"approval_threshold": account.approval_threshold}),
        lambda data: services.account_approval_threshold_set(
            account=account, threshold=data["approval_threshold"], actor=Actor.staff(request.user)
        ),
        page=lambda form: admin_page(
            model_admin,
            request,
            "admin/billing/billingaccount/form_page.html",
            title=f"Approval threshold of {account}",
            form=form,
            submit="Save",
            next=back,
            intro=f"In minor units of {account.currency}.",
        ),
        done=f"Approval threshold of {account} saved.",
        back=back,
    )
