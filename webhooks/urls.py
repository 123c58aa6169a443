from django.urls import path

from .api import EventViewSet, WebhookViewSet

urlpatterns = [
    path("v1beta1/admin/webhooks", WebhookViewSet.as_view({"get": "list", "post": "create"})),
    path("v1beta1/admin/webhooks/<str:id>", WebhookViewSet.as_view({"put": "update", "delete": "destroy"})),
    path("v1beta1/events", EventViewSet.as_view({"get": "list"})),
]
