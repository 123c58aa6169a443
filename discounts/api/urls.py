"""The discounts family (Dintero style): exact vendor paths under /v1/accounts/{aid}/, no trailing slash."""

from django.urls import path

from . import views

RULE = "v1/accounts/<str:aid>/discounts/rules/<str:did>"

urlpatterns = [
    path("v1/accounts/<str:aid>/auth/token", views.AccessTokenView.as_view()),
    path("v1/accounts/<str:aid>/discounts/rules", views.DiscountRuleListView.as_view()),
    path(RULE, views.DiscountRuleDetailView.as_view()),
    path(f"{RULE}/customers", views.DiscountRuleCustomersView.as_view()),
    path(f"{RULE}/usages", views.DiscountUsagesView.as_view()),
]
