"""Staff admin for discount rules (with their statistics) and discount refs (read-only, with entries).
Rules are created and changed through discounts.services; receipts are recorded only through the API,
so the admin never writes usage refs."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from config.kernel.actors import Actor, actor_name
from config.kernel.admin import (
    AccountZoneMixin,
    CustomerPagePiece,
    HistoryRow,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    ServiceModelForm,
    action_step,
    activate_zone_of,
    admin_page,
    posted,
)
from config.kernel.exceptions import DomainError
from config.kernel.values import uuid_or_none
from customers.models import Customer

from . import services
from .models import DiscountRef, DiscountRule, UsageRef

# The rule's fields the service writes, but those of the vendor's wire shape, which only the API sets.
RULE_FORM_FIELDS = (
    "account",
    *(name for name in services.RULE_FIELDS if name not in ("receipt_text", "campaign_id", "links")),
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
    own_pages = (("desk/", "desk_view", "desk"), ("give/", "give_view", "give"))
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

    # --- at the desk: a stamp, a reward, a rule given, from the customer page ---

    def desk_view(self, request):
        """POST from the customer page's stamp cards: add a stamp, or use the reward, recorded as a receipt
        through the service (the receipt reference was made when the page was shown, so a second click
        records nothing more)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("discounts.add_usageref"):
            raise PermissionDenied
        customer = _customer(request.POST.get("customer"))
        rule = DiscountRule.objects.filter(pk=uuid_or_none(request.POST.get("rule"))).first()
        what = request.POST.get("what")
        receipt_ref = request.POST.get("receipt", "")[:100]
        if customer is None or rule is None or rule.account_id != customer.account_id or what not in DESK_VERBS:
            raise Http404("No such stamp card.")
        activate_zone_of(customer.account)
        back = reverse("admin:customers_customer_change", args=[quote(customer.pk)], current_app=self.admin_site.name)
        receipt = services.Receipt(
            customer_id=str(customer.pk),
            ref=receipt_ref or f"desk-{secrets.token_hex(6)}",
            ref_type=UsageRef.RefType.ADD,
            usage=1 if what == "reward" else 0,
            stamp=1 if what == "stamp" else 0,
        )
        try:
            ref, created = services.discount_usage_record(rule=rule, receipt=receipt, actor=Actor.staff(request.user))
        except DomainError as exc:
            self.message_user(request, f"Could not {DESK_VERBS[what]} on {rule}: {exc.message}", messages.ERROR)
            return HttpResponseRedirect(back)
        stats = services.statistics(ref, rule)
        done = "Added a stamp to" if what == "stamp" else "Used the reward of"
        text = f"{done} {rule} for {customer}: {stats['current_stamp']} of {rule.requirement_stamp} stamps"
        if not created:
            text = f"Already recorded (receipt {receipt.ref}); nothing changed: {stats['current_stamp']} stamps"
        self.message_user(request, f"{text} (receipt {receipt.ref}).", messages.SUCCESS if created else messages.INFO)
        return HttpResponseRedirect(back)

    def give_view(self, request):
        """Give a rule to one customer from the customer page (?customer=<id>)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        customer = _customer(request.GET.get("customer"))
        if customer is None:
            raise Http404("No such customer.")
        activate_zone_of(customer.account)
        rules = DiscountRule.objects.filter(account_id=customer.account_id, deleted_at__isnull=True).order_by("name")
        back = reverse("admin:customers_customer_change", args=[quote(customer.pk)], current_app=self.admin_site.name)
        return action_step(
            self,
            request,
            GiveDiscountForm(posted(request), rules=rules),
            lambda data: give(request, data["rule"], [customer]),
            page=lambda form: give_page(
                self, request, form, [customer], title=f"Give a discount to {customer}", back=back
            ),
            done=lambda message: message,
            back=back,
            level=messages.INFO,
        )

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
class DiscountRefAdmin(AccountZoneMixin, ReadOnlyAdmin):
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
        modeladmin.message_user(request, give(request, form.cleaned_data["rule"], customers))
        return None
    title = "Give a discount rule to the selected customers"
    return give_page(modeladmin, request, form, customers, title=title, action="give_discount_selected")


def give_page(model_admin, request, form, customers, **context):
    """The page asking which rule to give to the customers (one from the customer page, or those selected)."""
    return admin_page(
        model_admin, request, "admin/customers/customer/give_discount.html", form=form, customers=customers, **context
    )


def give(request, rule: DiscountRule, customers) -> str:
    """Give the rule to the customers through the service; what was done, to say."""
    ids = [str(c.pk) for c in customers]
    had = DiscountRef.objects.filter(rule=rule, customer_id__in=ids, given=True).count()
    services.discount_rule_give(rule=rule, customer_ids=ids, actor=Actor.staff(request.user))
    gave = len(ids) - had
    message = f"Gave {rule} to {gave} customer{'' if gave == 1 else 's'}"
    if had:
        message += f"; {had} already had it"
    return message + "."


DESK_VERBS = {"stamp": "add a stamp", "reward": "use the reward"}


def _customer(value) -> Customer | None:
    pk = uuid_or_none(value)
    return Customer.objects.select_related("account").filter(pk=pk).first() if pk else None


def customer_stamp_summary(request, customer, admin_site):
    """Stamp cards: each stamp rule the customer holds or may collect (a public one), the stamps now (as the
    discounts family's current_stamp) and, for staff who may, "Add a stamp" and "Use the reward"."""
    refs = {
        ref.rule_id: ref
        for ref in DiscountRef.objects.filter(customer=customer, rule__deleted_at__isnull=True).select_related("rule")
    }
    rules = DiscountRule.objects.filter(
        account_id=customer.account_id, deleted_at__isnull=True, requirement_stamp__gt=0
    ).order_by("name", "id")
    may_record = request.user.has_perm("discounts.add_usageref")
    cards = []
    for rule in rules:
        ref = refs.get(rule.pk)
        if ref is None and (rule.private or not rule.active):
            continue
        required = rule.requirement_stamp
        current = ref.stamp - required * ref.usage if ref else 0
        buttons = []
        if may_record and rule.active:
            buttons.append(_desk_button("stamp", "Add a stamp", "add-stamp"))
            if current >= required:
                buttons.append(_desk_button("reward", "Use the reward", "use-reward"))
        cards.append(
            {"rule": rule, "name": rule.name, "current": current, "required": required,
             "rewards": ref.usage if ref else 0, "buttons": buttons}
        )  # fmt: skip
    context = {
        "cards": cards,
        "customer": customer,
        "desk_url": reverse("admin:discounts_discountrule_desk", current_app=admin_site.name),
    }
    return render_to_string("admin/discounts/customer_page/stamp_cards.html", context, request=request)


def _desk_button(what: str, label: str, css: str) -> dict:
    """A one-click form's button; its receipt reference is made now, so that sending it twice records it once."""
    return {"what": what, "label": label, "css": css, "receipt": f"desk-{secrets.token_hex(6)}"}


def customer_discount_links(request, customer_id, admin_site) -> list[tuple[str, str, str]]:
    if not request.user.has_perm("discounts.change_discountrule"):
        return []
    url = reverse("admin:discounts_discountrule_give", current_app=admin_site.name)
    return [("Give discount…", f"{url}?{urlencode({'customer': customer_id})}", "give-discount")]


def customer_discount_history(customer, admin_site) -> list[HistoryRow]:
    """The receipts recorded on the customer's discounts (stamps, rewards, amounts), the latest 500."""
    entries = (
        UsageRef.objects.filter(discount_ref__customer=customer)
        .select_related("discount_ref__rule", "created_by_user")
        .order_by("-created_at", "-id")[:500]
    )
    rows = []
    for entry in entries:
        counts = [f"{entry.stamp} stamp{'s' if entry.stamp != 1 else ''}"] * bool(entry.stamp)
        counts += [f"{entry.usage} reward{'s' if entry.usage != 1 else ''}"] * bool(entry.usage)
        counts += [f"amount {entry.amount:,}"] * bool(entry.amount)
        removed = entry.ref_type == UsageRef.RefType.REMOVE
        rows.append(
            HistoryRow(
                when=entry.created_at,
                what=f"Receipt {'removed' if removed else 'recorded'}: {', '.join(counts) or 'a purchase'}",
                subject=entry.discount_ref.rule.name,
                url=reverse(
                    "admin:discounts_discountref_change",
                    args=[quote(entry.discount_ref_id)],
                    current_app=admin_site.name,
                ),
                actor=actor_name(entry.created_by, entry.created_by_user),
                detail=f"receipt {entry.ref}",
            )
        )
    return rows


CUSTOMER_PAGE = CustomerPagePiece(
    actions=(give_discount_selected,),
    permissions={"give": "discounts.change_discountrule"},
    summaries=(customer_stamp_summary,),
    links=(customer_discount_links,),
    history=(customer_discount_history,),
)
