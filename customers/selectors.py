from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

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
    if found is not None:
        _touch(found)
    return found


def _touch(client: ApiClient) -> None:
    """Record last use at most once per API_CLIENT_LAST_USED_RESOLUTION seconds (no write per request)."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.API_CLIENT_LAST_USED_RESOLUTION)
    if client.last_used_at is None or now - client.last_used_at >= resolution:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


def api_client_for_secret(*, secret: str) -> ApiClient | None:
    # No credential holds a NUL, and PostgreSQL cannot compare one: no match, not a DataError.
    if len(secret) < SECRET_PREFIX_LENGTH or len(secret) > 200 or "\x00" in secret:
        return None
    candidates = ApiClient.objects.select_related("account").filter(
        secret_prefix=secret[:SECRET_PREFIX_LENGTH], is_active=True
    )
    return _matching(candidates, secret)


def api_client_for_credentials(*, client_id: str, secret: str) -> ApiClient | None:
    if not client_id or len(client_id) > 40 or len(secret) > 200 or "\x00" in client_id:
        return None
    candidates = ApiClient.objects.select_related("account").filter(client_id=client_id, is_active=True)
    return _matching(candidates, secret)


def customers_of(*, account: Account) -> QuerySet[Customer]:
    return Customer.objects.filter(account=account).order_by("-created_at", "-id")


def customer_of(*, account: Account, customer_id) -> Customer | None:
    return Customer.objects.filter(account=account, pk=customer_id).first()


def membership_types_of(*, account: Account) -> QuerySet[MembershipType]:
    return MembershipType.objects.filter(account=account).order_by("-created_at", "-id")


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
