"""Staff admin for coupons, membership credit rules and customer credits.

Every write goes through credits.services with the signed-in staff user as the actor (see the machinery
in customers/admin.py). A credit's ledger fields are never edited here: a credit is issued, used, revoked
and its uses reversed, each by its own service call, and each recorded in the credit's history.
"""

from __future__ import annotations

import hashlib
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from config.kernel.actors import Actor
from config.kernel.admin import ReadOnlyInline, ServiceAdmin, ServiceModelForm
from config.kernel.exceptions import DomainError
from customers.admin import CustomerPagePiece, customer_number_query
from customers.models import Customer, Membership, MembershipType

from . import admin_bulk, grants, selectors, services
from .models import Coupon, CreditEvent, CreditUse, CustomerCredit, MembershipCreditRule


def credit_status_label(credit: CustomerCredit) -> str:
    return CustomerCredit.Status(credit.status).label


def credit_uses_label(credit: CustomerCredit) -> str:
    limit = credit.use_limit
    return f"{credit.uses}/{'∞' if limit is None else limit}"


# --- coupons -------------------------------------------------------------------------------------


class CouponForm(ServiceModelForm):
    class Meta:
        model = Coupon
        fields = ("account", *services.COUPON_FIELDS)
        help_texts = {
            "currency": "Monetary coupons only; leave empty for the account's currency.",
            "max_uses": "Multi-use coupons only; leave empty for unlimited uses.",
            "default_revenue": "Minor units, recognised when a credit of this coupon is used.",
        }

    def perform(self, actor: Actor) -> Coupon:
        if self.instance._state.adding:
            return services.coupon_create(
                account=self.cleaned_data["account"], actor=actor, **self.values(services.COUPON_FIELDS)
            )
        return services.coupon_update(coupon=self.instance, actor=actor, **self.changed_values(services.COUPON_FIELDS))


@admin.register(Coupon)
class CouponAdmin(ServiceAdmin):
    form = CouponForm
    list_display = ("name", "kind", "benefit", "multi_use", "max_uses", "valid_for", "default_revenue", "active")
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
            return f"{coupon.value} {coupon.currency or ''}".strip()
        return coupon.offering or "—"

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
    revenue = forms.IntegerField(
        required=False, min_value=0, help_text="Minor units. Leave empty for the coupon's default revenue."
    )

    class Meta:
        model = CustomerCredit
        fields = ("customer", "coupon", "membership", "expiry_date", "revenue")
        help_texts = {
            "expiry_date": "Leave empty for the coupon's validity (or no expiry if the coupon has none).",
            "membership": "Optional: the membership this credit belongs to.",
        }

    def perform(self, actor: Actor) -> CustomerCredit:
        data = self.cleaned_data
        return services.credit_issue(
            customer=data["customer"],
            coupon=data["coupon"],
            membership=data.get("membership"),
            expiry_date=data.get("expiry_date"),
            revenue=data.get("revenue"),
            source=CustomerCredit.Source.MANUAL,
            actor=actor,
        )


class CreditRevokeForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Kept in each credit's history.",
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


class CreditUseInline(ReadOnlyInline):
    model = CreditUse
    verbose_name = "use"
    verbose_name_plural = "uses"
    use_fields = ("used_at", "used_by", "reference", "note", "revenue", "reversed_at", "reversed_by")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credit")

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
        return format_html('<a class="button" href="{}">Reverse…</a>', url)


class CreditEventInline(ReadOnlyInline):
    model = CreditEvent
    verbose_name = "history entry"
    verbose_name_plural = "history"
    fields = ("created_at", "action", "actor", "reason")
    readonly_fields = fields


@admin.register(CustomerCredit)
class CustomerCreditAdmin(ServiceAdmin):
    form = CreditIssueForm
    list_display = ("customer", "coupon", "status_label", "expiry_date", "uses_label", "source", "created_at")
    list_filter = (CreditStatusFilter, "coupon", "source", CreditMembershipFilter, "account")
    list_select_related = ("customer", "coupon")
    search_fields = ("customer__first_name", "customer__last_name", "customer__email", "=customer__card_number")
    search_help_text = "Customer name, email, number or card number, or a credit id."
    date_hierarchy = "created_at"
    # Counting every credit on each page load is costly on a large ledger.
    show_full_result_count = False
    actions = ("redeem_selected", "revoke_selected")
    revoke_template = "admin/credits/customercredit/revoke_confirmation.html"
    reverse_use_template = "admin/credits/customercredit/reverse_use_confirmation.html"

    ledger_fieldsets = (
        (None, {"fields": ("id", "customer", "coupon", "membership", "source", "status_label", "uses_label")}),
        ("Validity and use", {"fields": ("multi_use", "max_uses", "expiry_date", "redeemed_at")}),
        ("Revenue (minor units)", {"fields": ("revenue", "revenue_recognised")}),
        ("Issued", {"fields": ("issued_by", "issued_by_user", "issued_by_client", "created_at", "updated_at")}),
        ("Revoked", {"fields": ("revoked_at", "revoked_by", "revoke_reason")}),
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

    @admin.display(description="uses", ordering="uses")
    def uses_label(self, credit):
        return credit_uses_label(credit)

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
            customer = None
            try:
                customer_id = uuid.UUID(request.GET.get("customer", ""))
            except ValueError:
                pass
            else:
                customer = Customer.objects.filter(pk=customer_id).first()
            request._credit_admin_customer = customer
        return request._credit_admin_customer

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

    @admin.action(description="Redeem selected credits (use each once)", permissions=["redeem"])
    def redeem_selected(self, request, queryset):
        actor = Actor.staff(request.user)
        self.apply_each(
            request,
            self._credits_for_action(queryset),
            lambda credit: services.credit_redeem(
                account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=actor
            ),
            done=("Redeemed %d credit", "Redeemed %d credits"),
            failed_message="Could not redeem",
        )

    @admin.action(description="Revoke selected credits…", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        credits = list(self._credits_for_action(queryset))
        form = CreditRevokeForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            actor = Actor.staff(request.user)
            reason = form.cleaned_data["reason"]
            self.apply_each(
                request,
                credits,
                lambda credit: services.credit_revoke(
                    account=credit.account,
                    customer_id=credit.customer_id,
                    credit_id=credit.pk,
                    reason=reason,
                    actor=actor,
                ),
                done=("Revoked %d credit", "Revoked %d credits"),
                failed_message="Could not revoke",
            )
            return None
        # Ask for the reason first, and say up front which credits will not be revoked.
        refused = {CustomerCredit.Status.REVOKED: "already revoked", CustomerCredit.Status.REDEEMED: "redeemed"}
        context = {
            **self.admin_site.each_context(request),
            "title": "Revoke credits",
            "opts": self.opts,
            "form": form,
            "rows": [(credit, credit_status_label(credit), refused.get(credit.status)) for credit in credits],
            "revocable_count": sum(1 for credit in credits if credit.status not in refused),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "revoke_selected",
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.revoke_template, context)

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

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_bulk_grant": self.has_add_permission(request)}
        return super().changelist_view(request, extra_context)

    def reverse_use_view(self, request, object_id, use_id):
        """GET asks for confirmation; POST reverses the use through the service."""
        if not self.has_redeem_permission(request):
            raise PermissionDenied
        credit = self.get_object(request, unquote(object_id))
        if credit is None:
            raise Http404("No such credit.")
        use = credit.use_records.filter(pk=use_id).first()
        if use is None:
            raise Http404("No such use of this credit.")
        if request.method == "POST":
            try:
                services.credit_use_reverse(
                    account=credit.account,
                    customer_id=credit.customer_id,
                    credit_id=credit.pk,
                    use_id=use.pk,
                    actor=Actor.staff(request.user),
                )
            except DomainError as exc:
                self.message_user(request, f"Could not reverse the use: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"Reversed the use of {credit} made at {use.used_at:%Y-%m-%d %H:%M}.")
            return HttpResponseRedirect(self._change_url(credit.pk))
        context = {
            **self.admin_site.each_context(request),
            "title": "Reverse a use",
            "subtitle": str(credit),
            "opts": self.opts,
            "credit": credit,
            "use": use,
            "change_url": self._change_url(credit.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.reverse_use_template, context)


# --- the customer page's credits piece (config/admin.py adds it) ----------------------------------


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


CUSTOMER_PAGE = CustomerPagePiece(
    inlines=(CustomerCreditInline,),
    panels={"benefits": customer_benefits},
    actions=(grant_credit_selected,),
    permissions={"grant": "credits.add_customercredit"},
    links=(customer_credit_links,),
)
