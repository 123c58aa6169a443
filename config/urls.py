from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from billing.api import urls as billing_api
from config.api.health import healthz
from credits.api import urls as credits_api
from customers.api import urls as customers_api
from discounts.api import urls as discounts_api
from staff import urls as staff_urls
from webhooks import urls as webhooks_api

admin.site.site_header = "Benefit Ledger"
admin.site.site_title = "Benefit Ledger"
admin.site.index_title = "Credits, benefits, discounts and billing"
# There is no public site to view: the header's "View site" link would lead to a 404.
admin.site.site_url = None
# A staff member refused a page gets it inside the admin, with a way back (config/admin.py).
handler403 = "config.admin.permission_denied"

# The families' vendor paths share no prefix: each family's routes are included at the root.
urlpatterns = [
    path("", include(customers_api)),
    path("", include(credits_api)),
    path("", include(discounts_api)),
    path("", include(billing_api)),
    path("", include(webhooks_api)),
    # Before the admin's own URLs, whose catch-all would take these paths.
    path("admin/security/", include(staff_urls)),
    path("admin/security/", include(staff_urls.passkey_urlpatterns)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (?script): the page needs no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
]
