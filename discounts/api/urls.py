"""The discounts family (Dintero style): exact vendor paths under /v1/accounts/{aid}/, no trailing slash.
Each ViewSet's actions are routed here to the vendor's paths."""

from django.urls import path

from . import views

ACCOUNT = "v1/accounts/<str:aid>"
RULES = f"{ACCOUNT}/discounts/rules"
RULE = f"{RULES}/<str:did>"

urlpatterns = [
    path(f"{ACCOUNT}/auth/token", views.AccessTokenView.as_view()),
    path(RULES, views.DiscountRuleViewSet.as_view({"get": "list", "post": "create"})),
    path(RULE, views.DiscountRuleViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"})),
    path(f"{RULE}/customers", views.DiscountRuleCustomerViewSet.as_view({"get": "list", "post": "create"})),
    path(f"{RULE}/usages", views.DiscountUsageViewSet.as_view({"get": "list", "post": "create"})),
    path(
        f"{ACCOUNT}/discounts/customers/<str:customer_id>/rules",
        views.CustomerRuleViewSet.as_view({"get": "list"}),
    ),
    path(
        f"{ACCOUNT}/discounts/available_for_receipt/claims",
        views.DiscountClaimViewSet.as_view({"get": "list", "post": "create"}),
    ),
]
