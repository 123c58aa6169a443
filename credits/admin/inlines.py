"""The read-only tables on a credit's page: its uses (each with its Reverse… button) and its history."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html

from config.kernel.actors import actor_name
from config.kernel.admin import ReadOnlyInline
from config.kernel.display import local_time_text, money, money_text

from ..models import CreditEvent, CreditUse


class CreditUseInline(ReadOnlyInline):
    model = CreditUse
    verbose_name = "use"
    verbose_name_plural = "uses"
    use_fields = (
        "used_local", "used_by_name", "reference", "note", "amount_shown", "revenue_shown", "reversed_local",
        "reversed_by_name",
    )  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credit__account", "credit__coupon", "used_by_user")

    @admin.display(description="amount")
    def amount_shown(self, use):
        """The money a use of a monetary credit took (in the coupon's currency); — for any other use."""
        credit = use.credit
        return money(use.amount, credit.coupon.currency or credit.account.currency)

    @admin.display(description="used at")
    def used_local(self, use):
        return local_time_text(use.used_at, use.credit.account)

    @admin.display(description="used by")
    def used_by_name(self, use):
        return actor_name(use.used_by, use.used_by_user)

    @admin.display(description="reversed by")
    def reversed_by_name(self, use):
        return actor_name(use.reversed_by) if use.reversed_by else "—"

    @admin.display(description="reversed at")
    def reversed_local(self, use):
        return local_time_text(use.reversed_at, use.credit.account)

    @admin.display(description="revenue")
    def revenue_shown(self, use):
        return money(use.revenue, use.credit.account.currency)

    def get_fields(self, request, obj=None):
        if request.user.has_perm("credits.redeem_customercredit"):
            return (*self.use_fields, "reverse_link")
        return self.use_fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="reverse")
    def reverse_link(self, use):
        if use.reversed_at is not None:
            return "Reversed"
        if use.credit.revoked_at is not None:
            return "—"
        url = reverse(
            "admin:credits_customercredit_reverse_use",
            args=[quote(use.credit_id), use.pk],
            current_app=self.admin_site.name,
        )
        return format_html('<a class="button reverse-use" href="{}">Reverse…</a>', url)


class CreditEventInline(ReadOnlyInline):
    model = CreditEvent
    verbose_name = "history entry"
    verbose_name_plural = "history"
    fields = ("when", "action", "actor_name", "reason", "details")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credit__account", "credit__coupon", "user")

    @admin.display(description="details")
    def details(self, event):
        """The reference and the money of the entry (a use's amount and revenue; a bulk revoke's reference)."""
        credit, data = event.credit, event.data
        parts = []
        if data.get("reference"):
            parts.append(f"reference {data['reference']}")
        if data.get("amount") is not None:
            parts.append(f"amount {money_text(data['amount'], credit.coupon.currency or credit.account.currency)}")
        if data.get("revenue") is not None:
            parts.append(f"revenue {money_text(data['revenue'], credit.account.currency)}")
        return "; ".join(parts) or "—"

    @admin.display(description="by")
    def actor_name(self, event):
        return actor_name(event.actor, event.user)

    @admin.display(description="when")
    def when(self, event):
        return local_time_text(event.created_at, event.credit.account)
