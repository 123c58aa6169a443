"""Staff pages for coupons: create and edit through the services, deactivate selected."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError

from config.kernel.actors import Actor
from config.kernel.admin import ServiceAdmin, ServiceModelForm
from config.kernel.display import MoneyField, from_minor, money, to_minor

from .. import services
from ..models import Coupon


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
