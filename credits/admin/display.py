"""How a credit is named and shown on the staff pages (the credit pages and the customer page): its
source, status, uses and value, a link to it, and the buttons that act on it."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from config.kernel.display import local_time_text, money

from ..models import Coupon, CustomerCredit

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
    """`1/3`: uses of the limit; a monetary credit's uses alone (what is left limits it, see credit_value)."""
    if credit.monetary:
        return str(credit.uses)
    limit = credit.use_limit
    return f"{credit.uses}/{'∞' if limit is None else limit}"


def credit_value(credit: CustomerCredit):
    """A monetary credit's face value in its currency, and what is left of it once partly used; otherwise
    the revenue it recognises when used, in the account's currency."""
    coupon = credit.coupon
    if coupon.kind == Coupon.Kind.MONETARY:
        currency = coupon.currency or credit.account.currency
        face = money(coupon.value, currency)
        if credit.remaining_value is None or credit.remaining_value == coupon.value:
            return face
        return format_html("{} left of {}", money(credit.remaining_value, currency), face)
    return money(credit.revenue, credit.account.currency)


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


class CreditColumns:
    """A credit's columns wherever credits are listed: the credit list and page, and the customer page's
    credits."""

    @admin.display(description="status", ordering="computed_status")
    def status_label(self, credit):
        return credit_status_label(credit)

    @admin.display(description="source", ordering="source")
    def source_name(self, credit):
        return credit_source_name(credit)

    @admin.display(description="uses", ordering="uses")
    def uses_label(self, credit):
        return credit_uses_label(credit)

    @admin.display(description="value")
    def value(self, credit):
        return credit_value(credit)

    @admin.display(description="expires", ordering="expiry_date")
    def expiry_local(self, credit):
        return local_time_text(credit.expiry_date, credit.account) if credit.expiry_date else "never"

    @admin.display(description="issued", ordering="created_at")
    def issued_local(self, credit):
        return local_time_text(credit.created_at, credit.account)
