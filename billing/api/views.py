"""The billing family (Frontier style), under /v1beta1/: one viewset per resource, each action routed to
the vendor's exact paths (billing/api/urls.py). Views check the form of ids, call a selector (the one
found-or-404 path) or a service, and serialize; they never query a model themselves."""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.fields import DateTimeField
from rest_framework.response import Response

from billing import selectors, services
from billing.models import BillingAccount

from . import parsing, serializers
from .family import BillingViewSet, PageTokenPagination

READ, WRITE, ADMIN = ("billing:read",), ("billing:write",), ("billing:admin",)
ORG = OpenApiParameter("org_id", str, OpenApiParameter.PATH, description="The organization (customer) id, a UUID.")
BILLING = OpenApiParameter("billing_id", str, OpenApiParameter.PATH, description="The billing account id, a UUID.")
ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The billing account id, a UUID.")
USAGE = OpenApiParameter("usage_id", str, OpenApiParameter.PATH, description="The usage id, a UUID.")
EXPAND = OpenApiParameter("expand", str, many=True, required=False, description="Accepted, ignored.")


class OrganizationViewSet(BillingViewSet):
    """Resolves the path's organization and billing account through the selectors."""

    def path_id(self, name: str):
        return parsing.uuid_of(self.kwargs[name], name)

    def organization(self):
        return selectors.organization_get(account=self.account, id=self.path_id("org_id"))

    def billing_account(self, name: str = "billing_id") -> BillingAccount:
        org_id, billing_id = self.path_id("org_id"), self.path_id(name)
        return selectors.billing_account_get(account=self.account, id=billing_id, org_id=org_id)


# --- billing accounts ----------------------------------------------------------------------------


class BillingAccountViewSet(OrganizationViewSet):
    action_scopes = {
        "list": READ,
        "create": ADMIN,
        "retrieve": READ,
        "balance": READ,
        "debited_total": READ,
        "limits": ADMIN,
        "admin_limits": ADMIN,
    }
    action_error_statuses = {
        "list": (400, 404),
        "create": (400, 404),
        "retrieve": (400, 404),
        "balance": (400, 404),
        "debited_total": (400, 404),
        "limits": (400, 404),
        "admin_limits": (400, 404),
    }

    @extend_schema(
        operation_id="listBillingAccounts", parameters=[ORG, EXPAND], responses=serializers.BillingAccountList
    )
    def list(self, request, org_id):
        accounts = selectors.billing_account_list(customer=self.organization())
        return Response({"billing_accounts": serializers.BillingAccountSerializer(accounts, many=True).data})

    @extend_schema(
        operation_id="createBillingAccount",
        parameters=[ORG],
        request=serializers.BillingAccountCreateInputSerializer,
        responses={200: serializers.BillingAccountEnvelope},
    )
    def create(self, request, org_id):
        data = self.valid(serializers.BillingAccountCreateInputSerializer)
        body = data.get("body")
        values = {"currency": data["currency"] or "VC", "credit_min": data["credit_min"]}
        if body is not None:
            values.update(
                currency=body["currency"] or data["currency"] or "VC",
                name=body["name"],
                email=body["email"],
                phone=body["phone"],
                address=dict(body.get("address") or {}),
                tax_data=[dict(tax) for tax in body.get("tax_data") or []],
                metadata=body["metadata"],
            )
        account = services.billing_account_create(
            account=self.account, org_id=self.path_id("org_id"), actor=self.actor, **values
        )
        return Response({"billing_account": serializers.BillingAccountSerializer(account).data})

    @extend_schema(
        operation_id="getBillingAccount",
        parameters=[
            ORG,
            ID,
            EXPAND,
            OpenApiParameter("with_payment_methods", bool, required=False, description="Accepted; always []."),
            OpenApiParameter("with_billing_details", bool, required=False, description="Accepted; always given."),
        ],
        responses=serializers.BillingAccountGetSerializer,
    )
    def retrieve(self, request, org_id, id):
        account = self.billing_account("id")
        return Response(
            {
                "billing_account": serializers.BillingAccountSerializer(account).data,
                "payment_methods": [],
                "billing_details": serializers.BillingDetailsSerializer(serializers.billing_details(account)).data,
            }
        )

    @extend_schema(operation_id="getBillingBalance", parameters=[ORG, BILLING], responses=serializers.BalanceEnvelope)
    def balance(self, request, org_id, billing_id):
        account = self.billing_account()
        balance = {"amount": account.balance, "currency": account.currency, "updated_at": account.updated_at}
        return Response({"balance": serializers.BalanceSerializer(balance).data})

    @extend_schema(
        operation_id="getBillingDebitedTotal", parameters=[ORG, BILLING], responses=serializers.DebitedEnvelope
    )
    def debited_total(self, request, org_id, billing_id):
        account = self.billing_account()
        # The vendor's BillingAccount.Balance message, every field present.
        debited = {
            "amount": selectors.debited_total(billing_account=account),
            "currency": account.currency,
            "updated_at": account.updated_at,
        }
        return Response({"debited": serializers.BalanceSerializer(debited).data})

    @extend_schema(
        operation_id="updateBillingLimits",
        parameters=[ORG, BILLING],
        request=serializers.LimitsUpdateSerializer,
        responses=serializers.BillingAccountEnvelope,
    )
    def limits(self, request, org_id, billing_id):
        account = self._update_limits("billing_id")
        return Response({"billing_account": serializers.BillingAccountSerializer(account).data})

    @extend_schema(
        operation_id="adminUpdateBillingAccountLimits",
        parameters=[ORG, ID],
        request=serializers.LimitsUpdateSerializer,
        responses=serializers.EmptySerializer,
    )
    def admin_limits(self, request, org_id, id):
        self._update_limits("id")
        return Response({})

    def _update_limits(self, name: str) -> BillingAccount:
        account = self.billing_account(name)
        values = self.valid(serializers.LimitsUpdateSerializer, instance=serializers.billing_details(account))
        credit_min = values["credit_min"]
        return services.billing_limits_update(billing_account_id=account.pk, credit_min=credit_min, actor=self.actor)


# --- transactions and top-ups --------------------------------------------------------------------


_TIMESTAMP = DateTimeField()


def _transaction_json(row: tuple) -> str:
    usage_id, billing_account_id, source, amount, kind, description, user_id, metadata, created, updated = row
    return json.dumps(
        {
            "id": str(usage_id),
            "customer_id": str(billing_account_id),
            "source": source,
            "amount": str(amount),
            "type": kind,
            "description": description,
            "user_id": user_id,
            "metadata": metadata,
            "created_at": _TIMESTAMP.to_representation(created),
            "updated_at": _TIMESTAMP.to_representation(updated),
        },
        separators=(",", ":"),
    )


def _stream(rows) -> StreamingHttpResponse:
    """`{"transactions": [...], "next_page_token": ""}`, written row by row as the cursor reads them."""

    def chunks():
        first = True
        buffer: list[str] = ['{"transactions":[']
        for row in rows:
            buffer.append(_transaction_json(row) if first else "," + _transaction_json(row))
            first = False
            if len(buffer) >= 500:
                yield "".join(buffer)
                buffer.clear()
        buffer.append('],"next_page_token":""}')
        yield "".join(buffer)

    return StreamingHttpResponse(chunks(), content_type="application/json")


class TransactionPagination(PageTokenPagination):
    items_key = "transactions"


class TransactionViewSet(OrganizationViewSet):
    """Transactions of one billing account, newest first. Without page_size or page_token, every
    transaction in the range, streamed (as the vendor answers them all); with them, keyset pages."""

    pagination_class = TransactionPagination
    serializer_class = serializers.TransactionSerializer
    action_scopes = {"list": READ, "org_list": READ, "top_up": ADMIN}
    action_error_statuses = {"list": (400, 404), "org_list": (400, 404), "top_up": (400, 404, 409)}

    def _answer(self, billing_account: BillingAccount, query: dict):
        queryset = selectors.transaction_list(
            billing_account=billing_account,
            start=query.get("start_range") or query.get("since"),
            end=query.get("end_range"),
        )
        page = self.paginate_queryset(queryset)
        if page is None:
            return _stream(selectors.transaction_stream(queryset))
        return self.get_paginated_response(serializers.TransactionSerializer(page, many=True).data)

    def _query(self, serializer_class) -> dict:
        params = self.request.query_params
        data = {name: params.get(name) for name in params if name != "expand"}
        data.pop("page_size", None)
        data.pop("page_token", None)
        data["expand"] = params.getlist("expand")
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        operation_id="listBillingTransactions",
        parameters=[ORG, BILLING, serializers.TransactionQuerySerializer],
        responses=serializers.TransactionSerializer(many=True),
    )
    def list(self, request, org_id, billing_id):
        account = self.billing_account()
        return self._answer(account, self._query(serializers.TransactionQuerySerializer))

    @extend_schema(
        operation_id="listOrganizationBillingTransactions",
        parameters=[ORG, serializers.OrgTransactionQuerySerializer],
        responses=serializers.TransactionSerializer(many=True),
    )
    def org_list(self, request, org_id):
        query = self._query(serializers.OrgTransactionQuerySerializer)
        customer = self.organization()
        if query.get("billing_id"):
            account = selectors.billing_account_get(account=self.account, id=query["billing_id"], org_id=customer.pk)
        else:
            account = selectors.billing_account_default_or_none(customer=customer)
            if account is None:  # the vendor answers an empty list for an organization without an account
                return _stream(iter(()))
        return self._answer(account, query)

    @extend_schema(
        operation_id="createBillingTopUp",
        parameters=[ORG, BILLING],
        request=serializers.TopUpInputSerializer,
        responses=serializers.TransactionEnvelope,
    )
    def top_up(self, request, org_id, billing_id):
        account = self.billing_account()
        data = self.valid(serializers.TopUpInputSerializer)
        tx, _created = services.billing_top_up(
            account=self.account,
            billing_account_id=account.pk,
            usage_id=data["id"],
            amount=data["amount"],
            source=data["source"] or "system.awarded",
            description=data["description"],
            metadata=data["metadata"],
            actor=self.actor,
        )
        return Response({"transaction": serializers.TransactionSerializer(tx).data})


# --- usages: report (the hand-parsed hot path), revert, check --------------------------------------


class UsageViewSet(OrganizationViewSet):
    action_scopes = {"report": WRITE, "report_in_path": WRITE, "revert": ADMIN, "admin_revert": ADMIN}
    action_error_statuses = {
        "report": (400, 404, 409),
        "report_in_path": (400, 404, 409),
        "revert": (400, 404, 409),
        "admin_revert": (400, 404, 409),
    }

    def _report(self, *, org_id, billing_id, project_id, raw_usages) -> Response:
        usages = parsing.usages(raw_usages)
        billing_account_id = services.resolve_billing_account(
            account=self.account, org_id=org_id, billing_id=billing_id, project_id=project_id
        )
        services.billing_usage_report(
            account=self.account, billing_account_id=billing_account_id, usages=usages, actor=self.actor
        )
        return Response({})

    @extend_schema(
        operation_id="createBillingUsage",
        summary="Create billing usage",
        request=serializers.UsageReportSerializer,
        responses=serializers.EmptySerializer,
    )
    def report(self, request):
        body = parsing.body_of(request, parsing.REPORT_FIELDS)
        return self._report(
            org_id=parsing.uuid_of(body.get("org_id"), "org_id", required=False),
            billing_id=parsing.uuid_of(body.get("billing_id"), "billing_id", required=False),
            project_id=parsing.uuid_of(body.get("project_id"), "project_id", required=False),
            raw_usages=body.get("usages"),
        )

    @extend_schema(
        operation_id="createBillingAccountUsage",
        parameters=[ORG, BILLING],
        request=serializers.UsageReportInPathSerializer,
        responses=serializers.EmptySerializer,
    )
    def report_in_path(self, request, org_id, billing_id):
        body = parsing.body_of(request, parsing.REPORT_IN_PATH_FIELDS)
        return self._report(
            org_id=self.path_id("org_id"),
            billing_id=self.path_id("billing_id"),
            project_id=parsing.uuid_of(body.get("project_id"), "project_id", required=False),
            raw_usages=body.get("usages"),
        )

    @extend_schema(
        operation_id="revertBillingUsage",
        request=serializers.RevertInputSerializer,
        responses=serializers.EmptySerializer,
    )
    def revert(self, request):
        data = self.valid(serializers.RevertInputSerializer)
        services.billing_usage_revert(
            account=self.account,
            org_id=data["org_id"],
            billing_id=data.get("billing_id"),
            usage_id=data["usage_id"],
            amount=data["amount"],
            actor=self.actor,
        )
        return Response({})

    @extend_schema(
        operation_id="adminRevertBillingUsage",
        parameters=[ORG, BILLING, USAGE],
        request=serializers.AdminRevertInputSerializer,
        responses=serializers.EmptySerializer,
    )
    def admin_revert(self, request, org_id, billing_id, usage_id):
        data = self.valid(serializers.AdminRevertInputSerializer)
        services.billing_usage_revert(
            account=self.account,
            org_id=self.path_id("org_id"),
            billing_id=self.path_id("billing_id"),
            usage_id=self.path_id("usage_id"),
            amount=data["amount"],
            actor=self.actor,
        )
        return Response({})


class CreditCheckViewSet(OrganizationViewSet):
    action_scopes = {"check": READ}
    action_error_statuses = {"check": (400, 404)}

    @extend_schema(
        operation_id="checkCreditEntitlement",
        request=serializers.CheckInputSerializer,
        responses=serializers.CheckResultSerializer,
    )
    def check(self, request):
        data = self.valid(serializers.CheckInputSerializer)
        customer = selectors.organization_get(account=self.account, id=data["org_id"])
        account = selectors.billing_account_default(customer=customer)
        return Response({"status": account.balance - data["amount"] >= account.credit_min})


# --- projects ------------------------------------------------------------------------------------


class ProjectViewSet(OrganizationViewSet):
    action_scopes = {"list": READ, "create": ADMIN}
    action_error_statuses = {"list": (400, 404), "create": (400, 404)}

    @extend_schema(operation_id="listProjects", parameters=[ORG], responses=serializers.ProjectList)
    def list(self, request, org_id):
        projects = selectors.project_list(customer=self.organization())
        return Response({"projects": serializers.ProjectSerializer(projects, many=True).data})

    @extend_schema(
        operation_id="createProject",
        parameters=[ORG],
        request=serializers.ProjectCreateInputSerializer,
        responses={200: serializers.ProjectEnvelope},
    )
    def create(self, request, org_id):
        name = self.valid(serializers.ProjectCreateInputSerializer)["name"]
        project = services.project_create(
            account=self.account, org_id=self.path_id("org_id"), name=name, actor=self.actor
        )
        return Response({"project": serializers.ProjectSerializer(project).data})
