from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Model, QuerySet
from django.db.models.signals import post_save
from django.utils import timezone

from config.kernel.exceptions import NotFound
from config.kernel.values import uuid_or_none

from .errors import CustomerError
from .models import Account, ApiClient, Customer, Membership, MembershipType

SECRET_PREFIX_LENGTH = 12


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _matching(candidates, secret: str) -> ApiClient | None:
    digest = secret_digest(secret)
    found = None
    for client in candidates:
        # Compare every candidate, in constant time, so timing tells nothing.
        if hmac.compare_digest(client.secret_hash, digest):
            found = client
    return found


def _touch(client: ApiClient) -> None:
    """Record last use at most once per API_CLIENT_LAST_USED_RESOLUTION seconds (no write per request)."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.API_CLIENT_LAST_USED_RESOLUTION)
    if client.last_used_at is None or now - client.last_used_at >= resolution:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


# --- the per-process cache of authenticated clients ----------------------------------------------------
# Reading the client row (and compiling that query) was a fifth of an API request's CPU. Each server
# process therefore keeps the clients it authenticated for API_CLIENT_CACHE_SECONDS, keyed by the SHA-256
# digest of the credential as presented (secret, or client_id and secret), so a cache hit is exactly as
# strict as the lookup: the same digest, the same client. A change to a client (deactivation, new
# scopes, new name) applies at once in the process that saved it (post_save below) and within
# API_CLIENT_CACHE_SECONDS in every other process; 0 turns the cache off. Failed lookups are never
# cached. The cached object is shared by the requests of the process: nothing may modify it (the access
# token path builds its own).
_cache: dict[tuple, tuple[float, ApiClient]] = {}
_CACHE_MAX = 4096


def _cached(key: tuple) -> ApiClient | None:
    entry = _cache.get(key)
    if entry is None:
        return None
    if entry[0] <= time.monotonic():
        _cache.pop(key, None)
        return None
    return entry[1]


def _remember(key: tuple, client: ApiClient) -> None:
    seconds = settings.API_CLIENT_CACHE_SECONDS
    if seconds <= 0:
        return
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[key] = (time.monotonic() + seconds, client)


def forget_api_client(client_pk) -> None:
    """Drop a client from this process's cache (called whenever an ApiClient row is saved here)."""
    for key, (_, client) in list(_cache.items()):
        if client.pk == client_pk:
            _cache.pop(key, None)


def _forget_saved(sender, instance, **kwargs) -> None:
    forget_api_client(instance.pk)


post_save.connect(_forget_saved, sender=ApiClient, dispatch_uid="customers.selectors.forget_api_client")


def _authenticated(key: tuple, lookup) -> ApiClient | None:
    client = _cached(key)
    if client is None:
        client = lookup()
        if client is None:
            return None
        _remember(key, client)
    _touch(client)
    return client


def api_client_for_secret(*, secret: str) -> ApiClient | None:
    # No credential holds a NUL, and PostgreSQL cannot compare one: no match, not a DataError.
    if len(secret) < SECRET_PREFIX_LENGTH or len(secret) > 200 or "\x00" in secret:
        return None

    def lookup() -> ApiClient | None:
        candidates = ApiClient.objects.select_related("account").filter(
            secret_prefix=secret[:SECRET_PREFIX_LENGTH], is_active=True
        )
        return _matching(candidates, secret)

    return _authenticated(("secret", secret_digest(secret)), lookup)


def api_client_for_credentials(*, client_id: str, secret: str) -> ApiClient | None:
    if not client_id or len(client_id) > 40 or len(secret) > 200 or "\x00" in client_id:
        return None

    def lookup() -> ApiClient | None:
        candidates = ApiClient.objects.select_related("account").filter(client_id=client_id, is_active=True)
        return _matching(candidates, secret)

    return _authenticated(("credentials", client_id, secret_digest(secret)), lookup)


# --- found or not found: the one way every app fetches one object --------------------------------------


def found(queryset: QuerySet, *, code: str, message: str, **lookup) -> Model:
    """The one object of `queryset` matching `lookup`, or NotFound with the entity's code. A primary key that
    is not a UUID finds nothing (never a database error)."""
    if "pk" in lookup:
        lookup["pk"] = uuid_or_none(lookup["pk"])
        if lookup["pk"] is None:
            raise NotFound(message, code=code)
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise NotFound(message, code=code)
    return obj


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
        from config.kernel.values import uuid_or_none

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
