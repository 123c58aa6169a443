"""Staff pages for membership credit rules: create and edit through the services."""

from __future__ import annotations

from django.contrib import admin

from config.kernel.actors import Actor
from config.kernel.admin import ServiceAdmin, ServiceModelForm

from .. import services
from ..models import MembershipCreditRule


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
