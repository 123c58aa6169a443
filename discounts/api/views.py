"""The discounts family (Dintero style), under /v1/accounts/{aid}/: one ViewSet per resource, its actions
routed to the vendor's exact paths (api/urls.py). Views reach data only through selectors and services."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from config.kernel.exceptions import InvalidInput
from customers.api import tokens
from discounts import selectors, services
from discounts.errors import DiscountError

from .family import AID, DiscountsFamilyView, DiscountsViewSet
from .serializers import (
    ClaimInputSerializer,
    DiscountClaimOutputSerializer,
    DiscountCustomerSerializer,
    DiscountRuleInputSerializer,
    DiscountRuleOutputSerializer,
    DiscountRuleUpdateSerializer,
    DiscountUsageSerializer,
    GiveInputSerializer,
    ReceiptInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    rule_values,
)

READ, WRITE, ADMIN = ("read:discounts",), ("write:discounts",), ("admin:discounts",)
DID = OpenApiParameter("did", str, OpenApiParameter.PATH, description="The discount rule id (uuid).")
CUSTOMER_ID = OpenApiParameter(
    "customer_id", str, OpenApiParameter.PATH, description="The customer id you have defined for the customer."
)


def _state(request, allowed: tuple[str, ...]) -> str | None:
    state = request.query_params.get("state")
    if state is not None and state not in allowed:
        raise InvalidInput.single("state", f"state is one of {', '.join(allowed)}.", code=DiscountError.INVALID_STATE)
    return state


def _state_parameter(allowed, description: str) -> OpenApiParameter:
    return OpenApiParameter("state", str, required=False, enum=list(allowed), description=description)


class ApiClientOnly(BasePermission):
    def has_permission(self, request, view) -> bool:
        return getattr(request.user, "is_authenticated", False)


class AccessTokenView(DiscountsFamilyView):
    """Client credentials: Basic base64(client_id:secret) in, a signed JWT out."""

    permission_classes = [ApiClientOnly]
    pagination_class = None
    error_statuses = {"POST": (400,)}
    idempotency_store_answer = False  # a token is never stored at rest (nor replayed)

    @extend_schema(
        operation_id="createAccessToken",
        parameters=[AID],
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer},
        description="Authenticate with `Authorization: Basic base64(client_id:secret)`. `grant_type` may be left "
        "out (the vendor's example sends only `audience`); given, it must be `client_credentials`. The token works "
        "as a Bearer token on every family until it expires or the client is deactivated.",
    )
    def post(self, request, aid):
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("basic "):
            raise AuthenticationFailed("Use Basic authentication with the client id and secret.")
        body = self.valid(TokenInputSerializer)
        if body.get("grant_type", "client_credentials") != "client_credentials":
            raise InvalidInput.single(
                "grant_type",
                "Only the client_credentials grant is supported.",
                code=DiscountError.UNSUPPORTED_GRANT_TYPE,
            )
        token, lifetime = tokens.issue(self.client, audience=body.get("audience", ""))
        return Response(
            {"access_token": token, "token_type": "Bearer", "expires_in": lifetime},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},  # RFC 6749 5.1
        )


class DiscountRuleViewSet(DiscountsViewSet):
    """rules (list, create) and rules/{did} (retrieve, update, destroy)."""

    action_scopes = {"list": READ, "create": ADMIN, "retrieve": READ, "update": ADMIN, "destroy": ADMIN}
    action_error_statuses = {
        "list": (400, 404),
        "create": (400,),
        "retrieve": (400, 404),
        "update": (400, 404, 409),
        "destroy": (400, 404),
    }
    page_max = 100

    def get_object(self):
        return selectors.discount_rule_get(account=self.account, id=self.kwargs["did"])

    @extend_schema(
        operation_id="listDiscountRules",
        parameters=[AID, _state_parameter(selectors.STATES, "Default: every rule but the deleted ones.")],
        responses=DiscountRuleOutputSerializer(many=True),
    )
    def list(self, request, aid):
        state = _state(request, selectors.STATES)
        return self.listing(selectors.rules_of(account=self.account, state=state), DiscountRuleOutputSerializer)

    @extend_schema(
        operation_id="createDiscountRule",
        parameters=[AID],
        request=DiscountRuleInputSerializer,
        responses={201: DiscountRuleOutputSerializer},
        description="The vendor's shape: dates in `requirement.purchase_from`/`purchase_to` (the top-level names "
        "are kept as aliases). A field the product does not support is refused (400), never dropped.",
    )
    def create(self, request, aid):
        values = rule_values(self.valid(DiscountRuleInputSerializer))
        rule = services.discount_rule_create(account=self.account, actor=self.actor, **values)
        return Response(DiscountRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="getDiscountRule", parameters=[AID, DID], responses=DiscountRuleOutputSerializer)
    def retrieve(self, request, aid, did):
        return Response(DiscountRuleOutputSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="updateDiscountRule",
        parameters=[AID, DID],
        request=DiscountRuleUpdateSerializer,
        responses=DiscountRuleOutputSerializer,
        description="`reward` and `purchase_from` cannot change; `purchase_to` can only move later. The rule as "
        "read may be written back: its read-only fields are taken when unchanged, refused (400) when changed.",
    )
    def update(self, request, aid, did):
        rule = self.get_object()
        values = rule_values(self.valid(DiscountRuleUpdateSerializer, instance=rule))
        rule = services.discount_rule_update(rule=rule, actor=self.actor, **values)
        return Response(DiscountRuleOutputSerializer(rule).data)

    @extend_schema(
        operation_id="deleteDiscountRule",
        parameters=[AID, DID],
        responses={200: OpenApiResponse(DiscountRuleOutputSerializer, description="The deleted rule.")},
    )
    def destroy(self, request, aid, did):
        rule = services.discount_rule_delete(rule=self.get_object(), actor=self.actor)
        return Response(DiscountRuleOutputSerializer(rule).data)


GIVEN_STATES = ("active", "deleted", "all")


class DiscountRuleCustomerViewSet(DiscountsViewSet):
    """rules/{did}/customers: the customers a rule was given to."""

    action_scopes = {"list": READ, "create": WRITE}
    action_error_statuses = {"list": (400, 404), "create": (400, 404)}
    page_max = 1000

    @extend_schema(
        operation_id="listDiscountRuleCustomers",
        parameters=[AID, DID, _state_parameter(GIVEN_STATES, "Default: active.")],
        responses=DiscountCustomerSerializer(many=True),
    )
    def list(self, request, aid, did):
        rule = selectors.discount_rule_get(account=self.account, id=did)
        state = _state(request, GIVEN_STATES)
        return self.listing(selectors.given_refs_of(rule=rule, state=state), DiscountCustomerSerializer)

    @extend_schema(
        operation_id="giveDiscountRuleToCustomers",
        parameters=[AID, DID],
        request=GiveInputSerializer,
        responses={200: DiscountRuleOutputSerializer},
        description="Answers the rule, as the vendor does. Customers are your own ids; one never seen before is "
        "created. Idempotent: giving a rule twice changes nothing.",
    )
    def create(self, request, aid, did):
        rule = selectors.discount_rule_get(account=self.account, id=did)
        customers = self.valid(GiveInputSerializer)["customers"]
        services.discount_rule_give(rule=rule, customer_ids=customers, actor=self.actor)
        return Response(DiscountRuleOutputSerializer(rule).data)


class CustomerRuleViewSet(DiscountsViewSet):
    """customers/{customer_id}/rules: the rules a customer holds."""

    action_scopes = {"list": READ}
    action_error_statuses = {"list": (400,)}
    page_max = 100

    @extend_schema(
        operation_id="listCustomerDiscountRules",
        parameters=[AID, CUSTOMER_ID, _state_parameter(selectors.STATES, "Default: every rule but the deleted ones.")],
        responses=DiscountRuleOutputSerializer(many=True),
    )
    def list(self, request, aid, customer_id):
        state = _state(request, selectors.STATES)
        rules = selectors.customer_rules_of(account=self.account, customer_id=customer_id, state=state)
        return self.listing(rules, DiscountRuleOutputSerializer)


class DiscountUsageViewSet(DiscountsViewSet):
    """rules/{did}/usages: the seed's list of discount refs, and recording a receipt."""

    action_scopes = {"list": READ, "create": WRITE}
    action_error_statuses = {"list": (400, 404), "create": (400, 404, 409)}
    page_max = 1000

    @extend_schema(
        operation_id="getDiscountRefUsages",
        summary="Get discount ref usages",
        parameters=[AID, DID],
        responses=DiscountUsageSerializer(many=True),
    )
    def list(self, request, aid, did):
        rule = selectors.discount_rule_get(account=self.account, id=did)
        page = self.paginate_queryset(selectors.refs_of(rule=rule))
        for item in page:
            item.rule = rule
        return self.get_paginated_response(DiscountUsageSerializer(page, many=True).data)

    @extend_schema(
        operation_id="recordDiscountUsage",
        parameters=[AID, DID],
        request=ReceiptInputSerializer,
        responses={
            201: DiscountUsageSerializer,
            200: OpenApiResponse(DiscountUsageSerializer, description="A retry: nothing changed."),
        },
    )
    def create(self, request, aid, did):
        rule = selectors.discount_rule_get(account=self.account, id=did)
        receipt = services.Receipt(**self.valid(ReceiptInputSerializer))
        ref, created = services.discount_usage_record(rule=rule, receipt=receipt, actor=self.actor)
        return Response(
            DiscountUsageSerializer(selectors.discount_ref_usage_get(rule=rule, pk=ref.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DiscountClaimViewSet(DiscountsViewSet):
    """available_for_receipt/claims: a point of sale's claims of discount rewards."""

    action_scopes = {"list": READ, "create": WRITE}
    action_error_statuses = {"list": (400,), "create": (400, 409)}
    page_max = 100

    @extend_schema(
        operation_id="listDiscountClaims", parameters=[AID], responses=DiscountClaimOutputSerializer(many=True)
    )
    def list(self, request, aid):
        return self.listing(selectors.claims_of(account=self.account), DiscountClaimOutputSerializer)

    @extend_schema(
        operation_id="claimDiscounts",
        parameters=[AID],
        request=ClaimInputSerializer,
        responses={
            201: DiscountClaimOutputSerializer,
            200: OpenApiResponse(DiscountClaimOutputSerializer, description="A retry of an earlier `ref`."),
        },
        description="Each `discounts[].refs[]` entry records a `receipt_add` (usage ref `ref` = the entry's `id`) "
        "on the customer's discount ref of rule `discounts[].id`, with the usages endpoint's checks and limits; "
        "all or nothing. `ref` is unique per claim: the same body again is a retry (200), another body 409.",
    )
    def create(self, request, aid):
        body = self.valid(ClaimInputSerializer)
        claim, created = services.discount_claim_create(account=self.account, actor=self.actor, **body)
        return Response(
            DiscountClaimOutputSerializer(claim).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
