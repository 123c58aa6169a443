from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api.health import healthz

admin.site.site_header = "Benefit Ledger"
admin.site.site_title = "Benefit Ledger"
admin.site.index_title = "Credits, benefits, discounts and billing"

urlpatterns = [
    path("", include("customers.api.urls")),
    path("", include("credits.api.urls")),
    path("", include("discounts.api.urls")),
    path("", include("billing.api.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
]
