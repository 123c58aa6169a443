"""The credits family (Trybe-style): exact vendor paths under /customers/, no trailing slash."""

from django.urls import path

from customers.api import views as customer_views

from . import views

CUSTOMER = "customers/customers/<uuid:customer_id>"
CREDIT = f"{CUSTOMER}/credits/<uuid:credit_id>"

urlpatterns = [
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
