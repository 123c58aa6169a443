"""The credits piece of the customer page (config/admin.py adds it): the customer's credits with their
action buttons, the summary of what the customer holds, the benefits panel, the grant action on selected
customers, the links and the history rows."""

from __future__ import annotations

import hashlib

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from config.kernel.actors import actor_name
from config.kernel.admin import CustomerPagePiece, HistoryRow, ReadOnlyInline
from config.kernel.display import local_time_text, money
from config.kernel.exceptions import DomainError

from .. import selectors
from ..models import CreditEvent, CustomerCredit
from ..services import grants
from . import bulk
from .display import (
    CreditColumns,
    credit_action_links,
    credit_status_label,
    credit_uses_label,
)

# The customer page's pieces of HTML (config/templates/admin/credits/customer_page/).
TEMPLATES = "admin/credits/customer_page"


class CustomerCreditInline(CreditColumns, ReadOnlyInline):
    """The customer's credits, active first (then newest), each row with its action buttons."""

    model = CustomerCredit
    fk_name = "customer"
    verbose_name = "credit"
    verbose_name_plural = "credits"
    fields = ("credit_link", "status_label", "value", "uses_label", "expires", "source_name", "issued")
    readonly_fields = (*fields, "row_actions")
    show_change_link = True
    # The columns' names in this table (its cells' CSS classes) since before CreditColumns.
    expires = CreditColumns.expiry_local
    issued = CreditColumns.issued_local

    @admin.display(description="credit")
    def credit_link(self, credit):
        """The coupon's name, opening the credit (its uses, history and actions), not the coupon."""
        row = credit_row(credit, credit.account, self.admin_site)
        return render_to_string(f"{TEMPLATES}/credit_link.html", {"credit": row})

    def get_queryset(self, request):
        self._request = request
        active_first = models.Case(models.When(computed_status="active", then=models.Value(0)), default=models.Value(1))
        return (
            super()
            .get_queryset(request)
            .with_status()
            .select_related("coupon", "account")
            .order_by(active_first, "-created_at", "-id")
        )

    def get_fields(self, request, obj=None):
        self._request = request
        user = request.user
        if user.has_perm("credits.redeem_customercredit") or user.has_perm("credits.revoke_customercredit"):
            return (*self.fields, "row_actions")
        return self.fields

    @admin.display(description="actions")
    def row_actions(self, credit):
        request = getattr(self, "_request", None)
        if request is None:
            return ""
        back = reverse(
            "admin:customers_customer_change", args=[quote(credit.customer_id)], current_app=self.admin_site.name
        )
        links = credit_action_links(request, credit, self.admin_site, back=back)
        return render_to_string(f"{TEMPLATES}/row_actions.html", {"links": links})


def customer_credit_summary(request, customer, admin_site):
    """What the customer holds, every kind of credit counted: the remaining value (the active credits'
    revenue still to be recognised), the money left on vouchers, the uses left of each service, the credit
    that expires next, uses left per benefit key, and the credits themselves (active first; redeemed,
    expired and revoked folded away)."""
    account = customer.account
    holdings = selectors.holdings_of(customer=customer)
    next_credit = holdings.next_expiring
    context = {
        "remaining": money(holdings.remaining, account.currency),
        "vouchers": [money(minor, currency) for currency, minor in sorted(holdings.vouchers.items())],
        "services": sorted(holdings.services.items()),
        "next_expiring": None if next_credit is None else credit_row(next_credit, account, admin_site),
        "benefits": selectors.benefits_of(customer=customer),
        "active": [credit_row(credit, account, admin_site) for credit in holdings.active],
        "closed": [credit_row(credit, account, admin_site) for credit in holdings.closed],
    }
    return render_to_string(f"{TEMPLATES}/summary.html", context)


def credit_row(credit: CustomerCredit, account, admin_site) -> dict:
    """A credit as the customer page's templates show it: a link to it, its status, uses and expiry."""
    return {
        "url": reverse("admin:credits_customercredit_change", args=[quote(credit.pk)], current_app=admin_site.name),
        "name": credit.coupon.name,
        "status": credit_status_label(credit),
        "uses": credit_uses_label(credit),
        "expires": local_time_text(credit.expiry_date, account) if credit.expiry_date else "never",
    }


@admin.display(description="benefits")
def customer_benefits(customer):
    """Each benefit key the customer holds a credit for: usable now or not, and uses left."""
    return render_to_string(f"{TEMPLATES}/benefits.html", {"benefits": selectors.benefits_of(customer=customer)})


@admin.action(description="Grant a credit to the selected customers", permissions=["grant"])
def grant_credit_selected(modeladmin, request, queryset):
    """Ask for the coupon (and expiry, revenue), then grant one credit to each selected customer
    through the bulk grant service: the same summary and exactly-once batch as grant_credits."""
    customers = list(queryset.order_by("pk"))
    accounts = {c.account_id for c in customers}
    if len(accounts) != 1:
        modeladmin.message_user(request, "Select customers of one account.", messages.ERROR)
        return None
    account = customers[0].account
    form = bulk.BulkGrantForm(request.POST if "apply" in request.POST else None, needs_file=False)
    form.account = account
    form.fields["coupon"].queryset = form.fields["coupon"].queryset.filter(account=account)
    summary = None
    if form.is_bound and form.is_valid():
        ids = ",".join(str(c.pk) for c in customers)
        rows = (grants.SourceRow(row=None, identifier=str(c.pk)) for c in customers)
        try:
            summary = bulk.run(
                form,
                account=account,
                user=request.user,
                rows=rows,
                column="customer_id",
                selection=f"customers:{hashlib.sha256(ids.encode()).hexdigest()}",
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
    return bulk.render(
        modeladmin,
        request,
        form,
        summary,
        title="Grant a credit to the selected customers",
        customers=customers,
        action="grant_credit_selected",
    )


def customer_credit_links(request, customer_id, admin_site) -> list[tuple[str, str, str]]:
    links = []
    query = "?" + urlencode({"customer": customer_id})
    if request.user.has_perm("credits.add_customercredit"):
        links.append(
            (
                "Issue credit",
                reverse("admin:credits_customercredit_add", current_app=admin_site.name) + query,
                "addlink",
            )
        )
    if request.user.has_perm("credits.view_customercredit"):
        links.append(
            ("All credits", reverse("admin:credits_customercredit_changelist", current_app=admin_site.name) + query, "")
        )
    return links


def customer_credit_history(customer, admin_site) -> list[HistoryRow]:
    """The customer's credits' history rows (issued, used, revoked, use reversed), the latest 500."""
    events = (
        CreditEvent.objects.filter(credit__customer=customer)
        .select_related("credit__coupon", "user")
        .order_by("-created_at", "-id")[:500]
    )
    return [
        HistoryRow(
            when=event.created_at,
            what=f"Credit {event.get_action_display().lower()}",
            subject=event.credit.coupon.name,
            url=reverse(
                "admin:credits_customercredit_change", args=[quote(event.credit_id)], current_app=admin_site.name
            ),
            actor=actor_name(event.actor, event.user),
            detail="; ".join(
                [event.reason] * bool(event.reason) + [f"{key}: {value}" for key, value in event.data.items()]
            ),
        )
        for event in events
    ]


CUSTOMER_PAGE = CustomerPagePiece(
    inlines=(CustomerCreditInline,),
    panels={"benefits": customer_benefits},
    actions=(grant_credit_selected,),
    permissions={"grant": "credits.add_customercredit"},
    links=(customer_credit_links,),
    summaries=(customer_credit_summary,),
    history=(customer_credit_history,),
)
