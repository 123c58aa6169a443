"""Staff admin for billing accounts: balance, read-only transactions, feature usage counts, and a
top-up action through billing.services (so the ledger and the balance move together)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from config.kernel.actors import Actor, actor_name
from config.kernel.admin import (
    AccountZoneMixin,
    CustomerPagePiece,
    HistoryRow,
    LedgerAdmin,
    ReadOnlyInline,
    action_step,
    admin_page,
    fresh_reference,
    posted,
    safe_next,
)
from config.kernel.display import iso, local_time_text, money
from config.kernel.exceptions import DomainError
from config.kernel.exports import csv_response
from customers.models import ApprovalRequest, Customer

from . import approvals, services
from .models import BillingAccount, BillingTransaction

# How staff name a transaction's source (the API's codes stay in the CSV).
SOURCE_NAMES = {"system.awarded": "top-up", "system.buy": "purchase"}


def transaction_source_name(transaction: BillingTransaction) -> str:
    if transaction.source.startswith("system.revert."):
        return f"reversal of {SOURCE_NAMES.get(transaction.source[14:], transaction.source[14:])}"
    return SOURCE_NAMES.get(transaction.source, transaction.source)


class TransactionInline(ReadOnlyInline):
    model = BillingTransaction
    fk_name = "billing_account"
    fields = ("created_at", "type", "amount", "source_name", "description", "usage_id", "created_by_name")
    readonly_fields = fields

    @admin.display(description="source")
    def source_name(self, transaction):
        return transaction_source_name(transaction)

    @admin.display(description="by")
    def created_by_name(self, transaction):
        return actor_name(transaction.created_by)

    ordering = ("-created_at", "-id")
    max_num = 0
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-id")


class BillingAccountCreateForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.select_related("account").order_by("account_id", "number"),
        help_text="The organization (customer) the billing account belongs to: type a name, email or number.",
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # Searched as it is typed (the customers' admin search), not a list of every customer.
        field = self.fields["customer"]
        field.widget = AutocompleteSelect(BillingAccount._meta.get_field("customer"), admin_site)
        field.widget.choices = field.choices

    currency = forms.CharField(max_length=8, initial="VC", help_text="VC (virtual credits) unless agreed otherwise.")
    credit_min = forms.IntegerField(
        initial=0, max_value=0, help_text="The lowest balance allowed: 0, or negative to allow an overdraft."
    )


class TopUpForm(forms.Form):
    amount = forms.IntegerField(min_value=1, help_text="Credits to add.")
    description = forms.CharField(required=False, max_length=500)
    reference = forms.CharField(
        required=False,
        max_length=100,
        help_text="Recorded with each top-up; sending the same reference again tops up no account twice.",
    )


def top_up_usage_id(reference: str, billing_account_id) -> uuid.UUID:
    """The top-up's idempotency key, from the reference and the account: a second send changes nothing."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"benefit-ledger:top-up:{reference}:{billing_account_id}")


@admin.register(BillingAccount)
class BillingAccountAdmin(AccountZoneMixin, LedgerAdmin):
    list_display = ("id", "customer", "currency", "balance_shown", "credit_min", "created_at")
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

    form_template = "admin/billing/billingaccount/form_page.html"
    own_pages = (
        ("<path:object_id>/top-up/", "top_up_view", "top_up"),
        ("<path:object_id>/transactions.csv", "transactions_export_view", "transactions_export"),
    )

    def has_add_permission(self, request):
        return request.user.has_perm("billing.add_billingaccount")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_top_up_permission(self, request):
        return request.user.has_perm("billing.add_billingtransaction")

    @admin.display(description="balance", ordering="balance")
    def balance_shown(self, billing_account):
        return money(billing_account.balance, billing_account.currency)

    def _page(self, request, *, title, submit, back, intro=""):
        """The form page of an action on billing accounts (create, top up), as a function of its form."""
        return lambda form: admin_page(
            self, request, self.form_template, title=title, form=form, submit=submit, next=back, intro=intro
        )

    def add_view(self, request, form_url="", extra_context=None):
        """Create a billing account for a customer, through billing.services."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:billing_billingaccount_changelist", current_app=self.admin_site.name)
        initial = {"customer": request.GET.get("customer")} if request.GET.get("customer") else None
        form = BillingAccountCreateForm(posted(request), initial=initial, admin_site=self.admin_site)
        return action_step(
            self,
            request,
            form,
            lambda data: services.billing_account_create(
                account=data["customer"].account,
                org_id=data["customer"].pk,
                currency=data["currency"].strip().upper(),
                credit_min=data["credit_min"],
                actor=Actor.staff(request.user),
            ),
            page=self._page(request, title="Create a billing account", submit="Create", back=changelist),
            done=lambda created: f"Created billing account {created.pk} for {form.cleaned_data['customer']}.",
            back=lambda created: reverse(
                "admin:billing_billingaccount_change", args=[quote(created.pk)], current_app=self.admin_site.name
            ),
        )

    def top_up_view(self, request, object_id):
        if not self.has_top_up_permission(request):
            raise PermissionDenied
        billing_account = self.get_object(request, unquote(object_id))
        if billing_account is None:
            raise Http404("No such billing account.")
        back = safe_next(
            request,
            reverse(
                "admin:billing_billingaccount_change",
                args=[quote(billing_account.pk)],
                current_app=self.admin_site.name,
            ),
        )

        def top_up(data) -> str:
            reference = data["reference"] or fresh_reference("top-up")
            done = approvals.billing_top_up_by_staff(
                billing_account=billing_account,
                usage_id=top_up_usage_id(reference, billing_account.pk),
                amount=data["amount"],
                description=data["description"],
                user=request.user,
            )
            return self._top_up_message(done, data["amount"], reference)

        return action_step(
            self,
            request,
            TopUpForm(posted(request), initial={"reference": fresh_reference("top-up")}),
            top_up,
            page=self._page(
                request,
                title=f"Top up {billing_account}",
                submit="Top up",
                back=back,
                intro=f"Balance now: {billing_account.balance} {billing_account.currency}.",
            ),
            done=lambda message: message,
            failed="Could not top up",
            back=back,
        )

    @staticmethod
    def _top_up_message(done, amount: int, reference: str) -> str:
        if isinstance(done, ApprovalRequest):
            return f"Sent for approval (above the account's threshold): {done.summary}."
        return f"Topped up {done} by {amount} (reference {reference})."

    def transactions_export_view(self, request, object_id):
        billing_account = self.get_object(request, unquote(object_id))
        if billing_account is None:
            raise Http404("No such billing account.")
        if not self.has_view_permission(request, billing_account):
            raise PermissionDenied
        transactions = billing_account.transactions.order_by("created_at", "id")
        rows = (
            (tx.pk, iso(tx.created_at), tx.type, tx.amount, billing_account.currency, tx.source, tx.description,
             tx.usage_id, tx.reverts_id or "", tx.created_by)
            for tx in transactions.iterator(chunk_size=2000)
        )  # fmt: skip
        header = ["id", "created_at", "type", "amount", "currency", "source", "description", "usage_id", "reverts",
                  "created_by"]  # fmt: skip
        return csv_response(f"billing-{billing_account.pk}-transactions.csv", header, rows)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        links = []
        args = [object_id]
        if self.has_top_up_permission(request):
            links.append(("Top up…", reverse("admin:billing_billingaccount_top_up", args=args), "top-up"))
        links.append(
            ("Transactions CSV", reverse("admin:billing_billingaccount_transactions_export", args=args), "export")
        )
        extra_context["object_links"] = links
        return super().change_view(request, object_id, form_url, extra_context)

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
        form = TopUpForm(
            request.POST if "apply" in request.POST else None, initial={"reference": fresh_reference("top-up")}
        )
        if form.is_bound and form.is_valid():
            reference = form.cleaned_data["reference"] or fresh_reference("top-up")
            count = 0
            for billing_account in queryset.select_related("account"):
                try:
                    done = approvals.billing_top_up_by_staff(
                        billing_account=billing_account,
                        usage_id=top_up_usage_id(reference, billing_account.pk),
                        amount=form.cleaned_data["amount"],
                        description=form.cleaned_data["description"],
                        user=request.user,
                    )
                except DomainError as exc:
                    self.message_user(request, f"{billing_account}: {exc.message}", messages.ERROR)
                else:
                    if isinstance(done, ApprovalRequest):
                        self.message_user(request, self._top_up_message(done, form.cleaned_data["amount"], reference))
                    else:
                        count += 1
            if count:
                self.message_user(
                    request,
                    f"Topped up {count} billing account{'s' if count != 1 else ''} by {form.cleaned_data['amount']} "
                    f"(reference {reference}).",
                )
            return None
        return admin_page(
            self,
            request,
            "admin/billing/billingaccount/top_up.html",
            title="Top up billing accounts",
            form=form,
            accounts=list(queryset),
        )


class BillingAccountInline(ReadOnlyInline):
    model = BillingAccount
    fields = ("id", "currency", "balance", "credit_min", "created_at")
    readonly_fields = fields
    show_change_link = True


def customer_billing_summary(request, customer, admin_site):
    """Each billing account's balance, with Top up… for staff who may."""
    may_top_up = request.user.has_perm("billing.add_billingtransaction")
    back = reverse("admin:customers_customer_change", args=[quote(customer.pk)], current_app=admin_site.name)
    rows = []
    for billing_account in BillingAccount.objects.filter(customer=customer).order_by("created_at", "id"):
        args = [quote(billing_account.pk)]
        top_up = reverse("admin:billing_billingaccount_top_up", args=args, current_app=admin_site.name)
        rows.append(
            {
                "url": reverse("admin:billing_billingaccount_change", args=args, current_app=admin_site.name),
                "currency": billing_account.currency,
                "balance": money(billing_account.balance, billing_account.currency),
                "credit_min": billing_account.credit_min,
                "updated": local_time_text(billing_account.updated_at, customer.account),
                "top_up_url": f"{top_up}?{urlencode({'next': back})}" if may_top_up else "",
            }
        )
    create_url = ""
    if request.user.has_perm("billing.add_billingaccount"):
        create_url = (
            f"{reverse('admin:billing_billingaccount_add', current_app=admin_site.name)}?customer={customer.pk}"
        )
    context = {"rows": rows, "create_url": create_url}
    return render_to_string("admin/billing/customer_page/summary.html", context)


def customer_billing_history(customer, admin_site) -> list[HistoryRow]:
    """The customer's billing transactions (top-ups, usage, reversals), the latest 500."""
    transactions = (
        BillingTransaction.objects.filter(billing_account__customer=customer)
        .select_related("billing_account")
        .order_by("-created_at", "-id")[:500]
    )
    return [
        HistoryRow(
            when=tx.created_at,
            what=f"Billing {tx.get_type_display().lower()}: {tx.amount:,} {tx.billing_account.currency}",
            subject=f"{tx.billing_account.currency} billing account",
            url=reverse(
                "admin:billing_billingaccount_change", args=[quote(tx.billing_account_id)], current_app=admin_site.name
            ),
            actor=actor_name(tx.created_by),
            detail="; ".join(part for part in (transaction_source_name(tx), tx.description) if part),
        )
        for tx in transactions
    ]


CUSTOMER_PAGE = CustomerPagePiece(
    inlines=(BillingAccountInline,), summaries=(customer_billing_summary,), history=(customer_billing_history,)
)
