from __future__ import annotations

from django.db.models import QuerySet

from config.kernel.exceptions import NotFound
from config.kernel.values import uuid_or_none
from customers.models import Account

from .models import Endpoint


def frontier_endpoints(*, account: Account) -> QuerySet[Endpoint]:
    """The account's endpoints made through Frontier's admin API (not deleted), oldest first."""
    return Endpoint.objects.filter(account=account, kind=Endpoint.Kind.FRONTIER, deleted_at__isnull=True).order_by(
        "created_at", "id"
    )


def frontier_endpoint_get(*, account: Account, id) -> Endpoint:
    endpoint = frontier_endpoints(account=account).filter(pk=uuid_or_none(id)).first()
    if endpoint is None:
        raise NotFound("webhook not found")
    return endpoint
