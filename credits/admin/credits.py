"""Staff pages for customer credits: the list (filters, search, CSV export), issuing, the actions on
selected credits (redeem, revoke), one credit's page with its action pages (redeem, revoke, reverse a
use), its history and its uses as CSV, and the bulk grant upload (credits.admin.bulk).

A credit's ledger fields are never edited here: a credit is issued, used, revoked and its uses reversed,
each by its own service call, and each recorded in the credit's history."""

from __future__ import annotations

import functools
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from config.kernel.actors import Actor, actor_name
from config.kernel.admin import (
    ServiceAdmin,
    action_step,
    activate_zone_of,
    admin_page,
    fresh_reference,
    posted,
    safe_next,
)
from config.kernel.display import iso, local_time_text, money, money_text
from config.kernel.exports import csv_response
from customers.models import ApprovalRequest, Customer, Membership
from customers.selectors import customer_number_query

from .. import services
from ..models import Coupon, CustomerCredit
from . import bulk
from .display import (
    CreditColumns,
    credit_action_links,
    credit_status_label,
)
from .filters import (
    CreditMembershipFilter,
    CreditStatusFilter,
    ExpiringFilter,
    ExpiryRangeFilter,
    IssuedByFilter,
    SourceFilter,
)
from .forms import (
    CreditBulkRedeemForm,
    CreditBulkRevokeForm,
    CreditIssueForm,
    CreditRedeemForm,
    CreditReverseForm,
    CreditRevokeForm,
)
from .inlines import CreditEventInline, CreditUseInline


@admin.register(CustomerCredit)
class CustomerCreditAdmin(CreditColumns, ServiceAdmin):
    form = CreditIssueForm
    list_display = (
        "customer",
        "coupon",
        "status_label",
        "value",
        "expiry_local",
        "uses_label",
        "source_name",
        "issued_local",
    )
    list_filter = (
        CreditStatusFilter,
        ExpiringFilter,
        ExpiryRangeFilter,
        "coupon",
        IssuedByFilter,
        SourceFilter,
        CreditMembershipFilter,
        "account",
    )
    list_select_related = ("customer", "coupon", "account")
    search_fields = ("customer__first_name", "customer__last_name", "customer__email", "=customer__card_number")
    search_help_text = "Customer name, email, number or card number, or a credit id."
    date_hierarchy = "created_at"
    # Counting every credit on each page load is costly on a large ledger.
    show_full_result_count = False
    actions = ("redeem_selected", "revoke_selected")
    bulk_confirmation_template = "admin/credits/customercredit/bulk_confirmation.html"
    action_template = "admin/credits/customercredit/credit_action.html"
    history_template = "admin/credits/customercredit/credit_history.html"
    reverse_use_template = "admin/credits/customercredit/reverse_use_confirmation.html"
    own_pages = (
        ("bulk-grant/", "bulk_grant_view", "bulk_grant"),
        ("bulk-grant/rejects/<str:token>.csv", "bulk_rejects_view", "bulk_rejects"),
        ("export.csv", "export_view", "export"),
        ("<path:object_id>/redeem/", "redeem_view", "redeem"),
        ("<path:object_id>/revoke/", "revoke_view", "revoke"),
        ("<path:object_id>/uses.csv", "uses_export_view", "uses_export"),
        ("<path:object_id>/uses/<uuid:use_id>/reverse/", "reverse_use_view", "reverse_use"),
    )

    ledger_fieldsets = (
        (None, {"fields": ("id", "customer", "coupon", "membership", "source_name", "status_label", "uses_label")}),
        ("Validity and use", {"fields": ("multi_use", "max_uses", "expiry_local", "redeemed_local")}),
        ("Value", {"fields": ("value", "revenue_shown", "revenue_recognised_shown")}),
        ("Issued", {"fields": ("issued_by_name", "issued_local", "updated_at")}),
        ("Revoked", {"fields": ("revoked_local", "revoked_by_name", "revoke_reason")}),
    )

    # --- pages ---

    def get_queryset(self, request):
        return super().get_queryset(request).with_status()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            # The credit page is read-only: the issue form (and its help texts) has no place on it.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("customer", "coupon", "membership", "expiry_date", "revenue")})]
        return self.ledger_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [field for _name, options in self.ledger_fieldsets for field in options["fields"]]

    def get_inlines(self, request, obj):
        return (CreditUseInline, CreditEventInline) if obj is not None else ()

    def search_also(self, search_term):
        """The customer's number, or a credit's or its customer's id."""
        try:
            some_id = uuid.UUID(search_term.strip())
        except ValueError:
            by_id = None
        else:
            by_id = Q(pk=some_id) | Q(customer_id=some_id)
        return [customer_number_query(search_term, "customer__number"), by_id]

    @admin.display(description="issued by")
    def issued_by_name(self, credit):
        if credit.issued_by_client is not None:
            return f"{credit.issued_by_client.name} (API client)"
        return actor_name(credit.issued_by, credit.issued_by_user)

    @admin.display(description="revoked by")
    def revoked_by_name(self, credit):
        return actor_name(credit.revoked_by) if credit.revoked_by else "—"

    @admin.display(description="revenue")
    def revenue_shown(self, credit):
        return money(credit.revenue, credit.account.currency)

    @admin.display(description="revenue recognised")
    def revenue_recognised_shown(self, credit):
        return money(credit.revenue_recognised, credit.account.currency)

    @admin.display(description="fully used at")
    def redeemed_local(self, credit):
        return local_time_text(credit.redeemed_at, credit.account)

    @admin.display(description="revoked at")
    def revoked_local(self, credit):
        return local_time_text(credit.revoked_at, credit.account)

    # Nobody edits a credit: its page is read-only, and changes go through the actions and the reverse
    # page, each gated by its own permission.
    def has_change_permission(self, request, obj=None):
        return False

    def has_redeem_permission(self, request, obj=None):
        return request.user.has_perm("credits.redeem_customercredit")

    def has_revoke_permission(self, request, obj=None):
        return request.user.has_perm("credits.revoke_customercredit")

    # --- issuing ---

    def _prefilled_customer(self, request) -> Customer | None:
        """The customer named by ?customer=<uuid> (the customer page's "Issue credit" link), if any."""
        if not hasattr(request, "_credit_admin_customer"):
            request._credit_admin_customer = _customer_named(request.GET.get("customer", ""))
        return request._credit_admin_customer

    def add_view(self, request, form_url="", extra_context=None):
        # The expiry is typed in the customer's account's zone: the customer the link named, or the one
        # the form sends.
        customer = self._prefilled_customer(request)
        if customer is None and request.method == "POST":
            customer = _customer_named(request.POST.get("customer", ""))
        activate_zone_of(customer.account if customer is not None else None)
        return super().add_view(request, form_url, extra_context)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        customer = self._prefilled_customer(request)
        if customer is None:
            initial.pop("customer", None)
        else:
            initial["customer"] = customer.pk
        return initial

    def get_autocomplete_fields(self, request):
        # With the customer known, the membership list is that customer's few; otherwise it is searched.
        if self._prefilled_customer(request) is not None:
            return ("customer",)
        return ("customer", "membership")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        customer = self._prefilled_customer(request)
        if db_field.name == "coupon":
            coupons = Coupon.objects.filter(active=True).select_related("account").order_by("name", "id")
            if customer is not None:
                coupons = coupons.filter(account_id=customer.account_id)
            kwargs["queryset"] = coupons
        elif db_field.name == "membership" and customer is not None:
            kwargs["queryset"] = Membership.objects.filter(customer=customer).select_related("membership_type")
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "coupon" and customer is None:
            # Coupons of several accounts may be listed: say whose each one is.
            field.label_from_instance = lambda coupon: f"{coupon.name} ({coupon.account})"
        return field

    def response_add(self, request, obj, post_url_continue=None):
        if isinstance(obj, ApprovalRequest):
            self.message_user(request, f"Sent for approval (above the account's threshold): {obj.summary}.")
            return HttpResponseRedirect(
                reverse("admin:customers_approvalrequest_change", args=[obj.pk], current_app=self.admin_site.name)
            )
        if IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Issued {obj.coupon} to {obj.customer}.", messages.SUCCESS)
        if "_addanother" in request.POST:
            add_url = reverse("admin:credits_customercredit_add", current_app=self.admin_site.name)
            return HttpResponseRedirect(f"{add_url}?{urlencode({'customer': obj.customer_id})}")
        return HttpResponseRedirect(self._change_url(obj.pk))

    def _change_url(self, credit_id) -> str:
        return reverse("admin:credits_customercredit_change", args=[quote(credit_id)], current_app=self.admin_site.name)

    # --- actions ---

    def _credits_for_action(self, queryset):
        return queryset.select_related("account", "customer", "coupon")

    @admin.action(description="Redeem selected credits (use each once)…", permissions=["redeem"])
    def redeem_selected(self, request, queryset):
        """Ask for confirmation and a reference first (prefilled, so that a double-sent confirmation is
        recorded once), then use each credit once through the service."""
        credits = list(self._credits_for_action(queryset))
        form = CreditBulkRedeemForm(
            request.POST if "confirm" in request.POST else None, initial={"reference": fresh_reference("redeem")}
        )
        if form.is_bound and form.is_valid():
            reference, note = form.cleaned_data["reference"], form.cleaned_data["note"]
            shown = reference.replace("%", "%%")
            self._each_credit(
                request,
                credits,
                functools.partial(services.credit_redeem, reference=reference, note=note),
                done=(f"Redeemed %d credit (reference {shown})", f"Redeemed %d credits (reference {shown})"),
                failed_message="Could not redeem",
            )
            return None
        refused = {status: CustomerCredit.Status(status).label.lower() for status in CustomerCredit.Status.values}
        del refused[CustomerCredit.Status.ACTIVE]
        return self._bulk_confirmation(
            request,
            credits,
            form,
            refused=refused,
            title="Redeem credits",
            intro="Each selected credit is used once now, with your name and this reference in its history.",
            verb="Redeem",
            action_name="redeem_selected",
        )

    @admin.action(description="Revoke selected credits…", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        credits = list(self._credits_for_action(queryset))
        form = CreditBulkRevokeForm(
            request.POST if "confirm" in request.POST else None, initial={"reference": fresh_reference("revoke")}
        )
        if form.is_bound and form.is_valid():
            reason, reference = form.cleaned_data["reason"], form.cleaned_data["reference"]
            shown = reference.replace("%", "%%")
            self._each_credit(
                request,
                credits,
                functools.partial(services.credit_revoke, reason=reason, reference=reference),
                done=(f"Revoked %d credit (reference {shown})", f"Revoked %d credits (reference {shown})"),
                failed_message="Could not revoke",
            )
            return None
        # Ask for the reason first, and say up front which credits will not be revoked.
        refused = {CustomerCredit.Status.REVOKED: "already revoked", CustomerCredit.Status.REDEEMED: "redeemed"}
        return self._bulk_confirmation(
            request,
            credits,
            form,
            refused=refused,
            title="Revoke credits",
            intro="A revoked credit can no longer be used, and revoking cannot be undone. The reason and this "
            "reference are kept in each credit's history.",
            verb="Revoke",
            action_name="revoke_selected",
        )

    def _each_credit(self, request, credits, service, *, done, failed_message) -> None:
        """Call a credit service (redeem, revoke) on each selected credit, as the staff user, and report."""
        self.apply_each(
            request,
            credits,
            lambda credit: on_credit(service, credit, request),
            done=done,
            failed_message=failed_message,
        )

    def _bulk_confirmation(self, request, credits, form, *, refused, title, intro, verb, action_name):
        """The page an action on selected credits shows before it writes: each credit, which ones will not
        be acted on and why, and the form (reason or reference)."""
        return admin_page(
            self,
            request,
            self.bulk_confirmation_template,
            title=title,
            intro=intro,
            verb=verb,
            form=form,
            rows=[
                (credit, credit_status_label(credit), refused.get(credit.status), self.expiry_local(credit))
                for credit in credits
            ],
            actionable_count=sum(1 for credit in credits if credit.status not in refused),
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
            action_name=action_name,
            media=self.media,
        )

    # --- reversing a use ---

    def bulk_grant_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return bulk.upload_view(self, request)

    def bulk_rejects_view(self, request, token):
        """The rejected rows of a bulk grant just run, as CSV (kept for an hour after the run)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        kept = bulk.kept_rejections(token)
        if kept is None:
            raise Http404("This reject report is no longer kept; run the grant again (a dry run) to see it.")
        return csv_response(f"rejected-{kept['batch_key']}.csv", ["row", "identifier", "reason"], kept["rows"])

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_bulk_grant": self.has_add_permission(request)}
        return super().changelist_view(request, extra_context)

    def _credit_or_404(self, request, object_id) -> CustomerCredit:
        credit = self.get_object(request, unquote(object_id))
        if credit is None:
            raise Http404("No such credit.")
        return credit

    def _credit_action(self, request, credit, form, perform, *, done, failed, level=messages.SUCCESS, **page):
        """A page that acts on one credit: the form, then the service `perform(cleaned_data)`, then back to
        where the staff member came from (the credit's page unless ?next= says otherwise). `page` is the
        template's context beyond the credit's (title, submit, intro...); `template` picks another page."""
        back = safe_next(request, self._change_url(credit.pk))
        template = page.pop("template", self.action_template)

        def shown(form):
            return admin_page(
                self, request, template, subtitle=str(credit), credit=credit, status=credit_status_label(credit),
                form=form, next=back, change_url=self._change_url(credit.pk), **page,
            )  # fmt: skip

        return action_step(self, request, form, perform, page=shown, done=done, failed=failed, back=back, level=level)

    def redeem_view(self, request, object_id):
        """Use the credit once, with an optional reference and note, and for a monetary credit the amount in
        its currency (GET: the form; POST: the service). An amount the service refuses (more than is left
        by now) shows the form again with the reason; nothing is written."""
        if not self.has_redeem_permission(request):
            raise PermissionDenied
        credit = self._credit_or_404(request, object_id)
        left_before = credit.remaining_value
        form = CreditRedeemForm(posted(request), credit=credit)
        facts = []
        if credit.monetary:
            currency = credit.coupon.currency or credit.account.currency
            facts.append(("Left to spend", money(credit.remaining_value, currency)))

        def perform(data):
            arguments = {"reference": data["reference"] or None, "note": data["note"], "amount": data.get("amount")}
            return on_credit(services.credit_redeem, credit, request, **arguments)

        page = {
            "done": lambda done: _redeemed_message(credit, done, left_before),
            "failed": f"Could not redeem {credit}",
            "title": "Redeem a credit",
            "submit": "Redeem",
            "intro": "Records a use of this voucher now, taking the amount you type from what is left, with your "
            "name in its history."
            if credit.monetary
            else "Records one use of this credit now, with your name in its history.",
            "facts": facts,
        }
        return self._credit_action(request, credit, form, perform, **page)

    def revoke_view(self, request, object_id):
        """Revoke the credit, with a reason (GET: the form; POST: the service)."""
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        credit = self._credit_or_404(request, object_id)
        return self._credit_action(
            request,
            credit,
            CreditRevokeForm(posted(request)),
            lambda data: on_credit(services.credit_revoke, credit, request, reason=data["reason"]),
            done=f"Revoked {credit}.",
            failed=f"Could not revoke {credit}",
            title="Revoke a credit",
            submit="Revoke",
            intro="A revoked credit can no longer be used, and revoking cannot be undone.",
        )

    def reverse_use_view(self, request, object_id, use_id):
        """GET asks for confirmation and a reason; POST reverses the use through the service."""
        if not self.has_redeem_permission(request):
            raise PermissionDenied
        credit = self._credit_or_404(request, object_id)
        use = credit.use_records.filter(pk=use_id).first()
        if use is None:
            raise Http404("No such use of this credit.")
        used_at = local_time_text(use.used_at, credit.account)
        return self._credit_action(
            request,
            credit,
            CreditReverseForm(posted(request)),
            lambda data: on_credit(services.credit_use_reverse, credit, request, use_id=use.pk, reason=data["reason"]),
            done=f"Reversed the use of {credit} made at {used_at}.",
            failed="Could not reverse the use",
            level=messages.INFO,
            template=self.reverse_use_template,
            title="Reverse a use",
            use=use,
            used_at=used_at,
            reversed_at=local_time_text(use.reversed_at, credit.account),
            use_revenue=money(use.revenue, credit.account.currency),
        )

    # --- the credit page: its buttons and its own history ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        credit = self.get_object(request, unquote(object_id))
        if credit is not None:
            extra_context["credit_actions"] = credit_action_links(request, credit, self.admin_site)
            extra_context["uses_export_url"] = reverse(
                "admin:credits_customercredit_uses_export", args=[quote(credit.pk)], current_app=self.admin_site.name
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        """The credit's own history (its CreditEvent rows: issued, used, reversed, revoked), not the
        admin's change log, which knows nothing of what the services did."""
        credit = self._credit_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, credit):
            raise PermissionDenied
        events = credit.events.select_related("user").order_by("created_at", "id")
        return admin_page(
            self,
            request,
            self.history_template,
            title=f"History: {credit}",
            object=credit,
            rows=[(local_time_text(e.created_at, credit.account), e, actor_name(e.actor, e.user)) for e in events],
            change_url=self._change_url(credit.pk),
        )

    # --- exports ---

    def export_view(self, request):
        """The credit list as CSV, with the list's current filters and search."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        credits = changelist.get_queryset(request).select_related("account", "customer", "coupon")
        now = timezone.now()
        rows = (
            (
                credit.pk,
                credit.account_id,
                credit.customer.number,
                str(credit.customer),
                credit.coupon.name,
                credit.status_at(now),
                credit.uses,
                "" if credit.use_limit is None else credit.use_limit,
                iso(credit.expiry_date),
                credit.account.currency,
                credit.revenue,
                credit.revenue_recognised,
                credit.source,
                credit.issued_by,
                iso(credit.created_at),
                iso(credit.revoked_at),
                credit.revoke_reason or "",
            )
            for credit in credits.iterator(chunk_size=2000)
        )
        header = [
            "id", "account", "customer_number", "customer", "coupon", "status", "uses", "use_limit", "expiry_date",
            "currency", "revenue_minor", "revenue_recognised_minor", "source", "issued_by", "issued_at",
            "revoked_at", "revoke_reason",
        ]  # fmt: skip
        return csv_response(f"credits-{now:%Y%m%d-%H%M%S}.csv", header, rows)

    def uses_export_view(self, request, object_id):
        credit = self._credit_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, credit):
            raise PermissionDenied
        rows = (
            (
                use.pk, iso(use.used_at), use.used_by, use.reference or "", use.note, credit.account.currency,
                use.revenue, iso(use.reversed_at), use.reversed_by or "",
            )
            for use in credit.use_records.order_by("used_at", "id")
        )  # fmt: skip
        header = [
            "use_id", "used_at", "used_by", "reference", "note", "currency", "revenue_minor", "reversed_at",
            "reversed_by",
        ]  # fmt: skip
        return csv_response(f"credit-{credit.pk}-uses.csv", header, rows)


def on_credit(service, credit: CustomerCredit, request, **arguments):
    """Call a service on one credit (redeem, revoke, reverse a use) as the signed-in staff member."""
    actor = Actor.staff(request.user)
    return service(
        account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=actor, **arguments
    )


def _customer_named(value: str) -> Customer | None:
    try:
        customer_id = uuid.UUID(value)
    except ValueError:
        return None
    return Customer.objects.select_related("account").filter(pk=customer_id).first()


def _redeemed_message(credit: CustomerCredit, done: CustomerCredit, left_before: int | None) -> str:
    """What a redeem at the desk did: one use, or for a monetary credit the money it took and what is left."""
    if left_before is None or done.remaining_value is None:
        return f"Redeemed {credit} (one use)."
    currency = credit.coupon.currency or credit.account.currency
    if done.remaining_value == left_before:
        return f"{credit}: this reference was already used; nothing more was taken."
    taken = money_text(left_before - done.remaining_value, currency)
    return f"Redeemed {taken} of {credit}; {money_text(done.remaining_value, currency)} left."
