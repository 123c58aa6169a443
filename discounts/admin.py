"""Staff admin for discount rules (with their statistics) and discount refs (read-only, with entries).
Rules are created and changed through discounts.services; receipts are recorded only through the API,
so the admin never writes usage refs."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from config.kernel.actors import Actor
from config.kernel.admin import AccountZoneMixin, ReadOnlyInline, ServiceAdmin, ServiceModelForm
from customers.admin import CustomerPagePiece

from . import services
from .models import DiscountRef, DiscountRule, UsageRef

RULE_FORM_FIELDS = (
    "account",
    "name",
    "description",
    "active",
    "private",
    "purchase_from",
    "purchase_to",
    "reward_type",
    "reward_value",
    "requirement_stamp",
    "requirement_gross_amount",
    "limitation_repeat_usage",
    "limitation_reward_usage",
    "metadata",
)


class DiscountRuleForm(ServiceModelForm):
    class Meta:
        model = DiscountRule
        fields = RULE_FORM_FIELDS

    def perform(self, actor: Actor) -> DiscountRule:
        values = {k: v for k, v in self.cleaned_data.items() if k != "account"}
        if self.instance._state.adding:
            return services.discount_rule_create(account=self.cleaned_data["account"], actor=actor, **values)
        return services.discount_rule_update(rule=self.instance, actor=actor, **values)


@admin.register(DiscountRule)
class DiscountRuleAdmin(ServiceAdmin):
    form = DiscountRuleForm
    list_display = (
        "name",
        "account",
        "state_name",
        "reward_type",
        "reward_value",
        "private",
        "purchase_from",
        "purchase_to",
        "holders",
    )
    list_filter = ("account", "active", "private", "reward_type")
    search_fields = ("name", "=id")
    readonly_fields = ("statistics", "created_by", "updated_by", "deleted_at", "deleted_by")
    actions = ("delete_softly",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(holder_count=Count("refs"))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        immutable = ("account", "reward_type", "reward_value", "purchase_from")
        return (*immutable, *self.readonly_fields)

    def get_fields(self, request, obj=None):
        if obj is None:
            return RULE_FORM_FIELDS
        return (*RULE_FORM_FIELDS, *self.readonly_fields)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["fields"] = [f for f in RULE_FORM_FIELDS if f not in self.get_readonly_fields(request, obj)]
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description="state")
    def state_name(self, rule):
        return {"active": "Active", "inactive": "Paused", "deleted": "Deleted"}[rule.state]

    @admin.display(description="holders", ordering="holder_count")
    def holders(self, rule):
        return rule.holder_count

    @admin.display(description="statistics (all holders)")
    def statistics(self, rule):
        totals = DiscountRef.objects.filter(rule=rule).aggregate(
            holders=Count("id"), stamp=Sum("stamp"), used=Sum("used"), usage=Sum("usage"), amount=Sum("amount")
        )
        return ", ".join(f"{name} {value or 0}" for name, value in totals.items())

    @admin.action(description="Delete selected rules (soft: history is kept)", permissions=["change"])
    def delete_softly(self, request, queryset):
        actor = Actor.staff(request.user)
        for rule in queryset:
            services.discount_rule_delete(rule=rule, actor=actor)
        self.message_user(request, f"Deleted {queryset.count()} rule(s); their history is kept.")


class UsageRefInline(ReadOnlyInline):
    model = UsageRef
    fields = ("ref", "ref_type", "usage", "stamp", "amount", "purchase_at", "created_at", "created_by")
    readonly_fields = fields
    ordering = ("created_at", "id")


@admin.register(DiscountRef)
class DiscountRefAdmin(AccountZoneMixin, admin.ModelAdmin):
    list_display = ("rule", "customer", "given", "stamp", "used", "usage", "amount", "created_at")
    list_filter = ("rule", "given")
    list_select_related = ("rule", "customer")
    search_fields = ("customer__email", "customer__first_name", "customer__last_name", "=id")
    inlines = (UsageRefInline,)
    readonly_fields = (
        "account",
        "rule",
        "customer",
        "given",
        "stamp",
        "used",
        "usage",
        "amount",
        "created_at",
        "created_by",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the customer page's discounts piece (config/admin.py adds it) --------------------------------


class GiveDiscountForm(forms.Form):
    rule = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules


@admin.action(description="Give a discount rule to the selected customers", permissions=["give"])
def give_discount_selected(modeladmin, request, queryset):
    customers = list(queryset)
    if len({c.account_id for c in customers}) != 1:
        modeladmin.message_user(request, "Select customers of one account.", messages.ERROR)
        return None
    rules = DiscountRule.objects.filter(account_id=customers[0].account_id, deleted_at__isnull=True)
    form = GiveDiscountForm(request.POST if "apply" in request.POST else None, rules=rules)
    if form.is_bound and form.is_valid():
        rule = form.cleaned_data["rule"]
        ids = [c.pk for c in customers]
        had = DiscountRef.objects.filter(rule=rule, customer_id__in=ids, given=True).count()
        services.discount_rule_give(rule=rule, customer_ids=ids, actor=Actor.staff(request.user))
        gave = len(ids) - had
        message = f"Gave {rule} to {gave} customer{'' if gave == 1 else 's'}"
        if had:
            message += f"; {had} already had it"
        modeladmin.message_user(request, message + ".")
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Give a discount rule to the selected customers",
        "opts": modeladmin.opts,
        "form": form,
        "customers": customers,
        "action": "give_discount_selected",
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/customers/customer/give_discount.html", context)


def customer_stamp_summary(request, customer, admin_site):
    """Stamp card progress: for each rule with a stamp requirement the customer holds, the current
    stamp count of the requirement (as the discounts family's current_stamp)."""
    refs = DiscountRef.objects.filter(customer=customer, rule__deleted_at__isnull=True).select_related("rule")
    cards = []
    for ref in refs.order_by("rule__name", "rule_id"):
        required = ref.rule.requirement_stamp
        if not required:
            continue
        current = ref.stamp - required * ref.usage
        cards.append((ref.rule.name, current, required, ref.usage))
    return format_html(
        '<div class="summary-stamps"><h3>Stamp cards</h3>{}</div>',
        format_html(
            '<table id="summary-stamps"><thead><tr><th>rule</th><th>stamps</th><th>rewards used</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{} of {}</td><td>{}</td></tr>",
                cards,
            ),
        )
        if cards
        else format_html("<p>{}</p>", "none"),
    )


CUSTOMER_PAGE = CustomerPagePiece(
    actions=(give_discount_selected,),
    permissions={"give": "discounts.change_discountrule"},
    summaries=(customer_stamp_summary,),
)
