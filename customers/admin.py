"""Staff admin for accounts, customers, memberships and API clients.

Every write goes through customers.services (credits.services for coupons, credits and rules), with the
signed-in staff user as the actor, so the admin applies the same rules and leaves the same history as
the API. The shared machinery for that (ServiceModelForm and ServiceAdmin) lives here; credits/admin.py
builds on it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import router, transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from config.api.scopes import FAMILY_SCOPES
from config.exceptions import DomainError, InvalidInput
from credits.models import CustomerCredit

from . import services
from .actors import Actor
from .models import Account, ApiClient, Customer, Membership, MembershipType

# A customer number is a BigIntegerField; longer runs of digits cannot be one (and would overflow it).
CUSTOMER_NUMBER_TERM = re.compile(r"[0-9]{1,18}")
# How many objects a result message names before it summarises the rest.
MESSAGE_NAMES_LIMIT = 10


# --- shared machinery ----------------------------------------------------------------------------


class ServiceModelForm(forms.ModelForm):
    """A ModelForm whose save is a service call.

    The service runs while the form validates, so that its InvalidInput errors land on the form's fields
    like any other validation error. ServiceAdmin then skips the usual save, and rolls the service's
    write back if the page is shown again instead of being saved (e.g. an inline formset was invalid).
    Subclasses implement perform()."""

    # Set per request by ServiceAdmin.get_form; the form needs it to name the staff user as the actor.
    request = None

    def perform(self, actor: Actor):
        """Write through the service and return the saved object."""
        raise NotImplementedError

    def _post_clean(self):
        # Replaces ModelForm's model validation. The model's field validators (formats, ranges) still
        # run, but the cross-field rules are the service's: its messages name the field and say what is
        # wrong, where a violated check constraint would not, and it fills defaults (a coupon's currency)
        # before its rules apply. The database constraints still back them up.
        self._run_model_field_validators()
        if self.errors:
            return
        try:
            with transaction.atomic(using=router.db_for_write(self._meta.model)):
                self.instance = self.perform(Actor.staff(self.request.user))
        except InvalidInput as exc:
            self.add_service_errors(exc.fields)
        except ValidationError as exc:
            # Services that call Model.full_clean (account_create) raise Django's own error.
            self.add_service_errors(exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages})
        except DomainError as exc:
            self.add_error(None, exc.message)

    def _run_model_field_validators(self) -> None:
        opts = self._meta.model._meta
        for name, value in list(self.cleaned_data.items()):
            try:
                model_field = opts.get_field(name)
            except FieldDoesNotExist:
                continue
            if value in model_field.empty_values:
                continue
            try:
                model_field.run_validators(value)
            except ValidationError as exc:
                self.add_error(name, exc)

    def add_service_errors(self, errors: Mapping[str | None, Sequence[str]]) -> None:
        """Put a service's errors on the matching fields; the API's `coupon_id` is the form's `coupon`."""
        for key, field_messages in errors.items():
            field = self._form_field_for(key)
            for message in field_messages:
                if field is None and key not in (None, NON_FIELD_ERRORS):
                    message = f"{key.removesuffix('_id').replace('_', ' ').capitalize()}: {message}"
                self.add_error(field, message)

    def _form_field_for(self, key: str | None) -> str | None:
        if key in self.fields:
            return key
        if key and key.endswith("_id") and key.removesuffix("_id") in self.fields:
            return key.removesuffix("_id")
        return None

    def changed_values(self, names: Iterable[str]) -> dict:
        """The cleaned values of the fields among `names` that the user changed: an edit sends only what
        changed, so it never overwrites someone else's concurrent change to another field."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in names}

    def values(self, names: Iterable[str]) -> dict:
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose forms save through services (see ServiceModelForm). Nothing is ever deleted:
    there is no delete service, and history must stay whole."""

    form = ServiceModelForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory made a new class for this call, so setting the request on it is safe.
        form.request = request
        return form

    def save_form(self, request, form, change):
        return form.instance

    def save_model(self, request, obj, form, change):
        """Already saved: the form's service call wrote it while validating."""

    def save_related(self, request, form, formsets, change):
        """Nothing to save: the inlines on these pages are read-only."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # The form is shown again, so the object was not saved; but the service may already have
            # written while the form validated. Undo that, so that what the user sees is what is stored.
            # (The page renders after this block, so it reads the rolled-back state.)
            if getattr(request, "_service_admin_form_shown", False):
                transaction.set_rollback(True, using=using)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        request._service_admin_form_shown = True
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def apply_each(
        self,
        request,
        objects: Iterable,
        perform: Callable[[object], object],
        *,
        done: tuple[str, str],
        failed_message: str,
        skip: Callable[[object], str | None] | None = None,
    ) -> list:
        """Run an action's service call on each object and report: what was done, and each object it could
        not be done to, and why (a `skip` reason, or the service's DomainError). `done` is the singular and
        plural of the success message, with %d for the count."""
        succeeded, failed = [], []
        for obj in objects:
            reason = skip(obj) if skip else None
            if reason is None:
                try:
                    perform(obj)
                except DomainError as exc:
                    reason = exc.message
            if reason is None:
                succeeded.append(obj)
            else:
                failed.append((obj, reason))
        n = len(succeeded)
        self.report(
            request, done_message=ngettext(*done, n) % n, done=succeeded, failed_message=failed_message, failed=failed
        )
        return succeeded

    def report(self, request, *, done_message: str, done: Sequence, failed_message: str, failed: Sequence) -> None:
        if done:
            self.message_user(request, f"{done_message}: {name_list(done)}.", messages.SUCCESS)
        for obj, reason in failed[:MESSAGE_NAMES_LIMIT]:
            self.message_user(request, f"{failed_message} {obj}: {reason}", messages.ERROR)
        if len(failed) > MESSAGE_NAMES_LIMIT:
            self.message_user(request, f"{failed_message} {len(failed) - MESSAGE_NAMES_LIMIT} more.", messages.ERROR)


class ReadOnlyInline(admin.TabularInline):
    """A read-only table of related rows on an object's page."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def name_list(objects: Sequence) -> str:
    names = ", ".join(str(obj) for obj in objects[:MESSAGE_NAMES_LIMIT])
    if len(objects) > MESSAGE_NAMES_LIMIT:
        names += f" and {len(objects) - MESSAGE_NAMES_LIMIT} more"
    return names


def customer_number_query(search_term: str, lookup: str) -> dict | None:
    """A filter on the customer number when the search term is one; None otherwise."""
    term = search_term.strip()
    if CUSTOMER_NUMBER_TERM.fullmatch(term):
        return {lookup: int(term)}
    return None


def credit_status_label(credit: CustomerCredit) -> str:
    return CustomerCredit.Status(credit.status).label


def credit_uses_label(credit: CustomerCredit) -> str:
    limit = credit.use_limit
    return f"{credit.uses}/{'∞' if limit is None else limit}"


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
    list_display = ("id", "name", "currency", "timezone", "created_at")
    search_fields = ("id", "name")
    ordering = ("id",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("id", "name", "currency", "timezone")
        return ("id", "name", "currency", "timezone", "created_at")

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


class CustomerCreditInline(ReadOnlyInline):
    model = CustomerCredit
    fk_name = "customer"
    verbose_name = "credit"
    verbose_name_plural = "credits"
    fields = ("coupon", "status_label", "uses_label", "expiry_date", "source", "created_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("coupon").order_by("-created_at", "-id")

    @admin.display(description="status")
    def status_label(self, credit):
        return credit_status_label(credit)

    @admin.display(description="uses")
    def uses_label(self, credit):
        return credit_uses_label(credit)


class MembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "customer"
    fields = ("membership_type", "status", "started_at", "ends_at", "cancelled_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership_type")


class GiveDiscountForm(forms.Form):
    rule = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    form = CustomerForm
    list_display = ("number", "full_name", "email", "card_number", "account", "created_at")
    list_display_links = ("number", "full_name")
    list_filter = ("account",)
    list_select_related = ("account",)
    # The number is matched in get_search_results: an integer column only takes whole numbers.
    search_fields = ("first_name", "last_name", "email", "=card_number", "=barcode", "=external_ref")
    search_help_text = "Name, email, customer number, card number, barcode or external reference."
    inlines = (CustomerCreditInline, MembershipInline)
    actions = ("grant_credit_selected", "give_discount_selected")

    def has_give_permission(self, request):
        return request.user.has_perm("discounts.change_discountrule")

    @admin.action(description="Give a discount rule to the selected customers", permissions=["give"])
    def give_discount_selected(self, request, queryset):
        from discounts.models import DiscountRule
        from discounts.services import discount_rule_give

        customers = list(queryset)
        if len({c.account_id for c in customers}) != 1:
            self.message_user(request, "Select customers of one account.", messages.ERROR)
            return None
        rules = DiscountRule.objects.filter(account_id=customers[0].account_id, deleted_at__isnull=True)
        form = GiveDiscountForm(request.POST if "apply" in request.POST else None, rules=rules)
        if form.is_bound and form.is_valid():
            rule = form.cleaned_data["rule"]
            discount_rule_give(rule=rule, customer_ids=[c.pk for c in customers], actor=Actor.staff(request.user))
            self.message_user(request, f"Gave {rule} to {len(customers)} customer(s).")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Give a discount rule to the selected customers",
            "opts": self.opts,
            "form": form,
            "customers": customers,
            "action": "give_discount_selected",
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/customers/customer/give_discount.html", context)

    def has_grant_permission(self, request):
        return request.user.has_perm("credits.add_customercredit")

    @admin.action(description="Grant a credit to the selected customers", permissions=["grant"])
    def grant_credit_selected(self, request, queryset):
        """Ask for the coupon (and expiry, revenue), then grant one credit to each selected customer
        through the bulk grant service: the same summary and exactly-once batch as grant_credits."""
        from credits import admin_bulk, grants

        customers = list(queryset.order_by("pk"))
        accounts = {c.account_id for c in customers}
        if len(accounts) != 1:
            self.message_user(request, "Select customers of one account.", messages.ERROR)
            return None
        account = customers[0].account
        form = admin_bulk.BulkGrantForm(request.POST if "apply" in request.POST else None, needs_file=False)
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
            self,
            request,
            form,
            summary,
            title="Grant a credit to the selected customers",
            customers=customers,
            action="grant_credit_selected",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("account", *services.CUSTOMER_FIELDS)
        return ("account", "number", *services.CUSTOMER_FIELDS, "benefits", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("account", "number", "benefits", "created_at", "updated_at")

    @admin.display(description="benefits")
    def benefits(self, customer):
        """Each benefit key the customer holds a credit for: usable now or not, and uses left."""
        from credits.selectors import benefits_of

        rows = benefits_of(customer=customer)
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

    def get_inlines(self, request, obj):
        from billing.admin import BillingAccountInline

        return (*self.inlines, BillingAccountInline) if obj is not None else ()

    def get_search_results(self, request, queryset, search_term):
        base = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        by_number = customer_number_query(search_term, "number")
        if by_number:
            queryset |= base.filter(**by_number)
        return queryset, may_have_duplicates

    @admin.display(description="name", ordering="last_name")
    def full_name(self, customer):
        return f"{customer.first_name} {customer.last_name}".strip() or "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        customer_id = admin.utils.unquote(object_id)
        if request.user.has_perm("credits.add_customercredit"):
            extra_context["issue_credit_url"] = (
                reverse("admin:credits_customercredit_add", current_app=self.admin_site.name)
                + "?"
                + urlencode({"customer": customer_id})
            )
        if request.user.has_perm("credits.view_customercredit"):
            extra_context["credits_url"] = (
                reverse("admin:credits_customercredit_changelist", current_app=self.admin_site.name)
                + "?"
                + urlencode({"customer": customer_id})
            )
        return super().change_view(request, object_id, form_url, extra_context)


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

    def get_search_results(self, request, queryset, search_term):
        base = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        by_number = customer_number_query(search_term, "customer__number")
        if by_number:
            queryset |= base.filter(**by_number)
        return queryset, may_have_duplicates

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


SCOPE_CHOICES = [(family, [(scope, scope) for scope in scopes]) for family, scopes in FAMILY_SCOPES.items()]


class ApiClientForm(ServiceModelForm):
    scopes = forms.MultipleChoiceField(choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiClient
        fields = ("account", "name", "scopes")

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
            return ("account", "name", "scopes")
        return ("name", "scopes", *self.change_readonly)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not self.has_change_permission(request, obj):
            return ("name", "scope_list", *self.change_readonly)
        return self.change_readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["fields"] = ("name", "scopes")
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "scopes" in form.base_fields:
            form.base_fields["scopes"].initial = obj.scopes
        return form

    def has_deactivate_permission(self, request):
        return request.user.has_perm("customers.change_apiclient")

    @admin.display(description="scopes")
    def scope_list(self, client):
        return ", ".join(client.scopes) or "—"

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(obj, "issued_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "API client created",
            "subtitle": str(obj),
            "opts": self.opts,
            "client": obj,
            "secret": secret,
            "change_url": reverse("admin:customers_apiclient_change", args=[obj.pk], current_app=self.admin_site.name),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.secret_template, context)

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
