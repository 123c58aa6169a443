from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView

from customers.actors import Actor
from customers.models import Account, ApiClient

from . import idempotency


class FamilyAPIView(GenericAPIView):
    """Base of every API view: names its family's dialect and its scopes per method, and gives the
    caller's account and actor. Views never reach past `self.account`."""

    dialect: str = ""
    required_scopes: dict[str, tuple[str, ...]] = {}

    @property
    def client(self) -> ApiClient:
        return self.request.user

    @property
    def account(self) -> Account:
        return self.request.user.account

    @property
    def actor(self) -> Actor:
        return Actor.client(self.request.user)

    def filtered(self, queryset: QuerySet) -> QuerySet:
        return self.filter_queryset(queryset)

    # --- Idempotency-Key (config/api/idempotency.py) ---

    idempotency_record = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.idempotency_record = idempotency.begin(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.idempotency_record is not None:
            idempotency.finish(self.idempotency_record, response)
            self.idempotency_record = None
        return response
