from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from config.kernel.selectors import found
from config.kernel.values import uuid_or_none

from .errors import CustomerError
from .models import Account, Customer, Membership, MembershipType

# --- customers ------------------------------------------------------------------------------------------


def customers_of(*, account: Account) -> QuerySet[Customer]:
    return Customer.objects.filter(account=account).order_by("-created_at", "-id")


def customer_get(*, account: Account, id) -> Customer:
    return found(
        Customer.objects.filter(account=account),
        pk=id,
        code=CustomerError.CUSTOMER_NOT_FOUND,
        message="Customer not found.",
    )


# The identifiers a point of sale finds a customer by (the benefits family): each unique within an account.
CUSTOMER_IDENTIFIERS = ("number", "card_number", "barcode", "pin")


def customer_find(*, account: Account, **identifier) -> Customer:
    """The customer of `account` with exactly one identifier (number, card_number, barcode or pin)."""
    (field, value), *rest = identifier.items()
    assert field in CUSTOMER_IDENTIFIERS and not rest, identifier
    return found(
        Customer.objects.filter(account=account),
        code=CustomerError.CUSTOMER_NOT_FOUND,
        message="Customer not found.",
        **{field: value},
    )


# --- memberships ----------------------------------------------------------------------------------------


def membership_types_of(*, account: Account) -> QuerySet[MembershipType]:
    return MembershipType.objects.filter(account=account).order_by("-created_at", "-id")


def membership_type_get(*, account: Account, id) -> MembershipType:
    return found(
        MembershipType.objects.filter(account=account),
        pk=id,
        code=CustomerError.MEMBERSHIP_TYPE_NOT_FOUND,
        message="Membership type not found.",
    )


def memberships_of(*, customer: Customer) -> QuerySet[Membership]:
    return Membership.objects.filter(customer=customer).order_by("-started_at", "-id")


def customer_by_external_id(*, account: Account, external_id: str) -> Customer | None:
    """The account's customer an opaque client id names (Dintero-style `customer_id`): the one whose
    `external_ref` equals it, else the one whose id equals it; the oldest when several share the ref."""
    external_id = str(external_id)
    customer = Customer.objects.filter(account=account, external_ref=external_id).order_by("created_at", "id").first()
    if customer is None:
        pk = uuid_or_none(external_id)
        if pk is not None and str(pk) == external_id.lower():
            customer = Customer.objects.filter(account=account, pk=pk).first()
    return customer


def membership_get(*, account: Account, id, customer: Customer | None = None) -> Membership:
    """A membership of `account` (and of `customer`, when given: a path names both)."""
    queryset = Membership.objects.filter(account=account)
    if customer is not None:
        queryset = queryset.filter(customer=customer)
    return found(queryset, pk=id, code=CustomerError.MEMBERSHIP_NOT_FOUND, message="Membership not found.")


def customer_exact_match(term: str) -> Customer | None:
    """The one customer a desk's search term names exactly (card number, barcode, customer number, external
    reference or email, in any account); None when it names none or several."""
    term = term.strip()
    if not term:
        return None
    condition = Q(card_number=term) | Q(barcode=term) | Q(external_ref=term) | Q(email__iexact=term)
    if term.isascii() and term.isdigit() and len(term) <= 18:
        condition |= Q(number=int(term))
    matches = list(Customer.objects.filter(condition).order_by("pk")[:2])
    return matches[0] if len(matches) == 1 else None


# A customer number is a BigIntegerField; longer runs of digits cannot be one (and would overflow it).
CUSTOMER_NUMBER_TERM = re.compile(r"[0-9]{1,18}")


def customer_number_query(search_term: str, lookup: str) -> Q | None:
    """A filter on the customer number when the search term is one; None otherwise."""
    term = search_term.strip()
    if CUSTOMER_NUMBER_TERM.fullmatch(term):
        return Q(**{lookup: int(term)})
    return None
