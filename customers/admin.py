"""Staff admin for accounts, customers, memberships and API clients.

Every write goes through customers.services (credits.services for coupons, credits and rules), with the
signed-in staff user as the actor, so the admin applies the same rules and leaves the same history as
the API. The shared machinery for that (ServiceModelForm and ServiceAdmin) is in config/kernel/admin.py.
The customer page shows pieces from credits, discounts and billing; config/admin.py adds them.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from config.kernel.actors import Actor
from config.kernel.admin import (
    CustomerPagePiece,
    HistoryRow,
    ReadOnlyInline,
    ServiceAdmin,
    ServiceModelForm,
    admin_page,
)
from config.kernel.display import account_zone, money
from config.kernel.scopes import FAMILY_NAMES, FAMILY_SCOPES, SCOPE_DESCRIPTIONS, SCOPE_PRESETS
from staff import sudo

from . import admin_approvals, selectors, services
from .models import Account, ApiClient, Customer, Membership, MembershipType
from .selectors import customer_number_query

# --- accounts ------------------------------------------------------------------------------------


class AccountForm(ServiceModelForm):
    timezone = forms.CharField(max_length=64, initial="Europe/Oslo", help_text="An IANA time zone, e.g. Europe/Oslo.")

    class Meta:
        model = Account
        fields = ("id", "name", "currency", "timezone")

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()

    def clean_timezone(self):
        name = self.cleaned_data["timezone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValidationError("Not a known time zone (use a name such as Europe/Oslo).") from exc
        return name

    def perform(self, actor: Actor) -> Account:
        data = self.cleaned_data
        return services.account_create(
            account_id=data["id"], name=data["name"], currency=data["currency"], timezone_name=data["timezone"]
        )


@admin.register(Account)
class AccountAdmin(ServiceAdmin):
    form = AccountForm
    account_path = ""  # each row is an account: its times in its own zone
    list_display = ("id", "name", "currency", "timezone", "created_at")
    search_fields = ("id", "name")
    ordering = ("id",)
    own_pages = (("<path:object_id>/threshold/", "threshold_view", "threshold"),)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("id", "name", "currency", "timezone")
        return (
            "id", "name", "currency", "timezone", "created_at", "approval_threshold_shown", "approval_threshold_set_by",
            "approval_threshold_set_at",
        )  # fmt: skip

    @admin.display(description="approval threshold")
    def approval_threshold_shown(self, account):
        threshold = account.approval_threshold
        shown = "none" if threshold is None else money(threshold, account.currency)
        url = reverse("admin:customers_account_threshold", args=[quote(account.pk)], current_app=self.admin_site.name)
        return format_html('{} <a class="button" id="change-threshold" href="{}">Change…</a>', shown, url)

    def threshold_view(self, request, object_id):
        return admin_approvals.threshold_view(self, request, object_id)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # There is no account update service; an account is created here and not edited.
        return False


# --- customers -----------------------------------------------------------------------------------


class CustomerForm(ServiceModelForm):
    class Meta:
        model = Customer
        fields = ("account", *services.CUSTOMER_FIELDS)

    def perform(self, actor: Actor) -> Customer:
        if self.instance._state.adding:
            return services.customer_create(
                account=self.cleaned_data["account"], actor=actor, **self.values(services.CUSTOMER_FIELDS)
            )
        return services.customer_update(
            customer=self.instance, actor=actor, **self.changed_values(services.CUSTOMER_FIELDS)
        )


class MembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "customer"
    fields = ("membership_type", "status", "started_at", "ends_at", "cancelled_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership_type")


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    form = CustomerForm
    list_display = ("number", "full_name", "email", "card_number", "account", "created_at")
    list_display_links = ("number", "full_name")
    own_pages = (("find/", "find_view", "find"),)
    list_filter = ("account",)
    list_select_related = ("account",)
    # The number is matched in get_search_results: an integer column only takes whole numbers. Card numbers
    # and barcodes match from their start, so the first digits typed find the card.
    search_fields = ("first_name", "last_name", "email", "^card_number", "^barcode", "=external_ref")
    search_help_text = "Name, email, customer number, card number or barcode (or their first digits), external ref."
    inlines = (MembershipInline,)
    actions = ()
    panel_names: tuple[str, ...] = ()
    link_providers: tuple = ()
    summary_providers: tuple = ()
    history_providers: tuple = ()
    object_history_template = "admin/customers/customer/object_history.html"

    @classmethod
    def compose(cls, *pieces: CustomerPagePiece) -> None:
        """Add other apps' pieces to the page (called once, by config/admin.py)."""
        for piece in pieces:
            cls.inlines = (*cls.inlines, *piece.inlines)
            cls.actions = (*cls.actions, *piece.actions)
            cls.link_providers = (*cls.link_providers, *piece.links)
            cls.summary_providers = (*cls.summary_providers, *piece.summaries)
            cls.history_providers = (*cls.history_providers, *piece.history)
            for name, display in piece.panels.items():
                setattr(cls, name, staticmethod(display))
                cls.panel_names = (*cls.panel_names, name)
            for name, permission in piece.permissions.items():
                setattr(cls, f"has_{name}_permission", _has_perm(permission))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("account", *services.CUSTOMER_FIELDS)
        return ("account", "number", *services.CUSTOMER_FIELDS, *self.panel_names, "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("account", "number", *self.panel_names, "created_at", "updated_at")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def search_also(self, search_term):
        return [customer_number_query(search_term, "number")]

    @admin.display(description="name", ordering="last_name")
    def full_name(self, customer):
        return f"{customer.first_name} {customer.last_name}".strip() or "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        customer_id = admin.utils.unquote(object_id)
        extra_context["object_links"] = [
            link for provider in self.link_providers for link in provider(request, customer_id, self.admin_site)
        ]
        customer = self.get_object(request, customer_id)
        if customer is not None and self.has_view_or_change_permission(request, customer):
            extra_context["summary_sections"] = [
                provider(request, customer, self.admin_site) for provider in self.summary_providers
            ]
            extra_context["customer_zone"] = account_zone(customer.account).key
        return super().change_view(request, object_id, form_url, extra_context)

    def find_view(self, request):
        """The home page's customer search: a card number, barcode, customer number, external reference or
        email that names exactly one customer opens that customer; anything else lists what matches."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        term = request.GET.get("q", "").strip()
        match = selectors.customer_exact_match(term) if term else None
        if match is not None:
            return HttpResponseRedirect(
                reverse("admin:customers_customer_change", args=[quote(match.pk)], current_app=self.admin_site.name)
            )
        changelist = reverse("admin:customers_customer_changelist", current_app=self.admin_site.name)
        return HttpResponseRedirect(f"{changelist}?{urlencode({'q': term})}" if term else changelist)

    def history_view(self, request, object_id, extra_context=None):
        """The admin's change log of the customer's own fields, and beside it what each app's ledger
        recorded for the customer (credits issued, used, revoked...), newest first, in the account's zone."""
        customer = self.get_object(request, unquote(object_id))
        rows: list[HistoryRow] = []
        if customer is not None and self.has_view_or_change_permission(request, customer):
            for provider in self.history_providers:
                rows.extend(provider(customer, self.admin_site))
            rows.sort(key=lambda row: row.when, reverse=True)
        extra_context = {**(extra_context or {}), "ledger_rows": rows}
        return super().history_view(request, object_id, extra_context)


def _has_perm(permission: str):
    def has_permission(self, request) -> bool:
        return request.user.has_perm(permission)

    return has_permission


# --- memberships ---------------------------------------------------------------------------------


class MembershipTypeForm(ServiceModelForm):
    class Meta:
        model = MembershipType
        fields = ("account", "name", "description")

    def perform(self, actor: Actor) -> MembershipType:
        data = self.cleaned_data
        return services.membership_type_create(
            account=data["account"], name=data["name"], description=data["description"], actor=actor
        )


@admin.register(MembershipType)
class MembershipTypeAdmin(ServiceAdmin):
    form = MembershipTypeForm
    list_display = ("name", "account", "created_at")
    list_filter = ("account",)
    list_select_related = ("account",)
    search_fields = ("name",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("account", "name", "description")
        return ("account", "name", "description", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # There is no membership type update service.
        return False


class MembershipForm(ServiceModelForm):
    started_at = forms.SplitDateTimeField(
        required=False, widget=admin_widgets.AdminSplitDateTime, help_text="Leave empty to start now."
    )

    class Meta:
        model = Membership
        fields = ("customer", "membership_type", "started_at", "ends_at")

    def perform(self, actor: Actor) -> Membership:
        data = self.cleaned_data
        return services.membership_create(
            customer=data["customer"],
            membership_type_id=data["membership_type"].pk,
            started_at=data.get("started_at"),
            ends_at=data.get("ends_at"),
            actor=actor,
        )


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    form = MembershipForm
    list_display = ("customer", "membership_type", "status", "started_at", "ends_at", "account")
    list_filter = ("status", "membership_type", "account")
    list_select_related = ("customer", "membership_type", "account")
    search_fields = ("customer__first_name", "customer__last_name", "customer__email", "membership_type__name")
    search_help_text = "Customer name, email or number, or membership type."
    autocomplete_fields = ("customer",)
    actions = ("cancel_selected",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer", "membership_type", "started_at", "ends_at")
        return (
            "account",
            "customer",
            "membership_type",
            "status",
            "started_at",
            "ends_at",
            "created_by",
            "created_at",
            "cancelled_at",
            "cancelled_by",
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def search_also(self, search_term):
        return [customer_number_query(search_term, "customer__number")]

    def has_change_permission(self, request, obj=None):
        # There is no membership update service: a membership is created, then cancelled by the action.
        return False

    def has_cancel_permission(self, request):
        return request.user.has_perm("customers.change_membership")

    @admin.action(description="Cancel selected memberships", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        actor = Actor.staff(request.user)
        self.apply_each(
            request,
            queryset.select_related("customer", "membership_type"),
            lambda membership: services.membership_cancel(membership=membership, actor=actor),
            done=("Cancelled %d membership", "Cancelled %d memberships"),
            failed_message="Could not cancel",
        )


# --- API clients ---------------------------------------------------------------------------------


SCOPE_CHOICES = [
    (FAMILY_NAMES[family], [(scope, f"{scope}: {SCOPE_DESCRIPTIONS[scope]}") for scope in scopes])
    for family, scopes in FAMILY_SCOPES.items()
]


class ApiClientForm(ServiceModelForm):
    preset = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *((key, label) for key, (label, _scopes) in SCOPE_PRESETS.items())],
        help_text="Adds the scopes such a client needs to those ticked below. Each API family has its own scopes: "
        "a client of the benefits API needs the CUSTOMER_* ones, not credits:*.",
    )
    scopes = forms.MultipleChoiceField(choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = ApiClient
        fields = ("account", "name", "preset", "scopes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # For staff.js: ticking a preset's scopes as it is chosen.
        self.fields["preset"].widget.attrs["data-presets"] = json.dumps(
            {key: list(scopes) for key, (_label, scopes) in SCOPE_PRESETS.items()}
        )

    def clean(self):
        data = super().clean()
        preset = SCOPE_PRESETS.get(data.get("preset") or "")
        scopes = list(dict.fromkeys([*(data.get("scopes") or []), *(preset[1] if preset else ())]))
        if not scopes:
            self.add_error("scopes", "Tick at least one scope, or choose a preset.")
        data["scopes"] = scopes
        return data

    def perform(self, actor: Actor) -> ApiClient:
        data = self.cleaned_data
        if not self.instance._state.adding:
            return services.api_client_update(
                api_client=self.instance, name=data["name"], scopes=data["scopes"], actor=actor
            )
        client, secret = services.api_client_create(
            account=data["account"], name=data["name"], scopes=data["scopes"], actor=actor
        )
        # Kept only in memory, for the one page that shows it (ApiClientAdmin.response_add).
        client.issued_secret = secret
        return client


@admin.register(ApiClient)
class ApiClientAdmin(ServiceAdmin):
    form = ApiClientForm
    own_pages = (("<path:object_id>/secret/", "secret_view", "secret"),)
    list_display = ("name", "client_id", "account", "scope_list", "is_active", "last_used_at", "created_at")
    list_filter = ("is_active", "account")
    list_select_related = ("account",)
    search_fields = ("name", "=client_id")
    actions = ("deactivate_selected",)
    secret_template = "admin/customers/apiclient/secret_once.html"

    # Never secret_hash or secret_prefix: a stored secret is not shown, not even its digest.
    change_readonly = (
        "account",
        "client_id",
        "is_active",
        "created_by",
        "created_at",
        "updated_by",
        "last_used_at",
        "deactivated_at",
        "deactivated_by",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("account", "name", "preset", "scopes")
        if not self.has_change_permission(request, obj):
            return ("name", "scopes", *self.change_readonly)
        return ("name", "preset", "scopes", *self.change_readonly)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not self.has_change_permission(request, obj):
            return ("name", "scope_list", *self.change_readonly)
        return self.change_readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["fields"] = ("name", "preset", "scopes")
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "scopes" in form.base_fields:
            form.base_fields["scopes"].initial = obj.scopes
        return form

    def has_deactivate_permission(self, request):
        return request.user.has_perm("customers.change_apiclient")

    @admin.display(description="scopes")
    def scope_list(self, client):
        return ", ".join(client.scopes) or "—"

    SECRET_SESSION_KEY = "api_client_secret_once"

    def add_view(self, request, form_url="", extra_context=None):
        # A new client is a new credential: the password again first (staff/sudo.py).
        if not sudo.is_recent(request):
            return sudo.redirect(request)
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Changing a credential's scopes too (those who may only look are not asked).
        if self.has_change_permission(request) and not sudo.is_recent(request):
            return sudo.redirect(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        """POST-redirect-GET: the new secret waits in the session for the one page that shows it, so
        reloading that page never creates another client (and shows the secret no more)."""
        secret = getattr(obj, "issued_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        request.session[self.SECRET_SESSION_KEY] = {"client": str(obj.pk), "secret": secret}
        return HttpResponseRedirect(
            reverse("admin:customers_apiclient_secret", args=[quote(obj.pk)], current_app=self.admin_site.name)
        )

    def secret_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        pending = request.session.get(self.SECRET_SESSION_KEY) or {}
        secret = None
        if pending.get("client") == str(obj.pk):
            secret = pending["secret"]
            del request.session[self.SECRET_SESSION_KEY]
        response = admin_page(
            self,
            request,
            self.secret_template,
            title="API client created" if secret else "API client",
            subtitle=str(obj),
            client=obj,
            secret=secret,
            change_url=reverse("admin:customers_apiclient_change", args=[obj.pk], current_app=self.admin_site.name),
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Deactivate selected API clients", permissions=["deactivate"])
    def deactivate_selected(self, request, queryset):
        actor = Actor.staff(request.user)
        self.apply_each(
            request,
            queryset,
            lambda client: services.api_client_deactivate(api_client=client, actor=actor),
            skip=lambda client: None if client.is_active else "It is already inactive.",
            done=("Deactivated %d API client", "Deactivated %d API clients"),
            failed_message="Could not deactivate",
        )
