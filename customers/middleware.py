"""The staff pages' time zone: the account's, so that times are shown and typed where the business is.

A page about one account's object (a customer, a credit, a billing account...) activates that account's
zone itself (config.kernel.admin.AccountZoneMixin, and the pages that read a customer from the form);
this middleware starts every admin request in the zone of the only account when there is just one, in
UTC otherwise, and ends it, so that no zone outlives its request. The zone is active while the page
renders, so the admin's "Now" and "Today" buttons fill in the account's time too."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from config.api.middleware import is_api
from config.kernel.zones import zone_named

from .models import Account


class AccountTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix: str | None = None

    def __call__(self, request):
        if is_api(request) or not request.path_info.startswith(self.admin_prefix):
            return self.get_response(request)
        zones = list(Account.objects.order_by().values_list("timezone", flat=True)[:2])
        timezone.activate(zone_named(zones[0] if len(zones) == 1 else "UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @property
    def admin_prefix(self) -> str:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        return self._admin_prefix
