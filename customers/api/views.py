from drf_spectacular.utils import extend_schema

from config.api.schema import data_envelope, page_envelope
from config.kernel.exceptions import NotFound
from customers import selectors, services
from customers.api.family import CreditsFamilyView
from customers.filters import CustomerFilter
from customers.models import Membership

from .serializers import (
    CustomerInputSerializer,
    CustomerOutputSerializer,
    MembershipInputSerializer,
    MembershipOutputSerializer,
    MembershipTypeInputSerializer,
    MembershipTypeOutputSerializer,
)

READ = ("customers:read",)
WRITE = ("customers:write",)


class CustomerListView(CreditsFamilyView):
    required_scopes = {"GET": READ, "POST": WRITE}
    filterset_class = CustomerFilter
    error_statuses = {"GET": (422,), "POST": (422,)}

    def get_queryset(self):
        return selectors.customers_of(account=self.account)

    @extend_schema(operation_id="listCustomers", responses=page_envelope(CustomerOutputSerializer))
    def get(self, request):
        return self.page(self.filter_queryset(self.get_queryset()), CustomerOutputSerializer)

    @extend_schema(
        operation_id="createCustomer",
        request=CustomerInputSerializer,
        responses={201: data_envelope(CustomerOutputSerializer)},
    )
    def post(self, request):
        customer = services.customer_create(
            account=self.account, actor=self.actor, **self.valid(CustomerInputSerializer)
        )
        return self.one(customer, CustomerOutputSerializer, created=True)


class CustomerDetailView(CreditsFamilyView):
    required_scopes = {"GET": READ, "PATCH": WRITE}
    error_statuses = {"GET": (404,), "PATCH": (404, 422)}

    @extend_schema(operation_id="getCustomer", responses=data_envelope(CustomerOutputSerializer))
    def get(self, request, customer_id):
        return self.one(self.customer(), CustomerOutputSerializer)

    @extend_schema(
        operation_id="updateCustomer",
        request=CustomerInputSerializer,
        responses=data_envelope(CustomerOutputSerializer),
    )
    def patch(self, request, customer_id):
        customer = self.customer()
        values = self.valid(CustomerInputSerializer, partial=True)
        customer = services.customer_update(customer=customer, actor=self.actor, **values)
        return self.one(customer, CustomerOutputSerializer)


class MembershipTypeListView(CreditsFamilyView):
    required_scopes = {"GET": READ, "POST": WRITE}
    error_statuses = {"GET": (422,), "POST": (422,)}

    @extend_schema(operation_id="listMembershipTypes", responses=page_envelope(MembershipTypeOutputSerializer))
    def get(self, request):
        return self.page(selectors.membership_types_of(account=self.account), MembershipTypeOutputSerializer)

    @extend_schema(
        operation_id="createMembershipType",
        request=MembershipTypeInputSerializer,
        responses={201: data_envelope(MembershipTypeOutputSerializer)},
    )
    def post(self, request):
        values = self.valid(MembershipTypeInputSerializer)
        membership_type = services.membership_type_create(account=self.account, actor=self.actor, **values)
        return self.one(membership_type, MembershipTypeOutputSerializer, created=True)


class MembershipListView(CreditsFamilyView):
    required_scopes = {"GET": READ, "POST": WRITE}
    error_statuses = {"GET": (404, 422), "POST": (404, 422)}

    @extend_schema(operation_id="listCustomerMemberships", responses=page_envelope(MembershipOutputSerializer))
    def get(self, request, customer_id):
        return self.page(selectors.memberships_of(customer=self.customer()), MembershipOutputSerializer)

    @extend_schema(
        operation_id="createCustomerMembership",
        request=MembershipInputSerializer,
        responses={201: data_envelope(MembershipOutputSerializer)},
    )
    def post(self, request, customer_id):
        customer = self.customer()
        membership = services.membership_create(
            customer=customer, actor=self.actor, **self.valid(MembershipInputSerializer)
        )
        return self.one(membership, MembershipOutputSerializer, created=True)


class MembershipCancelView(CreditsFamilyView):
    required_scopes = {"POST": WRITE}
    error_statuses = {"POST": (404, 409)}

    @extend_schema(
        operation_id="cancelCustomerMembership", request=None, responses=data_envelope(MembershipOutputSerializer)
    )
    def post(self, request, customer_id, membership_id):
        customer = self.customer()
        membership = Membership.objects.filter(customer=customer, pk=membership_id).first()
        if membership is None:
            raise NotFound("Membership not found.", code="membership.not_found")
        membership = services.membership_cancel(membership=membership, actor=self.actor)
        return self.one(membership, MembershipOutputSerializer)
