"""Money and time as staff read them, shared by every app's staff pages: amounts in the currency's own
units (babel's CLDR data), times in the account's zone with the zone's name."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_currency, format_decimal, get_currency_precision
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html

from config.kernel.zones import zone_named

# --- money ----------------------------------------------------------

MONEY_LOCALE = "en"

# A code that is not a currency (billing's "VC", virtual credits) is shown as a whole number.
NOT_MONEY = {"VC"}


def currency_digits(currency: str | None) -> int | None:
    """How many digits a currency's minor unit has (2 for NOK, 0 for JPY, 3 for KWD, from babel's CLDR
    data); None for a code that is not money."""
    code = (currency or "").upper()
    if not code or code in NOT_MONEY or len(code) != 3:
        return None
    return get_currency_precision(code)


def money_text(minor: int | None, currency: str | None) -> str:
    """`NOK 200.00` for 20000 minor units of NOK (babel formats it); a plain number for a code that is
    not money."""
    if minor is None:
        return "—"
    digits = currency_digits(currency)
    if digits is None:
        return f"{format_decimal(minor, locale=MONEY_LOCALE)} {(currency or '').upper()}".strip()
    amount = Decimal(minor).scaleb(-digits)
    return format_currency(amount, currency.upper(), format="¤¤ #,##0.00", locale=MONEY_LOCALE, currency_digits=True)


def money(minor: int | None, currency: str | None):
    """The amount as people read it, in the currency (minor units only in CSV columns named so)."""
    if minor is None:
        return "—"
    return format_html('<span class="money">{}</span>', money_text(minor, currency))


def to_minor(amount: Decimal, currency: str | None) -> int:
    """An amount typed in the currency (200.50 NOK) as minor units (20050); ValidationError when it has
    more decimals than the currency has."""
    digits = currency_digits(currency)
    if digits is None:
        digits = 0
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ValidationError(
            f"{currency} has {digits} decimal{'s' if digits != 1 else ''}." if digits else f"{currency}: whole numbers."
        )
    return int(minor)


def from_minor(minor: int | None, currency: str | None) -> Decimal | None:
    if minor is None:
        return None
    digits = currency_digits(currency) or 0
    return Decimal(minor).scaleb(-digits)


class MoneyField(forms.DecimalField):
    """An amount typed in currency units (e.g. 200.50); the form turns it into minor units with to_minor
    once it knows the currency."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("max_digits", 22)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("step", "0.01")
        self.widget.attrs.setdefault("inputmode", "decimal")


def account_zone(account) -> ZoneInfo:
    return zone_named(account.timezone)


def local_time_text(moment: datetime | None, account) -> str:
    """A time in the account's zone, with the zone's name: `2026-12-03 13:05 Europe/Oslo` (no account:
    the active zone's)."""
    if moment is None:
        return "—"
    zone = account_zone(account) if account is not None else timezone.get_current_timezone()
    try:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
    except (OverflowError, ValueError):  # past the calendar in that zone (kept out by every input since)
        return f"{moment:%Y-%m-%d %H:%M} UTC"


def iso(moment) -> str:
    return moment.isoformat() if moment is not None else ""
