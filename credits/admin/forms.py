"""The forms of the credit pages: issue, redeem (one credit or selected ones), revoke, reverse a use."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from config.kernel.actors import Actor
from config.kernel.admin import ServiceModelForm
from config.kernel.display import MoneyField, money_text, to_minor
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


class CreditBulkRevokeForm(CreditRevokeForm):
    reference = forms.CharField(
        max_length=255,
        help_text="Kept in each credit's history with the reason; sending it again revokes nothing twice.",
    )


class CreditRedeemForm(forms.Form):
    """One use of one credit. A monetary credit's use takes an amount in its currency (empty: all that is
    left, or on a limited multi-use credit its even share), at most what is left."""

    amount = MoneyField(required=False)
    reference = forms.CharField(
        required=False,
        max_length=255,
        help_text="Optional, e.g. a receipt number. A reference already used is not used again.",
    )
    note = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))

    def __init__(self, *args, credit: CustomerCredit, **kwargs):
        super().__init__(*args, **kwargs)
        self.credit = credit
        if not credit.monetary:
            del self.fields["amount"]
            return
        self.currency = credit.coupon.currency or credit.account.currency
        left = money_text(credit.remaining_value, self.currency)
        empty = "one even share of it" if credit.default_amount() < credit.remaining_value else "all of it"
        self.fields["amount"].label = f"Amount ({self.currency})"
        self.fields["amount"].help_text = f"What this use takes, e.g. 80.00: at most the {left} left. Empty: {empty}."

    def clean_amount(self):
        amount = self.cleaned_data.get("amount")
        if amount is None:
            return None
        minor = to_minor(amount, self.currency)
        if minor <= 0:
            raise ValidationError("Type an amount greater than 0, or leave it empty.")
        if minor > self.credit.remaining_value:
            left = money_text(self.credit.remaining_value, self.currency)
            raise ValidationError(f"Only {left} is left on this credit.")
        return minor


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
