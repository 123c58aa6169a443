"""What every view of the credits family (Trybe-style, under /customers/) shares."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response

from config.exceptions import NotFound
from customers import selectors as customer_selectors
from customers.models import Customer

from .dialects.credits import NAME
from .pagination import EnvelopePagination
from .views import FamilyAPIView


class CreditsFamilyView(FamilyAPIView):
    dialect = NAME
    pagination_class = EnvelopePagination

    def customer(self) -> Customer:
        customer = customer_selectors.customer_of(account=self.account, customer_id=self.kwargs["customer_id"])
        if customer is None:
            raise NotFound("Customer not found.", code="customer.not_found")
        return customer

    def one(self, instance, serializer_class, *, created: bool = False) -> Response:
        body = {"data": serializer_class(instance, context=self.get_serializer_context()).data}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def page(self, queryset, serializer_class) -> Response:
        items = self.paginate_queryset(queryset)
        data = serializer_class(items, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def valid(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
