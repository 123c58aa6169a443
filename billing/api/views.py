"""The billing family (Frontier style), under /v1beta1/."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from billing import selectors, services
from billing.api.family import NAME
from billing.models import BillingAccount, Project
from config.api.views import FamilyAPIView
from config.kernel.exceptions import InvalidInput, NotFound

from . import parsing
from . import serializers as s

READ, WRITE, ADMIN = ("billing:read",), ("billing:write",), ("billing:admin",)
ORG = OpenApiParameter("org_id", str, OpenApiParameter.PATH, description="The organization (customer) id, a UUID.")
BILLING = OpenApiParameter("billing_id", str, OpenApiParameter.PATH, description="The billing account id, a UUID.")


class BillingFamilyView(FamilyAPIView):
    dialect = NAME
    pagination_class = None
    filter_backends = []

    def org_id(self):
        return parsing.uuid_of(self.kwargs["org_id"], "org_id")

    def billing_account(self) -> BillingAccount:
        billing_id = parsing.uuid_of(self.kwargs["billing_id"], "billing_id")
        found = BillingAccount.objects.filter(account=self.account, customer_id=self.org_id(), pk=billing_id).first()
        if found is None:
            raise NotFound(f"Billing account {billing_id} not found.")
        return found

    def organization(self):
        from customers.models import Customer

        customer = Customer.objects.filter(account=self.account, pk=self.org_id()).first()
        if customer is None:
            raise NotFound(f"Organization {self.kwargs['org_id']} not found.")
        return customer


def _report(view: BillingFamilyView, *, org_id, billing_id, project_id, raw_usages) -> Response:
    usages = parsing.usages(raw_usages)
    billing_account_id = services.resolve_billing_account(
        account=view.account, org_id=org_id, billing_id=billing_id, project_id=project_id
    )
    services.billing_usage_report(
        account=view.account, billing_account_id=billing_account_id, usages=usages, actor=view.actor
    )
    return Response({})


class UsageReportView(BillingFamilyView):
    required_scopes = {"POST": WRITE}
    error_statuses = {"POST": (400, 404, 409)}

    @extend_schema(
        operation_id="createBillingUsage",
        summary="Create billing usage",
        request=s.UsageReportSerializer,
        responses=s.EmptySerializer,
    )
    def post(self, request):
        body = parsing.body_of(request)
        return _report(
            self,
            org_id=parsing.uuid_of(body.get("org_id"), "org_id", required=False),
            billing_id=parsing.uuid_of(body.get("billing_id"), "billing_id", required=False),
            project_id=parsing.uuid_of(body.get("project_id"), "project_id", required=False),
            raw_usages=body.get("usages"),
        )


class AccountUsageReportView(BillingFamilyView):
    required_scopes = {"POST": WRITE}
    error_statuses = {"POST": (400, 404, 409)}

    @extend_schema(
        operation_id="createBillingAccountUsage",
        parameters=[ORG, BILLING],
        request=s.UsageReportInPathSerializer,
        responses=s.EmptySerializer,
    )
    def post(self, request, org_id, billing_id):
        body = parsing.body_of(request)
        return _report(
            self,
            org_id=self.org_id(),
            billing_id=parsing.uuid_of(billing_id, "billing_id"),
            project_id=parsing.uuid_of(body.get("project_id"), "project_id", required=False),
            raw_usages=body.get("usages"),
        )


class BalanceView(BillingFamilyView):
    required_scopes = {"GET": READ}
    error_statuses = {"GET": (400, 404)}

    @extend_schema(operation_id="getBillingBalance", parameters=[ORG, BILLING], responses=s.BalanceEnvelope)
    def get(self, request, org_id, billing_id):
        account = self.billing_account()
        balance = {"amount": account.balance, "currency": account.currency, "updated_at": account.updated_at}
        return Response({"balance": s.BalanceSerializer(balance).data})


class TransactionsView(BillingFamilyView):
    required_scopes = {"GET": READ}
    error_statuses = {"GET": (400, 404)}

    @extend_schema(
        operation_id="listBillingTransactions",
        parameters=[
            ORG,
            BILLING,
            OpenApiParameter("start_range", str, required=False, description="RFC 3339; inclusive."),
            OpenApiParameter("end_range", str, required=False, description="RFC 3339; exclusive."),
            OpenApiParameter("page_size", int, required=False, description="1 to 1000, default 100."),
            OpenApiParameter("page_token", str, required=False, description="next_page_token of the previous page."),
        ],
        responses=s.TransactionPage,
    )
    def get(self, request, org_id, billing_id):
        account = self.billing_account()
        params = request.query_params
        size_raw = params.get("page_size", "100")
        if not size_raw.isdigit() or not 1 <= int(size_raw) <= 1000:
            raise InvalidInput.single("page_size", "page_size must be from 1 to 1000.")
        token = params.get("page_token")
        items, more = selectors.transactions_page(
            billing_account=account,
            start=parsing.timestamp(params.get("start_range"), "start_range"),
            end=parsing.timestamp(params.get("end_range"), "end_range"),
            size=int(size_raw),
            after=parsing.decode_page_token(token) if token else None,
        )
        next_token = parsing.encode_page_token(items[-1].created_at, items[-1].pk) if more else ""
        return Response({"transactions": s.TransactionSerializer(items, many=True).data, "next_page_token": next_token})


class DebitedTotalView(BillingFamilyView):
    required_scopes = {"GET": READ}
    error_statuses = {"GET": (400, 404)}

    @extend_schema(operation_id="getBillingDebitedTotal", parameters=[ORG, BILLING], responses=s.DebitedEnvelope)
    def get(self, request, org_id, billing_id):
        account = self.billing_account()
        return Response(
            {"debited": {"amount": selectors.debited_total(billing_account=account), "currency": account.currency}}
        )


class CheckView(BillingFamilyView):
    required_scopes = {"POST": READ}
    error_statuses = {"POST": (400, 404)}

    @extend_schema(operation_id="checkBillingCredits", request=s.CheckSerializer, responses=s.CheckResultSerializer)
    def post(self, request):
        body = parsing.body_of(request)
        org_id = parsing.uuid_of(body.get("org_id"), "org_id")
        amount = parsing.int64(body.get("amount", 0), "amount", minimum=0)
        account = BillingAccount.objects.get(pk=services.resolve_billing_account(account=self.account, org_id=org_id))
        return Response({"status": account.balance - amount >= account.credit_min})


class RevertView(BillingFamilyView):
    required_scopes = {"POST": ADMIN}
    error_statuses = {"POST": (400, 404, 409)}

    @extend_schema(operation_id="revertBillingUsage", request=s.RevertSerializer, responses=s.EmptySerializer)
    def post(self, request):
        body = parsing.body_of(request)
        services.billing_usage_revert(
            account=self.account,
            org_id=parsing.uuid_of(body.get("org_id"), "org_id"),
            usage_id=parsing.uuid_of(body.get("usage_id"), "usage_id"),
            amount=parsing.int64(body.get("amount"), "amount", minimum=1),
            actor=self.actor,
        )
        return Response({})


class BillingAccountsView(BillingFamilyView):
    required_scopes = {"GET": READ, "POST": ADMIN}
    error_statuses = {"GET": (400, 404), "POST": (400, 404)}

    @extend_schema(operation_id="listBillingAccounts", parameters=[ORG], responses=s.BillingAccountList)
    def get(self, request, org_id):
        customer = self.organization()
        accounts = BillingAccount.objects.filter(customer=customer).order_by("created_at", "id")
        return Response({"billing_accounts": s.BillingAccountSerializer(accounts, many=True).data})

    @extend_schema(
        operation_id="createBillingAccount",
        parameters=[ORG],
        request=s.BillingAccountCreateSerializer,
        responses=s.BillingAccountEnvelope,
    )
    def post(self, request, org_id):
        body = parsing.body_of(request)
        currency = parsing.text(body.get("currency"), "currency", max_length=8) or "VC"
        credit_min = parsing.int64(body.get("credit_min", 0), "credit_min")
        account = services.billing_account_create(
            account=self.account, org_id=self.org_id(), currency=currency, credit_min=credit_min, actor=self.actor
        )
        return Response({"billing_account": s.BillingAccountSerializer(account).data})


class TopUpView(BillingFamilyView):
    required_scopes = {"POST": ADMIN}
    error_statuses = {"POST": (400, 404, 409)}

    @extend_schema(
        operation_id="createBillingTopUp",
        parameters=[ORG, BILLING],
        request=s.TopUpSerializer,
        responses=s.TransactionEnvelope,
    )
    def post(self, request, org_id, billing_id):
        account = self.billing_account()
        body = parsing.body_of(request)
        tx, _created = services.billing_top_up(
            account=self.account,
            billing_account_id=account.pk,
            usage_id=parsing.uuid_of(body.get("id"), "id"),
            amount=parsing.int64(body.get("amount"), "amount", minimum=1),
            source=parsing.text(body.get("source"), "source", max_length=255).lower() or "system.awarded",
            description=parsing.text(body.get("description"), "description"),
            metadata=parsing.obj(body.get("metadata"), "metadata"),
            actor=self.actor,
        )
        return Response({"transaction": s.TransactionSerializer(tx).data})


class LimitsView(BillingFamilyView):
    required_scopes = {"PUT": ADMIN}
    error_statuses = {"PUT": (400, 404)}

    @extend_schema(
        operation_id="updateBillingLimits",
        parameters=[ORG, BILLING],
        request=s.LimitsSerializer,
        responses=s.BillingAccountEnvelope,
    )
    def put(self, request, org_id, billing_id):
        account = self.billing_account()
        credit_min = parsing.int64(parsing.body_of(request).get("credit_min"), "credit_min")
        account = services.billing_limits_update(billing_account_id=account.pk, credit_min=credit_min, actor=self.actor)
        return Response({"billing_account": s.BillingAccountSerializer(account).data})


class ProjectsView(BillingFamilyView):
    required_scopes = {"GET": READ, "POST": ADMIN}
    error_statuses = {"GET": (400, 404), "POST": (400, 404)}

    @extend_schema(operation_id="listProjects", parameters=[ORG], responses=s.ProjectList)
    def get(self, request, org_id):
        projects = Project.objects.filter(customer=self.organization()).order_by("created_at", "id")
        return Response({"projects": s.ProjectSerializer(projects, many=True).data})

    @extend_schema(
        operation_id="createProject", parameters=[ORG], request=s.ProjectCreateSerializer, responses=s.ProjectEnvelope
    )
    def post(self, request, org_id):
        name = parsing.text(parsing.body_of(request).get("name"), "name", max_length=200).strip()
        if not name:
            raise InvalidInput.single("name", "A name is required.")
        project = services.project_create(account=self.account, org_id=self.org_id(), name=name, actor=self.actor)
        return Response({"project": s.ProjectSerializer(project).data})
