"""The credits family (Trybe-style, under /customers/) and the benefits family (Magicline-style, under
/v1/customers/), two views of one ledger: exact vendor paths, no trailing slash."""

from django.urls import path

from customers.api import views as customer_views

from . import benefits, views

CUSTOMER = "customers/customers/<uuid:customer_id>"
CREDIT = f"{CUSTOMER}/credits/<uuid:credit_id>"

urlpatterns = [
    # benefits family (Magicline-style)
    path("v1/customers/benefits", benefits.BenefitsByCardView.as_view()),
    path("v1/customers/benefits/<str:benefitKey>/use", benefits.BenefitUseByCardView.as_view()),
    path("v1/customers/<str:customerId>/benefits", benefits.CustomerBenefitsView.as_view()),
    path("v1/customers/<str:customerId>/benefits/<str:benefitKey>/use", benefits.CustomerBenefitUseView.as_view()),
    # credits family (Trybe-style)
    path("customers/customers", customer_views.CustomerListView.as_view()),
    path(CUSTOMER, customer_views.CustomerDetailView.as_view()),
    path(f"{CUSTOMER}/memberships", customer_views.MembershipListView.as_view()),
    path(f"{CUSTOMER}/memberships/<uuid:membership_id>/cancel", customer_views.MembershipCancelView.as_view()),
    path("customers/membership-types", customer_views.MembershipTypeListView.as_view()),
    path(f"{CUSTOMER}/credits", views.CustomerCreditListView.as_view()),
    path(CREDIT, views.CustomerCreditDetailView.as_view()),
    path(f"{CREDIT}/redeem", views.CustomerCreditRedeemView.as_view()),
    path(f"{CREDIT}/uses", views.CustomerCreditUsesView.as_view()),
    path(f"{CREDIT}/uses/<uuid:use_id>/reverse", views.CustomerCreditUseReverseView.as_view()),
    path("customers/coupons", views.CouponListView.as_view()),
    path("customers/coupons/<uuid:coupon_id>", views.CouponDetailView.as_view()),
    path("customers/membership-credit-rules", views.MembershipCreditRuleListView.as_view()),
    path("customers/membership-credit-rules/<uuid:rule_id>", views.MembershipCreditRuleDetailView.as_view()),
]
