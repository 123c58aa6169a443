"""Every credits-family endpoint: no credentials 401, a client without the scope 403, a client of another
account 404. Each denied request leaves the database exactly as it was."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from config.kernel.scopes import ALL_SCOPES
from credits import services as credit_services
from customers import services as customer_services
from tests.conftest import SYSTEM, Api, snapshot

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # formatted with the world's ids
    scope: str
    body: dict | None = None
    has_object: bool = True  # an object of the account in the path: another account gets 404

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/customers/customers", "customers:read", has_object=False),
    Endpoint("POST", "/customers/customers", "customers:write", {"email": "new@example.com"}, has_object=False),
    Endpoint("GET", "/customers/customers/{customer}", "customers:read"),
    Endpoint("PATCH", "/customers/customers/{customer}", "customers:write", {"first_name": "Changed"}),
    Endpoint("GET", "/customers/customers/{customer}/memberships", "customers:read"),
    Endpoint(
        "POST", "/customers/customers/{customer}/memberships", "customers:write", {"membership_type_id": "{type}"}
    ),
    Endpoint("POST", "/customers/customers/{customer}/memberships/{membership}/cancel", "customers:write"),
    Endpoint("GET", "/customers/membership-types", "customers:read", has_object=False),
    Endpoint("POST", "/customers/membership-types", "customers:write", {"name": "Silver"}, has_object=False),
    Endpoint("GET", "/customers/customers/{customer}/credits", "credits:read"),
    Endpoint(
        "POST",
        "/customers/customers/{customer}/credits",
        "credits:write",
        {"coupon_id": "{coupon}", "customer_id": "{customer}"},
    ),
    Endpoint("GET", "/customers/customers/{customer}/credits/{credit}", "credits:read"),
    Endpoint("DELETE", "/customers/customers/{customer}/credits/{credit}", "credits:revoke"),
    Endpoint("POST", "/customers/customers/{customer}/credits/{credit}/redeem", "credits:write", {"reference": "x"}),
    Endpoint("GET", "/customers/customers/{customer}/credits/{credit}/uses", "credits:read"),
    Endpoint("POST", "/customers/customers/{customer}/credits/{used_credit}/uses/{use}/reverse", "credits:write"),
    Endpoint("GET", "/customers/coupons", "credits:read", has_object=False),
    Endpoint(
        "POST",
        "/customers/coupons",
        "coupons:write",
        {"name": "New", "kind": "offering", "offering": "Tea"},
        has_object=False,
    ),
    Endpoint("GET", "/customers/coupons/{coupon}", "credits:read"),
    Endpoint("PATCH", "/customers/coupons/{coupon}", "coupons:write", {"active": False}),
    Endpoint("GET", "/customers/membership-credit-rules", "credits:read", has_object=False),
    Endpoint(
        "POST",
        "/customers/membership-credit-rules",
        "coupons:write",
        {"membership_type_id": "{type}", "coupon_id": "{coupon}"},
        has_object=False,
    ),
    Endpoint("GET", "/customers/membership-credit-rules/{rule}", "credits:read"),
    Endpoint("PATCH", "/customers/membership-credit-rules/{rule}", "coupons:write", {"quantity": 2}),
]


@pytest.fixture
def world(account, customer, coupon, make_credit, membership, membership_type):
    """One of each object in `account`, so every path has something real to point at."""
    credit = make_credit(customer, coupon)
    used_credit = make_credit(customer, coupon)
    use = credit_services.credit_redeem(
        account=account, customer_id=customer.pk, credit_id=used_credit.pk, actor=SYSTEM
    ).use_records.get()
    rule = credit_services.membership_credit_rule_create(
        account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM
    )
    return {
        "customer": customer.pk,
        "coupon": coupon.pk,
        "credit": credit.pk,
        "used_credit": used_credit.pk,
        "use": use.pk,
        "membership": membership.pk,
        "type": membership_type.pk,
        "rule": rule.pk,
    }


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _call(api: Api, endpoint: Endpoint, ids: dict):
    return api.request(endpoint.method, _fill(endpoint.path, ids), _fill(endpoint.body, ids))


def test_every_route_of_the_family_is_in_the_matrix():
    from credits.api.urls import urlpatterns as credits_urls
    from customers.api.urls import urlpatterns as customers_urls

    routes = {
        (method, str(pattern.pattern))
        for pattern in customers_urls + credits_urls
        if pattern.callback.view_class.dialect == "credits"
        for method in pattern.callback.view_class.required_scopes
    }
    assert len(routes) == len(ENDPOINTS)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_no_credentials_is_401(world, endpoint):
    before = snapshot()
    response = _call(Api(None), endpoint, world)
    assert response.status_code == 401
    assert set(response.json()) == {"message"}
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_wrong_secret_is_401(world, endpoint):
    before = snapshot()
    response = _call(Api("blk_" + "x" * 43), endpoint, world)
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_client_without_the_scope_is_403(world, account, make_api, endpoint):
    api = make_api(account, scopes=[s for s in ALL_SCOPES if s != endpoint.scope])
    before = snapshot()
    response = _call(api, endpoint, world)
    assert response.status_code == 403
    assert response.json() == {"message": "The API client does not have the scope this operation needs."}
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.has_object], ids=str)
def test_client_of_another_account_is_404(world, other_account, make_api, endpoint):
    api = make_api(other_account)
    before = snapshot()
    response = _call(api, endpoint, world)
    assert response.status_code == 404
    assert set(response.json()) == {"message"}
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.method == "GET" and not e.has_object], ids=str)
def test_lists_never_show_another_accounts_objects(world, other_account, make_api, endpoint):
    response = _call(make_api(other_account), endpoint, world)
    assert response.status_code == 200
    assert response.json()["data"] == [] and response.json()["meta"]["total"] == 0


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_client_with_the_scope_is_allowed(world, account, make_api, endpoint):
    response = _call(make_api(account, scopes=[endpoint.scope]), endpoint, world)
    assert response.status_code in (200, 201), response.content


def test_deactivated_client_is_401_at_once(world, account, make_client):
    client, secret = make_client(account)
    api = Api(secret)
    assert api.get("/customers/customers").status_code == 200
    customer_services.api_client_deactivate(api_client=client, actor=SYSTEM)
    assert api.get("/customers/customers").status_code == 401
