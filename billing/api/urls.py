"""The billing family (Frontier style): the vendor's exact paths under /v1beta1/, no trailing slash, each
routed to an action of the resource's viewset. The vendor's paths (proto/apidocs.swagger.yaml) and the
earlier ones kept for clients written against them (top-ups, projects, the non-admin limits)."""

from django.urls import path

from .views import BillingAccountViewSet, CreditCheckViewSet, ProjectViewSet, TransactionViewSet, UsageViewSet

ORG = "v1beta1/organizations/<str:org_id>"
ACCOUNT = f"{ORG}/billing/<str:billing_id>"
ADMIN_ORG = "v1beta1/admin/organizations/<str:org_id>"

urlpatterns = [
    path("v1beta1/organizations/billing/usages", UsageViewSet.as_view({"post": "report"})),
    path("v1beta1/organizations/billing/usages/revert", UsageViewSet.as_view({"post": "revert"})),
    path("v1beta1/billing/check", CreditCheckViewSet.as_view({"post": "check"})),
    path(f"{ORG}/billing", BillingAccountViewSet.as_view({"get": "list", "post": "create"})),
    path(f"{ORG}/billing/transactions", TransactionViewSet.as_view({"get": "org_list"})),
    path(f"{ORG}/projects", ProjectViewSet.as_view({"get": "list", "post": "create"})),
    path(f"{ORG}/billing/<str:id>", BillingAccountViewSet.as_view({"get": "retrieve"})),
    path(f"{ACCOUNT}/usages", UsageViewSet.as_view({"post": "report_in_path"})),
    path(f"{ACCOUNT}/balance", BillingAccountViewSet.as_view({"get": "balance"})),
    path(f"{ACCOUNT}/transactions", TransactionViewSet.as_view({"get": "list"})),
    path(f"{ACCOUNT}/debited_transactions_total", BillingAccountViewSet.as_view({"get": "debited_total"})),
    path(f"{ACCOUNT}/credits", TransactionViewSet.as_view({"post": "top_up"})),
    path(f"{ACCOUNT}/limits", BillingAccountViewSet.as_view({"put": "limits"})),
    path(f"{ADMIN_ORG}/billing/<str:id>/limits", BillingAccountViewSet.as_view({"put": "admin_limits"})),
    path(
        f"{ADMIN_ORG}/billing/<str:billing_id>/usage/<str:usage_id>/revert",
        UsageViewSet.as_view({"post": "admin_revert"}),
    ),
]
