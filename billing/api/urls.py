"""The billing family (Frontier style): exact vendor paths under /v1beta1/, no trailing slash."""

from django.urls import path

from . import views

ORG = "v1beta1/organizations/<str:org_id>"
ACCOUNT = f"{ORG}/billing/<str:billing_id>"

urlpatterns = [
    path("v1beta1/organizations/billing/usages", views.UsageReportView.as_view()),
    path("v1beta1/organizations/billing/usages/revert", views.RevertView.as_view()),
    path("v1beta1/billing/check", views.CheckView.as_view()),
    path(f"{ORG}/billing", views.BillingAccountsView.as_view()),
    path(f"{ORG}/projects", views.ProjectsView.as_view()),
    path(f"{ACCOUNT}/usages", views.AccountUsageReportView.as_view()),
    path(f"{ACCOUNT}/balance", views.BalanceView.as_view()),
    path(f"{ACCOUNT}/transactions", views.TransactionsView.as_view()),
    path(f"{ACCOUNT}/debited_transactions_total", views.DebitedTotalView.as_view()),
    path(f"{ACCOUNT}/credits", views.TopUpView.as_view()),
    path(f"{ACCOUNT}/limits", views.LimitsView.as_view()),
]
