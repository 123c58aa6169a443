"""The customers part of the credits family (Trybe-style, under /customers/): exact vendor paths, no
trailing slash, each routed to an action of its resource's viewset."""

from django.urls import path

from . import views

CUSTOMER = "customers/customers/<uuid:customer_id>"

urlpatterns = [
    path("customers/customers", views.CustomerViewSet.as_view({"get": "list", "post": "create"})),
    path(CUSTOMER, views.CustomerViewSet.as_view({"get": "retrieve", "patch": "partial_update"})),
    path(f"{CUSTOMER}/memberships", views.MembershipViewSet.as_view({"get": "list", "post": "create"})),
    path(
        f"{CUSTOMER}/memberships/<uuid:membership_id>/cancel",
        views.MembershipViewSet.as_view({"post": "cancel"}),
    ),
    path("customers/membership-types", views.MembershipTypeViewSet.as_view({"get": "list", "post": "create"})),
]
