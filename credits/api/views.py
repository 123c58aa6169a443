from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from config.api.schema import data_envelope, page_envelope
from config.kernel.exceptions import InvalidInput, NotFound
from credits import selectors, services
from credits.filters import CustomerCreditFilter
from credits.models import CustomerCredit, MembershipCreditRule
from customers.api.family import CreditsFamilyView
from customers.models import Membership

from .serializers import (
    CouponInputSerializer,
    CouponOutputSerializer,
    CreditIssueInputSerializer,
    CreditOutputSerializer,
    CreditRedeemInputSerializer,
    CreditRevokeInputSerializer,
    CreditUseListSerializer,
    CreditUseOutputSerializer,
    MembershipCreditRuleInputSerializer,
    MembershipCreditRuleOutputSerializer,
)

CREDITS_READ = ("credits:read",)
CREDITS_WRITE = ("credits:write",)
COUPONS_WRITE = ("coupons:write",)


class CustomerCreditListView(CreditsFamilyView):
    required_scopes = {"GET": CREDITS_READ, "POST": CREDITS_WRITE}
    filterset_class = CustomerCreditFilter
    error_statuses = {"GET": (404, 422), "POST": (404, 422)}

    def get_queryset(self):
        return selectors.credits_of(customer=self.customer())

    @extend_schema(operation_id="listCustomerCredits", responses=page_envelope(CreditOutputSerializer))
    def get(self, request, customer_id):
        return self.page(self.filter_queryset(self.get_queryset()), CreditOutputSerializer)

    @extend_schema(
        operation_id="createCustomerCredit",
        request=CreditIssueInputSerializer,
        responses={201: data_envelope(CreditOutputSerializer)},
    )
    def post(self, request, customer_id):
        customer = self.customer()
        values = self.valid(CreditIssueInputSerializer)
        errors: dict[str, list[str]] = {}
        if values["customer_id"] != customer.pk:
            errors["customer_id"] = ["Must be the customer of the path."]
        coupon = selectors.coupons_of(account=self.account).filter(pk=values["coupon_id"], active=True).first()
        if coupon is None:
            errors["coupon_id"] = ["Must be an active coupon of this account."]
        membership = None
        if values.get("membership_id"):
            membership = Membership.objects.filter(customer=customer, pk=values["membership_id"]).first()
            if membership is None:
                errors["membership_id"] = ["Must be a membership of this customer."]
        if errors:
            raise InvalidInput(errors)
        credit = services.credit_issue(
            customer=customer,
            coupon=coupon,
            membership=membership,
            expiry_date=values.get("expiry_date"),
            revenue=values.get("revenue"),
            source=CustomerCredit.Source.API,
            actor=self.actor,
        )
        return self.one(credit, CreditOutputSerializer, created=True)


class CustomerCreditDetailView(CreditsFamilyView):
    required_scopes = {"GET": CREDITS_READ, "DELETE": ("credits:revoke",)}
    error_statuses = {"GET": (404,), "DELETE": (400, 404, 422)}

    @extend_schema(operation_id="getCustomerCredit", responses=data_envelope(CreditOutputSerializer))
    def get(self, request, customer_id, credit_id):
        credit = selectors.credit_of(account=self.account, customer_id=customer_id, credit_id=credit_id)
        if credit is None:
            raise NotFound("Credit not found.", code="credit.not_found")
        return self.one(credit, CreditOutputSerializer)

    @extend_schema(
        operation_id="deleteCustomerCredit",
        description="Revokes the credit so that it can no longer be redeemed. A redeemed credit cannot be revoked.",
        parameters=[OpenApiParameter("reason", str, required=False, description="Why it is revoked.")],
        request=CreditRevokeInputSerializer,
        responses={200: data_envelope(CreditOutputSerializer)},
    )
    def delete(self, request, customer_id, credit_id):
        body = self.valid(CreditRevokeInputSerializer) if request.data else {}
        reason = body.get("reason")
        if not reason and "reason" in request.query_params:
            # The query parameter is checked as the body field is (length, no NUL characters).
            query = CreditRevokeInputSerializer(data={"reason": request.query_params["reason"]})
            query.is_valid(raise_exception=True)
            reason = query.validated_data["reason"]
        credit = services.credit_revoke(
            account=self.account, customer_id=customer_id, credit_id=credit_id, reason=reason, actor=self.actor
        )
        return self.one(credit, CreditOutputSerializer)


class CustomerCreditRedeemView(CreditsFamilyView):
    required_scopes = {"POST": CREDITS_WRITE}
    error_statuses = {"POST": (404, 409, 422)}

    @extend_schema(
        operation_id="redeemCustomerCredit",
        description="Uses the credit once. A reference already recorded on an unreversed use answers the credit "
        "unchanged, so a retried redeem never uses twice.",
        request=CreditRedeemInputSerializer,
        responses={200: data_envelope(CreditOutputSerializer)},
    )
    def post(self, request, customer_id, credit_id):
        values = self.valid(CreditRedeemInputSerializer)
        credit = services.credit_redeem(
            account=self.account,
            customer_id=customer_id,
            credit_id=credit_id,
            reference=values.get("reference") or None,
            note=values.get("note") or "",
            actor=self.actor,
        )
        return self.one(credit, CreditOutputSerializer)


class CustomerCreditUsesView(CreditsFamilyView):
    required_scopes = {"GET": CREDITS_READ}
    error_statuses = {"GET": (404,)}

    @extend_schema(operation_id="listCustomerCreditUses", responses=CreditUseListSerializer)
    def get(self, request, customer_id, credit_id):
        credit = selectors.credit_of(account=self.account, customer_id=customer_id, credit_id=credit_id)
        if credit is None:
            raise NotFound("Credit not found.", code="credit.not_found")
        uses = CreditUseOutputSerializer(selectors.uses_of(credit=credit), many=True).data
        return Response({"data": uses})


class CustomerCreditUseReverseView(CreditsFamilyView):
    required_scopes = {"POST": CREDITS_WRITE}
    error_statuses = {"POST": (404, 409)}

    @extend_schema(
        operation_id="reverseCustomerCreditUse", request=None, responses=data_envelope(CreditOutputSerializer)
    )
    def post(self, request, customer_id, credit_id, use_id):
        credit = services.credit_use_reverse(
            account=self.account, customer_id=customer_id, credit_id=credit_id, use_id=use_id, actor=self.actor
        )
        return self.one(credit, CreditOutputSerializer)


class CouponListView(CreditsFamilyView):
    required_scopes = {"GET": CREDITS_READ, "POST": COUPONS_WRITE}
    error_statuses = {"GET": (422,), "POST": (422,)}

    @extend_schema(operation_id="listCoupons", responses=page_envelope(CouponOutputSerializer))
    def get(self, request):
        return self.page(selectors.coupons_of(account=self.account), CouponOutputSerializer)

    @extend_schema(
        operation_id="createCoupon",
        request=CouponInputSerializer,
        responses={201: data_envelope(CouponOutputSerializer)},
    )
    def post(self, request):
        coupon = services.coupon_create(account=self.account, actor=self.actor, **self.valid(CouponInputSerializer))
        return self.one(coupon, CouponOutputSerializer, created=True)


class CouponDetailView(CreditsFamilyView):
    required_scopes = {"GET": CREDITS_READ, "PATCH": COUPONS_WRITE}
    error_statuses = {"GET": (404,), "PATCH": (404, 422)}

    def coupon(self, coupon_id):
        coupon = selectors.coupons_of(account=self.account).filter(pk=coupon_id).first()
        if coupon is None:
            raise NotFound("Coupon not found.", code="coupon.not_found")
        return coupon

    @extend_schema(operation_id="getCoupon", responses=data_envelope(CouponOutputSerializer))
    def get(self, request, coupon_id):
        return self.one(self.coupon(coupon_id), CouponOutputSerializer)

    @extend_schema(
        operation_id="updateCoupon", request=CouponInputSerializer, responses=data_envelope(CouponOutputSerializer)
    )
    def patch(self, request, coupon_id):
        coupon = self.coupon(coupon_id)
        values = self.valid(CouponInputSerializer, partial=True)
        coupon = services.coupon_update(coupon=coupon, actor=self.actor, **values)
        return self.one(coupon, CouponOutputSerializer)


class MembershipCreditRuleListView(CreditsFamilyView):
    required_scopes = {"GET": CREDITS_READ, "POST": COUPONS_WRITE}
    error_statuses = {"GET": (422,), "POST": (422,)}

    @extend_schema(
        operation_id="listMembershipCreditRules", responses=page_envelope(MembershipCreditRuleOutputSerializer)
    )
    def get(self, request):
        return self.page(selectors.rules_of(account=self.account), MembershipCreditRuleOutputSerializer)

    @extend_schema(
        operation_id="createMembershipCreditRule",
        request=MembershipCreditRuleInputSerializer,
        responses={201: data_envelope(MembershipCreditRuleOutputSerializer)},
    )
    def post(self, request):
        rule = services.membership_credit_rule_create(
            account=self.account, actor=self.actor, **self.valid(MembershipCreditRuleInputSerializer)
        )
        return self.one(rule, MembershipCreditRuleOutputSerializer, created=True)


class MembershipCreditRuleDetailView(CreditsFamilyView):
    required_scopes = {"GET": CREDITS_READ, "PATCH": COUPONS_WRITE}
    error_statuses = {"GET": (404,), "PATCH": (404, 422)}

    def rule(self, rule_id) -> MembershipCreditRule:
        rule = selectors.rules_of(account=self.account).filter(pk=rule_id).first()
        if rule is None:
            raise NotFound("Membership credit rule not found.", code="rule.not_found")
        return rule

    @extend_schema(
        operation_id="getMembershipCreditRule", responses=data_envelope(MembershipCreditRuleOutputSerializer)
    )
    def get(self, request, rule_id):
        return self.one(self.rule(rule_id), MembershipCreditRuleOutputSerializer)

    @extend_schema(
        operation_id="updateMembershipCreditRule",
        request=MembershipCreditRuleInputSerializer,
        responses=data_envelope(MembershipCreditRuleOutputSerializer),
    )
    def patch(self, request, rule_id):
        rule = self.rule(rule_id)
        values = self.valid(MembershipCreditRuleInputSerializer, partial=True)
        rule = services.membership_credit_rule_update(rule=rule, actor=self.actor, **values)
        return self.one(rule, MembershipCreditRuleOutputSerializer)
