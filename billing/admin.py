"""Staff admin for billing accounts: balance, read-only transactions, feature usage counts, and a
top-up action through billing.services (so the ledger and the balance move together)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from config.kernel.actors import Actor
from config.kernel.admin import ReadOnlyInline
from config.kernel.exceptions import DomainError
from customers.admin import CustomerPagePiece

from . import services
from .models import BillingAccount, BillingTransaction


class TransactionInline(ReadOnlyInline):
    model = BillingTransaction
    fk_name = "billing_account"
    fields = ("created_at", "type", "amount", "source", "description", "usage_id", "created_by")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    max_num = 0
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-id")


class TopUpForm(forms.Form):
    amount = forms.IntegerField(min_value=1, help_text="Credits to add.")
    description = forms.CharField(required=False, max_length=500)


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "currency", "balance", "credit_min", "created_at")
    list_filter = ("account", "currency")
    list_select_related = ("customer",)
    search_fields = ("customer__email", "customer__first_name", "customer__last_name", "=id")
    readonly_fields = (
        "account",
        "customer",
        "currency",
        "balance",
        "credit_min",
        "feature_usage",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    inlines = (TransactionInline,)
    actions = ("top_up_selected",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_top_up_permission(self, request):
        return request.user.has_perm("billing.add_billingtransaction")

    @admin.display(description="feature usage")
    def feature_usage(self, billing_account):
        counts = (
            billing_account.feature_usages.values("feature")
            .annotate(uses=Count("id"), amount=Sum("amount"))
            .order_by("feature")
        )
        if not counts:
            return "—"
        return format_html(
            "<table><tr><th>feature</th><th>usages</th><th>amount</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((c["feature"], c["uses"], c["amount"]) for c in counts),
            ),
        )

    @admin.action(description="Top up selected billing accounts", permissions=["top_up"])
    def top_up_selected(self, request, queryset):
        form = TopUpForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            actor = Actor.staff(request.user)
            for billing_account in queryset:
                try:
                    services.billing_top_up(
                        account=billing_account.account,
                        billing_account_id=billing_account.pk,
                        usage_id=uuid.uuid4(),
                        amount=form.cleaned_data["amount"],
                        description=form.cleaned_data["description"],
                        source="system.awarded",
                        actor=actor,
                    )
                except DomainError as exc:
                    self.message_user(request, f"{billing_account}: {exc.message}", messages.ERROR)
            self.message_user(
                request, f"Topped up {queryset.count()} billing account(s) by {form.cleaned_data['amount']}."
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Top up billing accounts",
            "opts": self.opts,
            "form": form,
            "accounts": list(queryset),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/billing/billingaccount/top_up.html", context)


class BillingAccountInline(ReadOnlyInline):
    model = BillingAccount
    fields = ("id", "currency", "balance", "credit_min", "created_at")
    readonly_fields = fields
    show_change_link = True


CUSTOMER_PAGE = CustomerPagePiece(inlines=(BillingAccountInline,))
