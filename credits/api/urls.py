"""The credits part of the credits family (Trybe-style, under /customers/) and the benefits family
(Magicline-style, under /v1/customers/), two views of one ledger: exact vendor paths, no trailing slash,
each routed to an action of its resource's viewset. The customers part is in customers/api/urls.py."""

from django.urls import path

from . import benefits, views

CUSTOMER = "customers/customers/<uuid:customer_id>"
CREDIT = f"{CUSTOMER}/credits/<uuid:credit_id>"
credits = views.CustomerCreditViewSet.as_view
coupons = views.CouponViewSet.as_view
rules = views.MembershipCreditRuleViewSet.as_view
benefit = benefits.BenefitViewSet.as_view

urlpatterns = [
    # benefits family (Magicline-style)
    path("v1/customers/benefits", benefit({"get": "benefits"})),
    path("v1/customers/benefits/<str:benefitKey>/use", benefit({"post": "benefit_use"})),
    path("v1/customers/<str:customerId>/benefits", benefit({"get": "customer_benefits"})),
    path("v1/customers/<str:customerId>/benefits/<str:benefitKey>/use", benefit({"post": "customer_benefit_use"})),
    # credits family (Trybe-style)
    path(f"{CUSTOMER}/credits", credits({"get": "list", "post": "create"})),
    path(CREDIT, credits({"get": "retrieve", "delete": "destroy"})),
    path(f"{CREDIT}/redeem", credits({"post": "redeem"})),
    path(f"{CREDIT}/uses", credits({"get": "uses"})),
    path(f"{CREDIT}/uses/<uuid:use_id>/reverse", credits({"post": "reverse"})),
    path("customers/coupons", coupons({"get": "list", "post": "create"})),
    path("customers/coupons/<uuid:coupon_id>", coupons({"get": "retrieve", "patch": "partial_update"})),
    path("customers/membership-credit-rules", rules({"get": "list", "post": "create"})),
    path("customers/membership-credit-rules/<uuid:rule_id>", rules({"get": "retrieve", "patch": "partial_update"})),
]
