"""The composition of the staff site: the customer page shows what each app built on customers adds to
it. Customers, the base domain, never imports those apps; this module, at the top, puts them together.
It also adds the staff report pages (/admin/reports/...) to the admin site's URLs."""

from django.contrib import admin
from django.urls import path

from billing.admin import CUSTOMER_PAGE as BILLING
from credits.admin import CUSTOMER_PAGE as CREDITS
from credits.admin_reports import liability_view
from customers.admin import CustomerAdmin
from discounts.admin import CUSTOMER_PAGE as DISCOUNTS

CustomerAdmin.compose(CREDITS, DISCOUNTS, BILLING)


def _with_reports(get_urls):
    def urls():
        site = admin.site
        return [
            path(
                "reports/liability/",
                site.admin_view(lambda request: liability_view(request, site)),
                name="liability_report",
            ),
            *get_urls(),
        ]

    return urls


admin.site.get_urls = _with_reports(admin.site.get_urls)
