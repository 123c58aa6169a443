"""The customers part of the credits family: one viewset per resource, routed in customers/api/urls.py."""

from drf_spectacular.utils import extend_schema

from config.api.schema import data_envelope
from customers import selectors, services
from customers.api.family import CreditsFamilyViewSet
from customers.filters import CustomerFilter
from customers.models import Customer, Membership, MembershipType

from .serializers import (
    CustomerInputSerializer,
    CustomerOutputSerializer,
    CustomerUpdateSerializer,
    MembershipInputSerializer,
    MembershipOutputSerializer,
    MembershipTypeInputSerializer,
    MembershipTypeOutputSerializer,
)

READ = ("customers:read",)
WRITE = ("customers:write",)


class CustomerViewSet(CreditsFamilyViewSet):
    queryset = Customer.objects.none()  # the model, for the OpenAPI document; get_queryset scopes it
    filterset_class = CustomerFilter
    action_scopes = {"list": READ, "create": WRITE, "retrieve": READ, "partial_update": WRITE}
    action_error_statuses = {"list": (422,), "create": (422,), "retrieve": (404,), "partial_update": (404, 422)}

    def get_queryset(self):
        return selectors.customers_of(account=self.account)

    @extend_schema(operation_id="listCustomers", responses=CustomerOutputSerializer(many=True))
    def list(self, request):
        return self.page(self.get_queryset(), CustomerOutputSerializer)

    @extend_schema(
        operation_id="createCustomer",
        request=CustomerInputSerializer,
        responses={201: data_envelope(CustomerOutputSerializer)},
    )
    def create(self, request):
        customer = services.customer_create(
            account=self.account, actor=self.actor, **self.valid(CustomerInputSerializer)
        )
        return self.one(customer, CustomerOutputSerializer, created=True)

    @extend_schema(operation_id="getCustomer", responses=data_envelope(CustomerOutputSerializer))
    def retrieve(self, request, customer_id):
        return self.one(self.customer(), CustomerOutputSerializer)

    @extend_schema(
        operation_id="updateCustomer",
        request=CustomerUpdateSerializer,
        responses=data_envelope(CustomerOutputSerializer),
    )
    def partial_update(self, request, customer_id):
        customer = self.customer()
        values = self.valid(CustomerUpdateSerializer, instance=customer, partial=True)
        customer = services.customer_update(customer=customer, actor=self.actor, **values)
        return self.one(customer, CustomerOutputSerializer)


class MembershipTypeViewSet(CreditsFamilyViewSet):
    queryset = MembershipType.objects.none()
    action_scopes = {"list": READ, "create": WRITE}
    action_error_statuses = {"list": (422,), "create": (422,)}

    def get_queryset(self):
        return selectors.membership_types_of(account=self.account)

    @extend_schema(operation_id="listMembershipTypes", responses=MembershipTypeOutputSerializer(many=True))
    def list(self, request):
        return self.page(self.get_queryset(), MembershipTypeOutputSerializer)

    @extend_schema(
        operation_id="createMembershipType",
        request=MembershipTypeInputSerializer,
        responses={201: data_envelope(MembershipTypeOutputSerializer)},
    )
    def create(self, request):
        values = self.valid(MembershipTypeInputSerializer)
        membership_type = services.membership_type_create(account=self.account, actor=self.actor, **values)
        return self.one(membership_type, MembershipTypeOutputSerializer, created=True)


class MembershipViewSet(CreditsFamilyViewSet):
    """A customer's memberships (under the customer's path)."""

    queryset = Membership.objects.none()
    action_scopes = {"list": READ, "create": WRITE, "cancel": WRITE}
    action_error_statuses = {"list": (404, 422), "create": (404, 422), "cancel": (404, 409)}

    def get_queryset(self):
        return selectors.memberships_of(customer=self.customer())

    @extend_schema(operation_id="listCustomerMemberships", responses=MembershipOutputSerializer(many=True))
    def list(self, request, customer_id):
        return self.page(self.get_queryset(), MembershipOutputSerializer)

    @extend_schema(
        operation_id="createCustomerMembership",
        request=MembershipInputSerializer,
        responses={201: data_envelope(MembershipOutputSerializer)},
    )
    def create(self, request, customer_id):
        customer = self.customer()
        membership = services.membership_create(
            customer=customer, actor=self.actor, **self.valid(MembershipInputSerializer)
        )
        return self.one(membership, MembershipOutputSerializer, created=True)

    @extend_schema(
        operation_id="cancelCustomerMembership", request=None, responses=data_envelope(MembershipOutputSerializer)
    )
    def cancel(self, request, customer_id, membership_id):
        membership = selectors.membership_get(account=self.account, customer=self.customer(), id=membership_id)
        membership = services.membership_cancel(membership=membership, actor=self.actor)
        return self.one(membership, MembershipOutputSerializer)
