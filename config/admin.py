"""The composition of the staff site: the customer page shows what each app built on customers adds to
it. Customers, the base domain, never imports those apps; this module, at the top, puts them together.
It also adds the staff report pages (/admin/reports/...) to the admin site's URLs, and gives the pages
Django and the libraries register the changelist every page of the product has (config.kernel.admin.LedgerAdmin)."""

from functools import wraps

from django.contrib import admin
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults

from billing.admin import CUSTOMER_PAGE as BILLING
from config.kernel.admin import LedgerAdmin
from config.kernel.zones import zone_named
from credits.admin import CUSTOMER_PAGE as CREDITS
from credits.admin.reports import liability_view
from customers.admin import CustomerAdmin
from customers.models import Account
from discounts.admin import CUSTOMER_PAGE as DISCOUNTS
from staff import views as staff_views

CustomerAdmin.compose(CREDITS, DISCOUNTS, BILLING)

# Pages registered by Django and the libraries (users, groups, second-factor devices, sign-in lockouts)
# get the same checked changelist as the product's own.
for _model, _admin in list(admin.site._registry.items()):
    if not isinstance(_admin, LedgerAdmin):
        admin.site.unregister(_model)
        _class = type(_admin)
        admin.site.register(_model, type(_class.__name__, (LedgerAdmin, _class), {"__module__": __name__}))


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


def _in_account_zone(admin_view):
    """Every admin page runs, and renders, in an account's time zone: the page's own account's when it is
    about one account's object (config.kernel.admin.AccountZoneMixin and the pages that read a customer
    from the form activate it), else the only account's when there is just one, else UTC; the zone ends
    with the request. Rendering happens inside, so that the admin's "Now" and "Today" fill in the account's
    time too. A wrapper of the admin's views rather than a middleware: API requests never pass it."""

    def wrap(view, cacheable=False):
        inner = admin_view(view, cacheable)

        @wraps(inner)
        def zoned(request, *args, **kwargs):
            zones = list(Account.objects.order_by().values_list("timezone", flat=True)[:2])
            timezone.activate(zone_named(zones[0] if len(zones) == 1 else "UTC"))
            try:
                response = inner(request, *args, **kwargs)
                if callable(getattr(response, "render", None)):
                    response.render()
                return response
            finally:
                timezone.deactivate()

        return zoned

    return wrap


admin.site.admin_view = _in_account_zone(admin.site.admin_view)


def permission_denied(request, exception=None):
    """A refused admin page (a Viewer opening an action's address) as a page of the admin, saying what
    happened, with a way back; anything else gets Django's own 403."""
    index = reverse("admin:index")
    if not request.path_info.startswith(index) or not getattr(request, "user", None) or not request.user.is_staff:
        return defaults.permission_denied(request, exception)
    back = request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or back.endswith(request.path):
        back = index
    context = {**admin.site.each_context(request), "title": "Not allowed", "back": back}
    return render(request, "admin/403.html", context, status=403)


# The second factor: the admin lets in only staff whose session passed it (when STAFF_2FA_REQUIRED), and
# its login page sends a staff user who has given the password on to enrol or verify (staff/views.py).
admin.site.has_permission = staff_views.admin_has_permission(admin.site.has_permission)
admin.site.login = staff_views.admin_login(admin.site.login)
