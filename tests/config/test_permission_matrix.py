"""Every route of every family (tests/routes.py): no credentials is 401 in the family's dialect, a client
without the route's scope is 403 in it, and neither changes a row of any model (tests/snapshots.py); a
client holding only the scope (each of them, where any one is enough) is let through. The table names
every route and method the URL resolver serves under a family's prefix.

One world (tests/world.py) serves the whole module; each test's changes are rolled back after it."""

from __future__ import annotations

import types

import jsonschema
import pytest
from django.urls import get_resolver, path
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from config.api import dialects
from customers import services as customer_services
from tests.conftest import SYSTEM, Api
from tests.routes import ANY_CLIENT, FAMILIES, PUBLIC, ROUTES, Route, covered, outside_families, served
from tests.snapshots import snapshot
from tests.world import fill, scopes_without

pytestmark = pytest.mark.django_db

NEEDS_CREDENTIALS = [r for r in ROUTES if r.scopes != PUBLIC]
NEEDS_A_SCOPE = [r for r in ROUTES if r.scopes not in (PUBLIC, ANY_CLIENT)]
ALLOWED = [
    pytest.param(route, scopes, id=f"{route} as {' '.join(scopes) or 'a client without scopes'}")
    for route in ROUTES
    if route.scopes != PUBLIC
    for scopes in ([[scope] for scope in route.scopes] or [[]])
]

# What each family says for 401 and 403, beyond its error schema (config/api/dialects.py).
DENIED_CODES = {
    "credits": lambda body, status: set(body) == {"message"},
    "benefits": lambda body, status: body["errorCode"] == {401: "auth.unauthenticated", 403: "auth.forbidden"}[status],
    "discounts": lambda body, status: body["error"]["code"] == {401: "unauthorized", 403: "forbidden"}[status],
    "billing": lambda body, status: body["code"] == {401: 16, 403: 7}[status],  # gRPC UNAUTHENTICATED, DENIED
}


@pytest.fixture
def world(module_world):
    return module_world


def call(api: Api, route: Route, ids: dict):
    return api.request(route.method, fill(route.path, ids), fill(route.body, ids))


def assert_denied(route: Route, response, status: int):
    assert response.status_code == status, response.content
    body = response.json()
    jsonschema.validate(body, dialects.get(route.family).error_schema())
    assert DENIED_CODES[route.family](body, status), body


def test_every_family_has_rows_and_a_dialect():
    assert {route.family for route in ROUTES} == set(FAMILIES) == set(DENIED_CODES)


def test_the_table_names_every_route_and_method_of_every_family(world):
    """A route the resolver serves under a family's prefix without a row here fails, named."""
    in_table, serving = covered(world.ids), served()
    missing = sorted(f"{method} /{route} ({family})" for family, method, route in serving - in_table)
    assert not missing, "routes without a row in tests/routes.py: " + "; ".join(missing)
    stale = sorted(f"{method} /{route} ({family})" for family, method, route in in_table - serving)
    assert not stale, "rows of tests/routes.py for no served route and method: " + "; ".join(stale)
    assert len(ROUTES) == len(in_table), "two rows for one route and method"
    assert {family for family, _, _ in serving} == set(FAMILIES)


def test_the_check_sees_a_new_route_and_each_method_of_it(world):
    """The completeness check itself: a route added without a row, as an APIView or as ViewSet actions."""

    class Extra(ViewSet):
        def list(self, request):
            return None

        def create(self, request):
            return None

    class Single(APIView):
        def put(self, request):
            return None

    urlconf = types.ModuleType("urls_with_new_routes")
    urlconf.urlpatterns = [
        *get_resolver().url_patterns,
        path("v1beta1/organizations/<str:org_id>/extras", Extra.as_view({"get": "list", "post": "create"})),
        path("v1/accounts/<str:aid>/discounts/claims", Single.as_view()),
    ]
    assert served(urlconf) - covered(world.ids) == {
        ("billing", "GET", "v1beta1/organizations/<str:org_id>/extras"),
        ("billing", "POST", "v1beta1/organizations/<str:org_id>/extras"),
        ("discounts", "PUT", "v1/accounts/<str:aid>/discounts/claims"),
    }


def test_every_route_is_in_a_family_or_known_to_be_outside_them():
    assert not outside_families(), "add them to a family or to routes.NOT_FAMILY_PREFIXES"


@pytest.mark.parametrize("route", NEEDS_CREDENTIALS, ids=str)
def test_no_credentials_or_a_wrong_secret_is_401_and_changes_nothing(world, route):
    before = snapshot()
    assert_denied(route, call(Api(None), route, world.ids), 401)
    assert_denied(route, call(Api("blk_" + "x" * 43, client_id="cl_nobody", form=route.form), route, world.ids), 401)
    assert snapshot() == before


@pytest.mark.parametrize("route", NEEDS_A_SCOPE, ids=str)
def test_client_without_the_scope_is_403_and_changes_nothing(world, route):
    api = world.a.api(scopes_without(route.scopes), form=route.form)
    before = snapshot()
    assert_denied(route, call(api, route, world.ids), 403)
    assert snapshot() == before


@pytest.mark.parametrize("route, scopes", ALLOWED)
def test_client_with_the_scope_is_let_through(world, route, scopes):
    response = call(world.a.api(scopes, form=route.form), route, world.ids)
    assert 200 <= response.status_code < 300, response.content


def test_a_client_without_the_scope_holds_every_other_scope(world):
    """The 403 rows are not won by a client that holds nothing: it lacks only what the route needs."""
    api = world.a.api(scopes_without(("credits:read",)))
    assert api.get("/customers/customers").status_code == 200
    assert api.get("/customers/coupons").status_code == 403


def test_deactivated_client_is_401_at_once(world):
    client, secret = world.a.client()
    api = Api(secret)
    assert api.get("/customers/customers").status_code == 200
    customer_services.api_client_deactivate(api_client=client, actor=SYSTEM)
    assert api.get("/customers/customers").status_code == 401
