"""The forms of the credit pages: issue, redeem (one credit or selected ones), revoke, reverse a use."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from config.kernel.actors import Actor
from config.kernel.admin import ServiceModelForm
from config.kernel.display import MoneyField, to_minor
from customers.models import ApprovalRequest

from ..models import CustomerCredit
from ..services import approvals


class CreditIssueForm(ServiceModelForm):
    revenue = MoneyField(
        required=False, help_text="In the account's currency, e.g. 450.00. Leave empty for the coupon's default."
    )

    class Meta:
        model = CustomerCredit
        fields = ("customer", "coupon", "membership", "expiry_date", "revenue")
        help_texts = {
            "expiry_date": "Leave empty for the coupon's validity (or no expiry if the coupon has none).",
            "membership": "Optional: the membership this credit belongs to.",
        }

    def clean(self):
        data = super().clean()
        if data.get("revenue") is not None and data.get("customer") is not None:
            try:
                data["revenue"] = to_minor(data["revenue"], data["customer"].account.currency)
            except ValidationError as exc:
                self.add_error("revenue", exc)
        return data

    def perform(self, actor: Actor) -> CustomerCredit | ApprovalRequest:
        """Issue now, or, above the account's approval threshold, file the request a second staff member
        approves (credits/services/approvals.py)."""
        data = self.cleaned_data
        return approvals.credit_issue_by_staff(
            customer=data["customer"],
            coupon=data["coupon"],
            membership=data.get("membership"),
            expiry_date=data.get("expiry_date"),
            revenue=data.get("revenue"),
            user=actor.user,
        )


class CreditRevokeForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Kept in each credit's history.",
    )


class CreditRedeemForm(forms.Form):
    reference = forms.CharField(
        required=False,
        max_length=255,
        help_text="Optional, e.g. a receipt number. A reference already used is not used again.",
    )
    note = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))


class CreditBulkRedeemForm(forms.Form):
    reference = forms.CharField(
        max_length=255,
        help_text="Recorded on each use, e.g. a receipt number; sending it again uses no credit twice.",
    )
    note = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))


class CreditReverseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=1000, help_text="Kept in the credit's history."
    )
