"""Staff admin for coupons, membership credit rules and customer credits.

Every write goes through credits.services with the signed-in staff user as the actor (see the machinery
in customers/admin.py). A credit's ledger fields are never edited here: a credit is issued, used, revoked
and its uses reversed, each by its own service call, and each recorded in the credit's history.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from config.kernel.actors import Actor, actor_name
from config.kernel.admin import (
    CustomerPagePiece,
    HistoryRow,
    ReadOnlyInline,
    ServiceAdmin,
    ServiceModelForm,
    activate_zone_of,
    safe_next,
)
from config.kernel.display import MoneyField, from_minor, iso, local_time_text, money, to_minor
from config.kernel.exceptions import DomainError
from config.kernel.exports import csv_response
from customers.models import ApprovalRequest, Customer, Membership, MembershipType
from customers.selectors import customer_number_query

from . import admin_bulk, selectors, services
from .models import Coupon, CreditEvent, CreditUse, CustomerCredit, MembershipCreditRule
from .services import approvals, grants

SOURCE_NAMES = {
    CustomerCredit.Source.MANUAL: "issued at the desk",
    CustomerCredit.Source.API: "API",
    CustomerCredit.Source.BULK: "bulk grant",
    CustomerCredit.Source.MEMBERSHIP: "membership rule",
}


def credit_source_name(credit: CustomerCredit) -> str:
    return SOURCE_NAMES.get(credit.source, credit.source)


def credit_status_label(credit: CustomerCredit) -> str:
    return CustomerCredit.Status(credit.status).label


def credit_uses_label(credit: CustomerCredit) -> str:
    limit = credit.use_limit
    return f"{credit.uses}/{'∞' if limit is None else limit}"


def credit_value(credit: CustomerCredit):
    """A monetary credit's face value in its currency; otherwise the revenue it recognises when used, in
    the account's currency."""
    coupon = credit.coupon
    if coupon.kind == Coupon.Kind.MONETARY:
        return money(coupon.value, coupon.currency or credit.account.currency)
    return money(credit.revenue, credit.account.currency)


# --- coupons -------------------------------------------------------------------------------------


class CouponForm(ServiceModelForm):
    value = MoneyField(required=False, help_text="Monetary coupons only: the amount, e.g. 200.00.")
    default_revenue = MoneyField(
        initial=0, help_text="In the account's currency, e.g. 450.00: recognised when a credit of this coupon is used."
    )

    class Meta:
        model = Coupon
        fields = ("account", *services.COUPON_FIELDS)
        help_texts = {
            "currency": "Monetary coupons only; leave empty for the account's currency.",
            "max_uses": "Multi-use coupons only; leave empty for unlimited uses.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        coupon = self.instance
        if not coupon._state.adding:
            self.initial["value"] = from_minor(coupon.value, coupon.currency or coupon.account.currency)
            self.initial["default_revenue"] = from_minor(coupon.default_revenue, coupon.account.currency)

    def clean(self):
        data = super().clean()
        account = data.get("account") or (None if self.instance._state.adding else self.instance.account)
        if account is None:
            return data
        currencies = {"value": data.get("currency") or account.currency, "default_revenue": account.currency}
        for name, currency in currencies.items():
            if data.get(name) is not None:
                try:
                    data[name] = to_minor(data[name], currency)
                except ValidationError as exc:
                    self.add_error(name, exc)
        return data

    def perform(self, actor: Actor) -> Coupon:
        if self.instance._state.adding:
            return services.coupon_create(
                account=self.cleaned_data["account"], actor=actor, **self.values(services.COUPON_FIELDS)
            )
        return services.coupon_update(coupon=self.instance, actor=actor, **self.changed_values(services.COUPON_FIELDS))


@admin.register(Coupon)
class CouponAdmin(ServiceAdmin):
    form = CouponForm
    list_display = ("name", "kind", "benefit", "multi_use", "max_uses", "valid_for", "revenue_shown", "active")
    list_filter = ("active", "kind", "multi_use", "account")
    list_select_related = ("account",)
    search_fields = ("name", "benefit_key", "offering")
    actions = ("deactivate_selected",)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("account", "name", "description", "benefit_key", "active")}),
            ("Benefit", {"fields": ("kind", "offering", "value", "currency")}),
            ("Use", {"fields": ("multi_use", "max_uses", "valid_for", "default_revenue")}),
        ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": ("created_at", "updated_at")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # The account is fixed once created: the coupon's credits and rules belong to it.
        return () if obj is None else ("account", "created_at", "updated_at")

    @admin.display(description="benefit")
    def benefit(self, coupon):
        if coupon.kind == Coupon.Kind.MONETARY:
            return money(coupon.value, coupon.currency or coupon.account.currency)
        return coupon.offering or "—"

    @admin.display(description="default revenue", ordering="default_revenue")
    def revenue_shown(self, coupon):
        return money(coupon.default_revenue, coupon.account.currency)

    @admin.action(description="Deactivate selected coupons", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        actor = Actor.staff(request.user)
        self.apply_each(
            request,
            queryset,
            lambda coupon: services.coupon_update(coupon=coupon, actor=actor, active=False),
            skip=lambda coupon: None if coupon.active else "It is already inactive.",
            done=("Deactivated %d coupon", "Deactivated %d coupons"),
            failed_message="Could not deactivate",
        )


# --- membership credit rules ---------------------------------------------------------------------


class MembershipCreditRuleForm(ServiceModelForm):
    class Meta:
        model = MembershipCreditRule
        fields = ("account", "membership_type", "coupon", *services.RULE_FIELDS)

    def perform(self, actor: Actor) -> MembershipCreditRule:
        data = self.cleaned_data
        if self.instance._state.adding:
            return services.membership_credit_rule_create(
                account=data["account"],
                membership_type_id=data["membership_type"].pk,
                coupon_id=data["coupon"].pk,
                actor=actor,
                **self.values(services.RULE_FIELDS),
            )
        changed = self.changed_data
        return services.membership_credit_rule_update(
            rule=self.instance,
            actor=actor,
            membership_type_id=data["membership_type"].pk if "membership_type" in changed else None,
            coupon_id=data["coupon"].pk if "coupon" in changed else None,
            **self.changed_values(services.RULE_FIELDS),
        )


@admin.register(MembershipCreditRule)
class MembershipCreditRuleAdmin(ServiceAdmin):
    form = MembershipCreditRuleForm
    list_display = (
        "coupon",
        "membership_type",
        "issuing_frequency",
        "quantity",
        "roll_over",
        "issue_on_signup",
        "active",
        "created_at",
    )
    list_filter = ("active", "issuing_frequency", "membership_type", "account")
    list_select_related = ("coupon", "membership_type")
    search_fields = ("coupon__name", "membership_type__name")

    def get_fields(self, request, obj=None):
        fields = ("account", "membership_type", "coupon", *services.RULE_FIELDS)
        return fields if obj is None else (*fields, "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("account", "created_at", "updated_at")


# --- customer credits ----------------------------------------------------------------------------


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


def bulk_reference(verb: str) -> str:
    """A fresh reference for a bulk write: what it did, when (in the active zone) and a random tail."""
    return f"{verb}-{timezone.localtime():%Y%m%d-%H%M}-{secrets.token_hex(3)}"


class CreditReverseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=1000, help_text="Kept in the credit's history."
    )


class CreditStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return CustomerCredit.Status.choices

    def queryset(self, request, queryset):
        if self.value() in CustomerCredit.Status.values:
            return queryset.with_status().filter(computed_status=self.value())
        return queryset


class CreditMembershipFilter(admin.SimpleListFilter):
    title = "membership"
    parameter_name = "membership"

    def lookups(self, request, model_admin):
        types = MembershipType.objects.order_by("name", "id")
        return [
            ("any", "With a membership"),
            ("none", "Without a membership"),
            *((str(membership_type.pk), f"Type: {membership_type.name}") for membership_type in types),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.filter(membership__isnull=False)
        if value == "none":
            return queryset.filter(membership__isnull=True)
        if value:
            try:
                membership_type_id = uuid.UUID(value)
            except ValueError as exc:
                raise IncorrectLookupParameters(f"Unknown membership filter {value!r}.") from exc
            return queryset.filter(membership__membership_type_id=membership_type_id)
        return queryset


class ExpiringFilter(admin.SimpleListFilter):
    title = "expiring"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("7", "Within 7 days"), ("30", "Within 30 days")]

    def queryset(self, request, queryset):
        if self.value() in ("7", "30"):
            now = timezone.now()
            return queryset.usable(now).filter(expiry_date__lte=now + timedelta(days=int(self.value())))
        return queryset


class ExpiryRangeFilter(admin.ListFilter):
    """Credits whose expiry date falls in a range of days (both ends included, days in the page's zone)."""

    title = "expiry date range"
    template = "admin/credits/customercredit/expiry_range_filter.html"
    parameters = ("expiry_from", "expiry_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value
        self.dates = {}
        for name, value in self.values.items():
            try:
                self.dates[name] = datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError as exc:
                raise IncorrectLookupParameters(f"{name} must be a date (YYYY-MM-DD).") from exc

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def choices(self, changelist):
        yield {
            "values": self.values,
            "keep": [(k, v) for k, v in changelist.get_filters_params().items() if k not in self.parameters],
            "clear_url": changelist.get_query_string(remove=list(self.parameters)),
        }

    def queryset(self, request, queryset):
        # Days where the business is: the zone of the page (the only account's, or UTC with several).
        zone = timezone.get_current_timezone()
        if "expiry_from" in self.dates:
            queryset = queryset.filter(expiry_date__gte=datetime.combine(self.dates["expiry_from"], time.min, zone))
        if "expiry_to" in self.dates:
            end = datetime.combine(self.dates["expiry_to"] + timedelta(days=1), time.min, zone)
            queryset = queryset.filter(expiry_date__lt=end)
        return queryset


class IssuedByFilter(admin.SimpleListFilter):
    """Who issued the credit: a staff user or an API client by name, and every bulk grant (one entry, not
    one per batch) and every membership rule together."""

    title = "issued by"
    parameter_name = "issued_by"
    limit = 50
    GROUPS = {"bulk:": "bulk grants", "rule:": "membership rules"}

    def lookups(self, request, model_admin):
        people = (
            CustomerCredit.objects.exclude(issued_by__startswith="bulk:")
            .exclude(issued_by__startswith="rule:")
            .order_by("issued_by")
            .values_list("issued_by", flat=True)
            .distinct()[: self.limit]
        )
        return [*((label, actor_name(label)) for label in people), *self.GROUPS.items()]

    def queryset(self, request, queryset):
        value = self.value()
        if value in self.GROUPS:
            return queryset.filter(issued_by__startswith=value)
        if value:
            return queryset.filter(issued_by=value)
        return queryset


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return list(SOURCE_NAMES.items())

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() in SOURCE_NAMES else queryset


class CreditUseInline(ReadOnlyInline):
    model = CreditUse
    verbose_name = "use"
    verbose_name_plural = "uses"
    use_fields = (
        "used_local", "used_by_name", "reference", "note", "revenue_shown", "reversed_local", "reversed_by_name",
    )  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credit__account", "used_by_user")

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
    fields = ("when", "action", "actor_name", "reason")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credit__account", "user")

    @admin.display(description="by")
    def actor_name(self, event):
        return actor_name(event.actor, event.user)

    @admin.display(description="when")
    def when(self, event):
        return local_time_text(event.created_at, event.credit.account)


@admin.register(CustomerCredit)
class CustomerCreditAdmin(ServiceAdmin):
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

    def get_search_results(self, request, queryset, search_term):
        base = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        by_number = customer_number_query(search_term, "customer__number")
        if by_number:
            queryset |= base.filter(**by_number)
        try:
            some_id = uuid.UUID(search_term.strip())
        except ValueError:
            pass
        else:
            queryset |= base.filter(Q(pk=some_id) | Q(customer_id=some_id))
        return queryset, may_have_duplicates

    @admin.display(description="status", ordering="computed_status")
    def status_label(self, credit):
        return credit_status_label(credit)

    @admin.display(description="source", ordering="source")
    def source_name(self, credit):
        return credit_source_name(credit)

    @admin.display(description="issued by")
    def issued_by_name(self, credit):
        if credit.issued_by_client is not None:
            return f"{credit.issued_by_client.name} (API client)"
        return actor_name(credit.issued_by, credit.issued_by_user)

    @admin.display(description="revoked by")
    def revoked_by_name(self, credit):
        return actor_name(credit.revoked_by) if credit.revoked_by else "—"

    @admin.display(description="uses", ordering="uses")
    def uses_label(self, credit):
        return credit_uses_label(credit)

    @admin.display(description="value")
    def value(self, credit):
        return credit_value(credit)

    @admin.display(description="revenue")
    def revenue_shown(self, credit):
        return money(credit.revenue, credit.account.currency)

    @admin.display(description="revenue recognised")
    def revenue_recognised_shown(self, credit):
        return money(credit.revenue_recognised, credit.account.currency)

    @admin.display(description="expires", ordering="expiry_date")
    def expiry_local(self, credit):
        return local_time_text(credit.expiry_date, credit.account) if credit.expiry_date else "never"

    @admin.display(description="issued", ordering="created_at")
    def issued_local(self, credit):
        return local_time_text(credit.created_at, credit.account)

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
            request.POST if "confirm" in request.POST else None, initial={"reference": bulk_reference("redeem")}
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
        form = CreditRevokeForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._each_credit(
                request,
                credits,
                functools.partial(services.credit_revoke, reason=form.cleaned_data["reason"]),
                done=("Revoked %d credit", "Revoked %d credits"),
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
            intro="A revoked credit can no longer be used, and revoking cannot be undone.",
            verb="Revoke",
            action_name="revoke_selected",
        )

    def _each_credit(self, request, credits, service, *, done, failed_message) -> None:
        """Call a credit service (redeem, revoke) on each selected credit, as the staff user, and report."""
        actor = Actor.staff(request.user)
        self.apply_each(
            request,
            credits,
            lambda credit: service(
                account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=actor
            ),
            done=done,
            failed_message=failed_message,
        )

    def _bulk_confirmation(self, request, credits, form, *, refused, title, intro, verb, action_name):
        """The page an action on selected credits shows before it writes: each credit, which ones will not
        be acted on and why, and the form (reason or reference)."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "verb": verb,
            "opts": self.opts,
            "form": form,
            "rows": [
                (credit, credit_status_label(credit), refused.get(credit.status), self.expiry_local(credit))
                for credit in credits
            ],
            "actionable_count": sum(1 for credit in credits if credit.status not in refused),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": action_name,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.bulk_confirmation_template, context)

    # --- reversing a use ---

    def get_urls(self):
        # Before the default URLs: their "<path:object_id>/" pattern would match this path too.
        return [
            path(
                "bulk-grant/",
                self.admin_site.admin_view(self.bulk_grant_view),
                name="credits_customercredit_bulk_grant",
            ),
            path(
                "bulk-grant/rejects/<str:token>.csv",
                self.admin_site.admin_view(self.bulk_rejects_view),
                name="credits_customercredit_bulk_rejects",
            ),
            path("export.csv", self.admin_site.admin_view(self.export_view), name="credits_customercredit_export"),
            path(
                "<path:object_id>/redeem/",
                self.admin_site.admin_view(self.redeem_view),
                name="credits_customercredit_redeem",
            ),
            path(
                "<path:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="credits_customercredit_revoke",
            ),
            path(
                "<path:object_id>/uses.csv",
                self.admin_site.admin_view(self.uses_export_view),
                name="credits_customercredit_uses_export",
            ),
            path(
                "<path:object_id>/uses/<uuid:use_id>/reverse/",
                self.admin_site.admin_view(self.reverse_use_view),
                name="credits_customercredit_reverse_use",
            ),
            *super().get_urls(),
        ]

    def bulk_grant_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return admin_bulk.upload_view(self, request)

    def bulk_rejects_view(self, request, token):
        """The rejected rows of a bulk grant just run, as CSV (kept for an hour after the run)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        kept = admin_bulk.kept_rejections(token)
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

    def _action_page(self, request, credit, *, title, form, submit, intro, back):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": str(credit),
            "opts": self.opts,
            "credit": credit,
            "status": credit_status_label(credit),
            "form": form,
            "submit": submit,
            "intro": intro,
            "next": back,
            "change_url": self._change_url(credit.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.action_template, context)

    def _perform(self, request, perform, *, done: str, failed: str, back: str, level=messages.SUCCESS):
        """Run a credit action's service call, say how it went, and go back where the staff member was."""
        try:
            perform()
        except DomainError as exc:
            self.message_user(request, f"{failed}: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, done, level)
        return HttpResponseRedirect(back)

    def redeem_view(self, request, object_id):
        """Use the credit once, with an optional reference and note (GET: the form; POST: the service)."""
        if not self.has_redeem_permission(request):
            raise PermissionDenied
        credit = self._credit_or_404(request, object_id)
        back = safe_next(request, self._change_url(credit.pk))
        form = CreditRedeemForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            return self._perform(
                request,
                lambda: services.credit_redeem(
                    account=credit.account,
                    customer_id=credit.customer_id,
                    credit_id=credit.pk,
                    reference=form.cleaned_data["reference"] or None,
                    note=form.cleaned_data["note"],
                    actor=Actor.staff(request.user),
                ),
                done=f"Redeemed {credit} (one use).",
                failed=f"Could not redeem {credit}",
                back=back,
            )
        return self._action_page(
            request,
            credit,
            title="Redeem a credit",
            form=form,
            submit="Redeem",
            intro="Records one use of this credit now, with your name in its history.",
            back=back,
        )

    def revoke_view(self, request, object_id):
        """Revoke the credit, with a reason (GET: the form; POST: the service)."""
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        credit = self._credit_or_404(request, object_id)
        back = safe_next(request, self._change_url(credit.pk))
        form = CreditRevokeForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            return self._perform(
                request,
                lambda: services.credit_revoke(
                    account=credit.account,
                    customer_id=credit.customer_id,
                    credit_id=credit.pk,
                    reason=form.cleaned_data["reason"],
                    actor=Actor.staff(request.user),
                ),
                done=f"Revoked {credit}.",
                failed=f"Could not revoke {credit}",
                back=back,
            )
        return self._action_page(
            request,
            credit,
            title="Revoke a credit",
            form=form,
            submit="Revoke",
            intro="A revoked credit can no longer be used, and revoking cannot be undone.",
            back=back,
        )

    def reverse_use_view(self, request, object_id, use_id):
        """GET asks for confirmation and a reason; POST reverses the use through the service."""
        if not self.has_redeem_permission(request):
            raise PermissionDenied
        credit = self._credit_or_404(request, object_id)
        use = credit.use_records.filter(pk=use_id).first()
        if use is None:
            raise Http404("No such use of this credit.")
        back = safe_next(request, self._change_url(credit.pk))
        form = CreditReverseForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            return self._perform(
                request,
                lambda: services.credit_use_reverse(
                    account=credit.account,
                    customer_id=credit.customer_id,
                    credit_id=credit.pk,
                    use_id=use.pk,
                    reason=form.cleaned_data["reason"],
                    actor=Actor.staff(request.user),
                ),
                done=f"Reversed the use of {credit} made at {local_time_text(use.used_at, credit.account)}.",
                failed="Could not reverse the use",
                back=back,
                level=messages.INFO,
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Reverse a use",
            "subtitle": str(credit),
            "opts": self.opts,
            "credit": credit,
            "use": use,
            "form": form,
            "next": back,
            "used_at": local_time_text(use.used_at, credit.account),
            "reversed_at": local_time_text(use.reversed_at, credit.account),
            "use_revenue": money(use.revenue, credit.account.currency),
            "change_url": self._change_url(credit.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.reverse_use_template, context)

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
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {credit}",
            "opts": self.opts,
            "object": credit,
            "rows": [(local_time_text(e.created_at, credit.account), e, actor_name(e.actor, e.user)) for e in events],
            "change_url": self._change_url(credit.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_template, context)

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


def _customer_named(value: str) -> Customer | None:
    try:
        customer_id = uuid.UUID(value)
    except ValueError:
        return None
    return Customer.objects.select_related("account").filter(pk=customer_id).first()


def credit_action_links(request, credit: CustomerCredit, admin_site, *, back: str = "") -> list[tuple[str, str, str]]:
    """The buttons that act on one credit, each shown only to staff who may use it and only when the
    credit's status allows it: Redeem…, Revoke…, Reverse last use…"""
    user = request.user
    status = credit.status
    query = "?" + urlencode({"next": back}) if back else ""
    args = [quote(credit.pk)]
    links = []
    if user.has_perm("credits.redeem_customercredit") and status == CustomerCredit.Status.ACTIVE:
        links.append(
            ("Redeem…", reverse("admin:credits_customercredit_redeem", args=args, current_app=admin_site.name) + query,
             "redeem")
        )  # fmt: skip
    revocable = status not in (CustomerCredit.Status.REVOKED, CustomerCredit.Status.REDEEMED)
    if user.has_perm("credits.revoke_customercredit") and revocable:
        links.append(
            ("Revoke…", reverse("admin:credits_customercredit_revoke", args=args, current_app=admin_site.name) + query,
             "revoke")
        )  # fmt: skip
    if user.has_perm("credits.redeem_customercredit") and credit.revoked_at is None and credit.uses > 0:
        last = credit.use_records.filter(reversed_at__isnull=True).order_by("-used_at", "-id").first()
        if last is not None:
            url = reverse(
                "admin:credits_customercredit_reverse_use", args=[*args, last.pk], current_app=admin_site.name
            )
            links.append(("Reverse last use…", url + query, "reverse-use"))
    return links


# --- the customer page's credits piece (config/admin.py adds it) ----------------------------------


class CustomerCreditInline(ReadOnlyInline):
    """The customer's credits, active first (then newest), each row with its action buttons."""

    model = CustomerCredit
    fk_name = "customer"
    verbose_name = "credit"
    verbose_name_plural = "credits"
    fields = ("credit_link", "status_label", "value", "uses_label", "expires", "source_name", "issued")
    readonly_fields = (*fields, "row_actions")
    show_change_link = True

    @admin.display(description="credit")
    def credit_link(self, credit):
        """The coupon's name, opening the credit (its uses, history and actions), not the coupon."""
        return credit_link(credit, self.admin_site)

    @admin.display(description="source")
    def source_name(self, credit):
        return credit_source_name(credit)

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

    @admin.display(description="status")
    def status_label(self, credit):
        return credit_status_label(credit)

    @admin.display(description="uses")
    def uses_label(self, credit):
        return credit_uses_label(credit)

    @admin.display(description="value")
    def value(self, credit):
        return credit_value(credit)

    @admin.display(description="expires")
    def expires(self, credit):
        return local_time_text(credit.expiry_date, credit.account) if credit.expiry_date else "never"

    @admin.display(description="issued")
    def issued(self, credit):
        return local_time_text(credit.created_at, credit.account)

    @admin.display(description="actions")
    def row_actions(self, credit):
        request = getattr(self, "_request", None)
        if request is None:
            return ""
        back = reverse(
            "admin:customers_customer_change", args=[quote(credit.customer_id)], current_app=self.admin_site.name
        )
        links = credit_action_links(request, credit, self.admin_site, back=back)
        if not links:
            return "—"
        return format_html(
            '<span class="row-actions">{}</span>',
            format_html_join(
                "", '<a class="button {}" href="{}">{}</a>', ((css, url, label) for label, url, css in links)
            ),
        )


def customer_credit_summary(request, customer, admin_site):
    """What the customer holds, every kind of credit counted: the remaining value (the active credits'
    revenue still to be recognised), the money left on vouchers, the uses left of each service, the credit
    that expires next, uses left per benefit key, and the credits themselves (active first; redeemed,
    expired and revoked folded away)."""
    account = customer.account
    holdings = selectors.holdings_of(customer=customer)
    benefits = selectors.benefits_of(customer=customer)

    def credit_rows(items):
        return format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (credit_link(credit, admin_site), credit_status_label(credit), credit_uses_label(credit),
                 local_time_text(credit.expiry_date, account) if credit.expiry_date else "never")
                for credit in items
            ),
        )  # fmt: skip

    table = (
        "<table><thead><tr><th>credit</th><th>status</th><th>uses</th><th>expires</th></tr></thead>"
        "<tbody>{}</tbody></table>"
    )
    parts = [
        *(format_html("{} left to spend on vouchers", money(minor, currency))
          for currency, minor in sorted(holdings.vouchers.items())),
        *(format_html("{}: {}", name, "unlimited uses" if left is None else f"{left} use{'s' if left != 1 else ''}")
          for name, left in sorted(holdings.services.items())),
    ]  # fmt: skip
    next_credit = holdings.next_expiring
    return format_html(
        '<div class="summary-credits">'
        '<h3>Remaining value (every active credit, at its revenue)</h3><p class="big" id="summary-remaining">{}</p>'
        '<p id="summary-holdings">{}</p>'
        '<h3>Next to expire</h3><p id="summary-next-expiry">{}</p>'
        '<h3>Uses left per benefit</h3>{}'
        '<h3>Active credits ({})</h3>{}'
        '<details id="summary-closed"><summary>Redeemed, expired and revoked credits ({})</summary>{}</details>'
        "</div>",
        money(holdings.remaining, account.currency),
        format_html_join(" · ", "{}", ((part,) for part in parts)) if parts else "No active credits.",
        format_html("{} on {}", credit_link(next_credit, admin_site), local_time_text(next_credit.expiry_date, account))
        if next_credit else "nothing expires",
        format_html(
            '<table id="summary-benefits"><thead><tr><th>benefit</th><th>usable now</th><th>uses left</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (row["key"], "yes" if row["valid"] else "no",
                     "unlimited" if row["uses_left"] is None else row["uses_left"])
                    for row in benefits
                ),
            ),
        ) if benefits else format_html("<p>{}</p>", "none"),
        len(holdings.active),
        format_html(table, credit_rows(holdings.active)) if holdings.active else format_html("<p>{}</p>", "none"),
        len(holdings.closed),
        format_html(table, credit_rows(holdings.closed)) if holdings.closed else format_html("<p>{}</p>", "none"),
    )  # fmt: skip


def credit_link(credit: CustomerCredit, admin_site):
    url = reverse("admin:credits_customercredit_change", args=[quote(credit.pk)], current_app=admin_site.name)
    return format_html('<a class="credit-link" href="{}">{}</a>', url, credit.coupon.name)


@admin.display(description="benefits")
def customer_benefits(customer):
    """Each benefit key the customer holds a credit for: usable now or not, and uses left."""
    rows = selectors.benefits_of(customer=customer)
    if not rows:
        return "—"
    return format_html(
        "<table><thead><tr><th>key</th><th>valid</th><th>uses left</th></tr></thead><tbody>{}</tbody></table>",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row["key"],
                    "yes" if row["valid"] else "no",
                    "unlimited" if row["uses_left"] is None else row["uses_left"],
                )
                for row in rows
            ),
        ),
    )


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
    form = admin_bulk.BulkGrantForm(request.POST if "apply" in request.POST else None, needs_file=False)
    form.account = account
    form.fields["coupon"].queryset = form.fields["coupon"].queryset.filter(account=account)
    summary = None
    if form.is_bound and form.is_valid():
        ids = ",".join(str(c.pk) for c in customers)
        rows = (grants.SourceRow(row=None, identifier=str(c.pk)) for c in customers)
        try:
            summary = admin_bulk.run(
                form,
                account=account,
                user=request.user,
                rows=rows,
                column="customer_id",
                selection=f"customers:{hashlib.sha256(ids.encode()).hexdigest()}",
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
    return admin_bulk.render(
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
