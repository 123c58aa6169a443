"""The credits part of the credits family: one viewset per resource, routed in credits/api/urls.py. Views
only read the request, call a selector or a service, and answer; every rule lives in credits.services."""

from django.http.request import RawPostDataException
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from config.api.schema import data_envelope
from credits import selectors, services
from credits.filters import CustomerCreditFilter
from credits.models import Coupon, CustomerCredit, MembershipCreditRule
from customers.api.family import CreditsFamilyViewSet

from .serializers import (
    CouponInputSerializer,
    CouponOutputSerializer,
    CouponUpdateSerializer,
    CreditIssueInputSerializer,
    CreditOutputSerializer,
    CreditRedeemInputSerializer,
    CreditRevokeInputSerializer,
    CreditUseListSerializer,
    CreditUseOutputSerializer,
    MembershipCreditRuleInputSerializer,
    MembershipCreditRuleOutputSerializer,
    MembershipCreditRuleUpdateSerializer,
)

CREDITS_READ = ("credits:read",)
CREDITS_WRITE = ("credits:write",)
CREDITS_REVOKE = ("credits:revoke",)
COUPONS_WRITE = ("coupons:write",)


def _empty_object(request) -> bool:
    """Whether the body is the usual redeem's `{}` (or none), which names no field: every field of
    CreditRedeemInputSerializer is optional without a default, so validating it answers no values. The
    exact two bytes `{}` sent as application/json are what the JSON parser would read as `{}`, so they are
    known without parsing (two bytes: reading them raises no size limit the parser would not); anything
    else is parsed (and then validated unless it is an empty object)."""
    if request.META.get("CONTENT_LENGTH") == "2" and request.content_type == "application/json":
        try:
            if request.body == b"{}":
                return True
        except RawPostDataException:  # the body was parsed already: read what was parsed
            pass
    data = request.data
    return type(data) is dict and not data


class CustomerCreditViewSet(CreditsFamilyViewSet):
    """A customer's credits, their uses, and the verbs on them (redeem, revoke, reverse a use)."""

    queryset = CustomerCredit.objects.none()  # the model, for the OpenAPI document; get_queryset scopes it
    filterset_class = CustomerCreditFilter
    action_scopes = {
        "list": CREDITS_READ,
        "create": CREDITS_WRITE,
        "retrieve": CREDITS_READ,
        "destroy": CREDITS_REVOKE,
        "redeem": CREDITS_WRITE,
        "uses": CREDITS_READ,
        "reverse": CREDITS_WRITE,
    }
    action_error_statuses = {
        "list": (404, 422),
        "create": (404, 422),
        "retrieve": (404,),
        "destroy": (400, 404, 422),
        "redeem": (404, 409, 422),
        "uses": (404,),
        "reverse": (404, 409),
    }

    def get_queryset(self):
        return selectors.credits_of(customer=self.customer())

    def credit(self) -> CustomerCredit:
        return selectors.credit_get(
            account=self.account, customer_id=self.kwargs["customer_id"], id=self.kwargs["credit_id"]
        )

    @extend_schema(operation_id="listCustomerCredits", responses=CreditOutputSerializer(many=True))
    def list(self, request, customer_id):
        return self.page(self.get_queryset(), CreditOutputSerializer)

    @extend_schema(
        operation_id="createCustomerCredit",
        request=CreditIssueInputSerializer,
        responses={201: data_envelope(CreditOutputSerializer)},
    )
    def create(self, request, customer_id):
        customer = self.customer()
        values = self.valid(CreditIssueInputSerializer, customer=customer)
        credit = services.credit_issue(
            customer=customer,
            coupon_id=values["coupon_id"],
            membership_id=values.get("membership_id"),
            expiry_date=values.get("expiry_date"),
            revenue=values.get("revenue"),
            source=CustomerCredit.Source.API,
            actor=self.actor,
        )
        return self.one(credit, CreditOutputSerializer, created=True)

    @extend_schema(operation_id="getCustomerCredit", responses=data_envelope(CreditOutputSerializer))
    def retrieve(self, request, customer_id, credit_id):
        return self.one(self.credit(), CreditOutputSerializer)

    @extend_schema(
        operation_id="deleteCustomerCredit",
        description="Revokes the credit so that it can no longer be redeemed. A redeemed credit cannot be revoked.",
        parameters=[OpenApiParameter("reason", str, required=False, description="Why it is revoked.")],
        request=CreditRevokeInputSerializer,
        responses={200: data_envelope(CreditOutputSerializer)},
    )
    def destroy(self, request, customer_id, credit_id):
        body = self.valid(CreditRevokeInputSerializer) if request.data else {}
        reason = body.get("reason")
        if not reason and "reason" in request.query_params:
            # The query parameter is checked as the body field is (length, no NUL characters).
            reason = self.valid(CreditRevokeInputSerializer, data={"reason": request.query_params["reason"]})["reason"]
        credit = services.credit_revoke(
            account=self.account, customer_id=customer_id, credit_id=credit_id, reason=reason, actor=self.actor
        )
        return self.one(credit, CreditOutputSerializer)

    @extend_schema(
        operation_id="redeemCustomerCredit",
        description="Uses the credit once. A reference already recorded on an unreversed use answers the credit "
        "unchanged, so a retried redeem never uses twice. A monetary credit can be used in parts: `amount` "
        "(minor units) is what this use spends of its `remaining_value`; it is `redeemed` when nothing is left.",
        request=CreditRedeemInputSerializer,
        responses={200: data_envelope(CreditOutputSerializer)},
    )
    def redeem(self, request, customer_id, credit_id):
        values = {} if _empty_object(request) else self.valid(CreditRedeemInputSerializer)
        credit = services.credit_redeem(
            account=self.account,
            customer_id=customer_id,
            credit_id=credit_id,
            reference=values.get("reference") or None,
            note=values.get("note") or "",
            amount=values.get("amount"),
            actor=self.actor,
        )
        return self.one(credit, CreditOutputSerializer)

    @extend_schema(operation_id="listCustomerCreditUses", responses=CreditUseListSerializer)
    def uses(self, request, customer_id, credit_id):
        # Not paged (spec: `{"data": [...]}`): a credit has few uses.
        uses = CreditUseOutputSerializer(selectors.uses_of(credit=self.credit()), many=True).data
        return Response({"data": uses})

    @extend_schema(
        operation_id="reverseCustomerCreditUse", request=None, responses=data_envelope(CreditOutputSerializer)
    )
    def reverse(self, request, customer_id, credit_id, use_id):
        credit = services.credit_use_reverse(
            account=self.account, customer_id=customer_id, credit_id=credit_id, use_id=use_id, actor=self.actor
        )
        return self.one(credit, CreditOutputSerializer)


class CouponViewSet(CreditsFamilyViewSet):
    queryset = Coupon.objects.none()
    action_scopes = {
        "list": CREDITS_READ,
        "create": COUPONS_WRITE,
        "retrieve": CREDITS_READ,
        "partial_update": COUPONS_WRITE,
    }
    action_error_statuses = {"list": (422,), "create": (422,), "retrieve": (404,), "partial_update": (404, 422)}

    def get_queryset(self):
        return selectors.coupons_of(account=self.account)

    @extend_schema(operation_id="listCoupons", responses=CouponOutputSerializer(many=True))
    def list(self, request):
        return self.page(self.get_queryset(), CouponOutputSerializer)

    @extend_schema(
        operation_id="createCoupon",
        request=CouponInputSerializer,
        responses={201: data_envelope(CouponOutputSerializer)},
    )
    def create(self, request):
        coupon = services.coupon_create(account=self.account, actor=self.actor, **self.valid(CouponInputSerializer))
        return self.one(coupon, CouponOutputSerializer, created=True)

    @extend_schema(operation_id="getCoupon", responses=data_envelope(CouponOutputSerializer))
    def retrieve(self, request, coupon_id):
        return self.one(selectors.coupon_get(account=self.account, id=coupon_id), CouponOutputSerializer)

    @extend_schema(
        operation_id="updateCoupon", request=CouponUpdateSerializer, responses=data_envelope(CouponOutputSerializer)
    )
    def partial_update(self, request, coupon_id):
        coupon = selectors.coupon_get(account=self.account, id=coupon_id)
        values = self.valid(CouponUpdateSerializer, instance=coupon, partial=True)
        coupon = services.coupon_update(coupon=coupon, actor=self.actor, **values)
        return self.one(coupon, CouponOutputSerializer)


class MembershipCreditRuleViewSet(CreditsFamilyViewSet):
    queryset = MembershipCreditRule.objects.none()
    action_scopes = {
        "list": CREDITS_READ,
        "create": COUPONS_WRITE,
        "retrieve": CREDITS_READ,
        "partial_update": COUPONS_WRITE,
    }
    action_error_statuses = {"list": (422,), "create": (422,), "retrieve": (404,), "partial_update": (404, 422)}

    def get_queryset(self):
        return selectors.rules_of(account=self.account)

    @extend_schema(operation_id="listMembershipCreditRules", responses=MembershipCreditRuleOutputSerializer(many=True))
    def list(self, request):
        return self.page(self.get_queryset(), MembershipCreditRuleOutputSerializer)

    @extend_schema(
        operation_id="createMembershipCreditRule",
        request=MembershipCreditRuleInputSerializer,
        responses={201: data_envelope(MembershipCreditRuleOutputSerializer)},
    )
    def create(self, request):
        rule = services.membership_credit_rule_create(
            account=self.account, actor=self.actor, **self.valid(MembershipCreditRuleInputSerializer)
        )
        return self.one(rule, MembershipCreditRuleOutputSerializer, created=True)

    @extend_schema(
        operation_id="getMembershipCreditRule", responses=data_envelope(MembershipCreditRuleOutputSerializer)
    )
    def retrieve(self, request, rule_id):
        rule = selectors.membership_credit_rule_get(account=self.account, id=rule_id)
        return self.one(rule, MembershipCreditRuleOutputSerializer)

    @extend_schema(
        operation_id="updateMembershipCreditRule",
        request=MembershipCreditRuleUpdateSerializer,
        responses=data_envelope(MembershipCreditRuleOutputSerializer),
    )
    def partial_update(self, request, rule_id):
        rule = selectors.membership_credit_rule_get(account=self.account, id=rule_id)
        values = self.valid(MembershipCreditRuleUpdateSerializer, instance=rule, partial=True)
        rule = services.membership_credit_rule_update(rule=rule, actor=self.actor, **values)
        return self.one(rule, MembershipCreditRuleOutputSerializer)
