"""The discounts family (Dintero style), under /v1/accounts/{aid}/."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from config.api.views import FamilyAPIView
from config.kernel.exceptions import InvalidInput, NotFound
from config.kernel.values import uuid_or_none
from customers.api import tokens
from discounts import selectors, services
from discounts.api import family as cursor
from discounts.api.family import NAME
from discounts.models import DiscountRule

from .serializers import (
    DiscountCustomerSerializer,
    DiscountRuleInputSerializer,
    DiscountRuleOutputSerializer,
    DiscountUsageSerializer,
    GiveInputSerializer,
    ReceiptInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
)

READ, WRITE, ADMIN = ("read:discounts",), ("write:discounts",), ("admin:discounts",)
ACCOUNT_ID = re.compile(r"^[PT]\d{8}$")
AID = OpenApiParameter("aid", str, OpenApiParameter.PATH, pattern=r"^[PT]\d{8}$", description="The account id.")
DID = OpenApiParameter("did", str, OpenApiParameter.PATH, description="The discount rule id (uuid).")
LIMIT = OpenApiParameter("limit", int, required=False, description="How many to return.")
STARTING_AFTER = OpenApiParameter(
    "starting_after", str, required=False, description="The id of the last object of the previous page."
)


class DiscountsFamilyView(FamilyAPIView):
    dialect = NAME
    pagination_class = None
    filter_backends = []

    def initial(self, request, *args, **kwargs):
        # Authentication and scopes first (401, 403), then the account of the path.
        super().initial(request, *args, **kwargs)
        aid = kwargs.get("aid", "")
        if not ACCOUNT_ID.match(aid):
            raise InvalidInput.single("aid", "An account id is P or T followed by 8 digits.", code="invalid_aid")
        if aid != request.user.account_id:
            raise PermissionDenied("The credentials are not valid for this account.")

    def rule(self, did) -> DiscountRule:
        rule = selectors.rules_of(account=self.account, state="all").filter(pk=uuid_or_none(did)).first()
        if rule is None:
            raise NotFound("Discount rule not found.", code="not_found")
        return rule

    def listing(self, items, serializer_class, headers) -> Response:
        return Response(serializer_class(items, many=True).data, headers=headers)

    def valid(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer


class ApiClientOnly(BasePermission):
    def has_permission(self, request, view) -> bool:
        return getattr(request.user, "is_authenticated", False)


class AccessTokenView(DiscountsFamilyView):
    """Client credentials: Basic base64(client_id:secret) in, a signed JWT out."""

    permission_classes = [ApiClientOnly]
    error_statuses = {"POST": (400,)}
    idempotency_store_answer = False  # a token is never stored at rest (nor replayed)

    @extend_schema(
        operation_id="createAccessToken",
        parameters=[AID],
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer},
        description="Authenticate with `Authorization: Basic base64(client_id:secret)`. The token works as a Bearer "
        "token on every family until it expires or the client is deactivated.",
    )
    def post(self, request, aid):
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("basic "):
            raise AuthenticationFailed("Use Basic authentication with the client id and secret.")
        body = self.valid(TokenInputSerializer).validated_data
        if body["grant_type"] != "client_credentials":
            raise InvalidInput.single(
                "grant_type", "Only the client_credentials grant is supported.", code="unsupported_grant_type"
            )
        token, lifetime = tokens.issue(self.client, audience=body.get("audience", ""))
        return Response(
            {"access_token": token, "token_type": "Bearer", "expires_in": lifetime},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},  # RFC 6749 5.1
        )


class DiscountRuleListView(DiscountsFamilyView):
    required_scopes = {"GET": READ, "POST": ADMIN}
    error_statuses = {"GET": (400,), "POST": (400,)}

    @extend_schema(
        operation_id="listDiscountRules",
        parameters=[
            AID,
            LIMIT,
            STARTING_AFTER,
            OpenApiParameter(
                "state",
                str,
                required=False,
                enum=list(selectors.STATES),
                description="Default: every rule but the deleted ones.",
            ),
        ],
        responses=DiscountRuleOutputSerializer(many=True),
    )
    def get(self, request, aid):
        state = request.query_params.get("state")
        if state is not None and state not in selectors.STATES:
            raise InvalidInput.single("state", f"state is one of {', '.join(selectors.STATES)}.", code="invalid_state")
        items, headers = cursor.page(request, selectors.rules_of(account=self.account, state=state), maximum=100)
        return self.listing(items, DiscountRuleOutputSerializer, headers)

    @extend_schema(
        operation_id="createDiscountRule",
        parameters=[AID],
        request=DiscountRuleInputSerializer,
        responses={201: DiscountRuleOutputSerializer},
    )
    def post(self, request, aid):
        values = self.valid(DiscountRuleInputSerializer).to_values()
        rule = services.discount_rule_create(account=self.account, actor=self.actor, **values)
        return Response(DiscountRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class DiscountRuleDetailView(DiscountsFamilyView):
    required_scopes = {"GET": READ, "PUT": ADMIN, "DELETE": ADMIN}
    error_statuses = {"GET": (400, 404), "PUT": (400, 404, 409), "DELETE": (400, 404)}

    @extend_schema(operation_id="getDiscountRule", parameters=[AID, DID], responses=DiscountRuleOutputSerializer)
    def get(self, request, aid, did):
        return Response(DiscountRuleOutputSerializer(self.rule(did)).data)

    @extend_schema(
        operation_id="updateDiscountRule",
        parameters=[AID, DID],
        request=DiscountRuleInputSerializer,
        responses=DiscountRuleOutputSerializer,
        description="`reward` and `purchase_from` cannot change; `purchase_to` can only move later.",
    )
    def put(self, request, aid, did):
        rule = self.rule(did)
        values = self.valid(DiscountRuleInputSerializer).to_values()
        rule = services.discount_rule_update(rule=rule, actor=self.actor, **values)
        return Response(DiscountRuleOutputSerializer(rule).data)

    @extend_schema(
        operation_id="deleteDiscountRule",
        parameters=[AID, DID],
        responses={200: OpenApiResponse(DiscountRuleOutputSerializer, description="The deleted rule.")},
    )
    def delete(self, request, aid, did):
        rule = services.discount_rule_delete(rule=self.rule(did), actor=self.actor)
        return Response(DiscountRuleOutputSerializer(rule).data)


class DiscountRuleCustomersView(DiscountsFamilyView):
    required_scopes = {"GET": READ, "POST": WRITE}
    error_statuses = {"GET": (400, 404), "POST": (400, 404)}

    @extend_schema(
        operation_id="listDiscountRuleCustomers",
        parameters=[AID, DID, LIMIT, STARTING_AFTER],
        responses=DiscountCustomerSerializer(many=True),
    )
    def get(self, request, aid, did):
        items, headers = cursor.page(request, selectors.given_refs_of(rule=self.rule(did)), maximum=1000)
        return self.listing(items, DiscountCustomerSerializer, headers)

    @extend_schema(
        operation_id="giveDiscountRuleToCustomers",
        parameters=[AID, DID],
        request=GiveInputSerializer,
        responses=DiscountCustomerSerializer(many=True),
        description="Idempotent: giving a rule twice changes nothing. Unknown customer ids: 400, nothing given.",
    )
    def post(self, request, aid, did):
        rule = self.rule(did)
        customers = self.valid(GiveInputSerializer).validated_data["customers"]
        refs = services.discount_rule_give(rule=rule, customer_ids=customers, actor=self.actor)
        return Response(DiscountCustomerSerializer(refs, many=True).data)


class DiscountUsagesView(DiscountsFamilyView):
    required_scopes = {"GET": READ, "POST": WRITE}
    error_statuses = {"GET": (400, 404), "POST": (400, 404, 409)}

    @extend_schema(
        operation_id="getDiscountRefUsages",
        summary="Get discount ref usages",
        parameters=[AID, DID, LIMIT, STARTING_AFTER],
        responses=DiscountUsageSerializer(many=True),
    )
    def get(self, request, aid, did):
        rule = self.rule(did)
        items, headers = cursor.page(request, selectors.refs_of(rule=rule), maximum=1000)
        for item in items:
            item.rule = rule
        return self.listing(items, DiscountUsageSerializer, headers)

    @extend_schema(
        operation_id="recordDiscountUsage",
        parameters=[AID, DID],
        request=ReceiptInputSerializer,
        responses={
            201: DiscountUsageSerializer,
            200: OpenApiResponse(DiscountUsageSerializer, description="A retry: nothing changed."),
        },
    )
    def post(self, request, aid, did):
        rule = self.rule(did)
        receipt = services.Receipt(**self.valid(ReceiptInputSerializer).validated_data)
        ref, created = services.discount_usage_record(rule=rule, receipt=receipt, actor=self.actor)
        ref = selectors.refs_of(rule=rule).get(pk=ref.pk)
        ref.rule = rule
        return Response(
            DiscountUsageSerializer(ref).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
