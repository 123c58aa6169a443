"""Every route of the four API families, one line each: the permission matrix
(tests/config/test_permission_matrix.py) and the tenant isolation table
(tests/config/test_tenant_isolation.py) both run over it, and both check that it names every route and
method the URL resolver serves under a family's prefix.

A new route: add one `Route(method, path, scopes, body)` line. Paths and bodies name the world's objects
(tests/world.py, `Tenant.ids`) as {customer}, {credit}, ...; {new} is a fresh uuid. `scopes` are the
scopes of which any one is enough; `ANY_CLIENT` marks a route any authenticated client may call (no
scope), `PUBLIC` one that needs no credentials at all. `foreign` is what a client of the other account
with every scope gets: a status (404; 403 where the path names the account; 422 where only the body
names the first account's objects), `LISTS_OWN` (a list of
the caller's own objects: none of the first account's show) or `CREATES_OWN` (creates in the caller's
own account: nothing to refuse)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve

from config.api import dialects
from webhooks.api import READ_SCOPES as EVENTS_READ

ANY_CLIENT: tuple[str, ...] = ()  # authenticated, no scope needed
PUBLIC = ("<public>",)  # no credentials needed
LISTS_OWN = "lists own"
CREATES_OWN = "creates own"

# Paths that are no API family's: Django's admin, the OpenAPI document and its UI, the health check
# (the last three public by design). No route of the four families is public: the discounts family's
# token endpoint is the only one that needs no scope, but it needs the client's id and secret (Basic).
NOT_FAMILY_PREFIXES = ("/admin/", "/api/schema/", "/api/docs/", "/healthz")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {placeholders} and maybe a query string
    scopes: tuple[str, ...]
    body: dict | None = None
    foreign: int | str = 404
    form: str = "api-key"  # how the credential is sent (see tests.conftest.Api)

    @property
    def family(self) -> str:
        return family_of(self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def family_of(path: str) -> str:
    dialect = dialects.for_path(path)
    return dialect.name if dialect else ""


# --- the credits family (Trybe-style) ----------------------------------------------------------
CUSTOMER = "/customers/customers/{customer}"
CREDIT = CUSTOMER + "/credits/{credit}"
CUSTOMERS_READ, CUSTOMERS_WRITE = ("customers:read",), ("customers:write",)
CREDITS_READ, CREDITS_WRITE, REVOKE, COUPONS_WRITE = (
    ("credits:read",),
    ("credits:write",),
    ("credits:revoke",),
    ("coupons:write",),
)
CREDITS = [
    Route("GET", "/customers/customers", CUSTOMERS_READ, foreign=LISTS_OWN),
    Route("POST", "/customers/customers", CUSTOMERS_WRITE, {"email": "new@example.com"}, foreign=CREATES_OWN),
    Route("GET", CUSTOMER, CUSTOMERS_READ),
    Route("PATCH", CUSTOMER, CUSTOMERS_WRITE, {"first_name": "Changed"}),
    Route("GET", CUSTOMER + "/memberships", CUSTOMERS_READ),
    Route("POST", CUSTOMER + "/memberships", CUSTOMERS_WRITE, {"membership_type_id": "{type}"}),
    Route("POST", CUSTOMER + "/memberships/{membership}/cancel", CUSTOMERS_WRITE),
    Route("GET", "/customers/membership-types", CUSTOMERS_READ, foreign=LISTS_OWN),
    Route("POST", "/customers/membership-types", CUSTOMERS_WRITE, {"name": "Silver 2"}, foreign=CREATES_OWN),
    Route("GET", CUSTOMER + "/credits", CREDITS_READ),
    Route("POST", CUSTOMER + "/credits", CREDITS_WRITE, {"coupon_id": "{coupon}", "customer_id": "{customer}"}),
    Route("GET", CREDIT, CREDITS_READ),
    Route("DELETE", CREDIT, REVOKE),
    Route("POST", CREDIT + "/redeem", CREDITS_WRITE, {"reference": "x"}),
    Route("GET", CREDIT + "/uses", CREDITS_READ),
    Route("POST", CUSTOMER + "/credits/{used_credit}/uses/{use}/reverse", CREDITS_WRITE),
    Route("GET", "/customers/coupons", CREDITS_READ, foreign=LISTS_OWN),
    Route(
        "POST",
        "/customers/coupons",
        COUPONS_WRITE,
        {"name": "New", "kind": "offering", "offering": "Tea"},
        foreign=CREATES_OWN,
    ),
    Route("GET", "/customers/coupons/{coupon}", CREDITS_READ),
    Route("PATCH", "/customers/coupons/{coupon}", COUPONS_WRITE, {"active": False}),
    Route("GET", "/customers/membership-credit-rules", CREDITS_READ, foreign=LISTS_OWN),
    Route(
        "POST",
        "/customers/membership-credit-rules",
        COUPONS_WRITE,
        {"membership_type_id": "{type}", "coupon_id": "{coupon}", "quantity": 2},
        foreign=422,  # the other account's ids in the body are invalid input, not a path that is not found
    ),
    Route("GET", "/customers/membership-credit-rules/{rule}", CREDITS_READ),
    Route("PATCH", "/customers/membership-credit-rules/{rule}", COUPONS_WRITE, {"quantity": 2}),
]

# --- the benefits family (Magicline-style) -----------------------------------------------------
BENEFITS_READ = ("CUSTOMER_BENEFIT_READ", "CUSTOMER_READ")
BENEFITS_WRITE = ("CUSTOMER_BENEFIT_WRITE", "CUSTOMER_WRITE")
BENEFITS = [
    Route("GET", "/v1/customers/{number}/benefits", BENEFITS_READ),
    Route("POST", "/v1/customers/{number}/benefits/massage/use", BENEFITS_WRITE),
    Route("GET", "/v1/customers/benefits?cardNumber={card}", BENEFITS_READ),
    Route("POST", "/v1/customers/benefits/massage/use?barcode={barcode}", BENEFITS_WRITE),
]

# --- the discounts family (Dintero-style): the path names the account, so another account gets 403 ----
ACCOUNT = "/v1/accounts/{aid}"
RULE = ACCOUNT + "/discounts/rules/{discount}"
DISCOUNTS_READ, DISCOUNTS_WRITE, DISCOUNTS_ADMIN = ("read:discounts",), ("write:discounts",), ("admin:discounts",)
NEW_RULE = {"name": "x", "reward": {"type": "discount_amount", "value": 1}}
SAME_RULE = {"name": "Renamed", "reward": {"type": "discount_amount", "value": 5}}  # the reward is fixed
DISCOUNTS = [
    # Client credentials: any active client may swap its id and secret (Basic) for an access token.
    Route("POST", ACCOUNT + "/auth/token", ANY_CLIENT, {"grant_type": "client_credentials"}, 403, form="basic"),
    Route("GET", ACCOUNT + "/discounts/rules", DISCOUNTS_READ, foreign=403),
    Route("POST", ACCOUNT + "/discounts/rules", DISCOUNTS_ADMIN, NEW_RULE, foreign=403),
    Route("GET", RULE, DISCOUNTS_READ, foreign=403),
    Route("PUT", RULE, DISCOUNTS_ADMIN, SAME_RULE, foreign=403),
    Route("DELETE", RULE, DISCOUNTS_ADMIN, foreign=403),
    Route("GET", RULE + "/customers", DISCOUNTS_READ, foreign=403),
    Route("POST", RULE + "/customers", DISCOUNTS_WRITE, {"customers": ["{customer}"]}, foreign=403),
    Route("GET", RULE + "/usages", DISCOUNTS_READ, foreign=403),
    Route(
        "POST",
        RULE + "/usages",
        DISCOUNTS_WRITE,
        {"customer_id": "{customer}", "ref": "R-2", "ref_type": "receipt_add"},
        foreign=403,
    ),
    Route("GET", ACCOUNT + "/discounts/customers/{customer}/rules", DISCOUNTS_READ, foreign=403),
    Route("GET", ACCOUNT + "/discounts/available_for_receipt/claims", DISCOUNTS_READ, foreign=403),
    Route(
        "POST",
        ACCOUNT + "/discounts/available_for_receipt/claims",
        DISCOUNTS_WRITE,
        {
            "purchase_at": "2027-03-01T12:00:00Z",
            "customer_id": "{customer}",
            "discounts": [{"id": "{discount}", "refs": [{"id": "line-1", "amount": 100, "usage": 1}]}],
            "ref": "{new}",
        },
        foreign=403,
    ),
]

# --- the billing family (Frontier-style) -------------------------------------------------------
ORG = "/v1beta1/organizations/{customer}"
WALLET = ORG + "/billing/{wallet}"
ADMIN_WALLET = "/v1beta1/admin/organizations/{customer}/billing/{wallet}"
BILLING_READ, BILLING_WRITE, BILLING_ADMIN = ("billing:read",), ("billing:write",), ("billing:admin",)
BILLING = [
    Route(
        "POST",
        "/v1beta1/organizations/billing/usages",
        BILLING_WRITE,
        {"org_id": "{customer}", "usages": [{"id": "{new}", "amount": 1}]},
    ),
    Route(
        "POST",
        "/v1beta1/organizations/billing/usages/revert",
        BILLING_ADMIN,
        {"org_id": "{customer}", "usage_id": "{debit}", "amount": 1},
    ),
    Route("POST", "/v1beta1/billing/check", BILLING_READ, {"org_id": "{customer}", "amount": 1}),
    Route("GET", ORG + "/billing", BILLING_READ),
    Route("POST", ORG + "/billing", BILLING_ADMIN, {}),
    Route("GET", ORG + "/projects", BILLING_READ),
    Route("POST", ORG + "/projects", BILLING_ADMIN, {"name": "Second"}),
    Route("POST", WALLET + "/usages", BILLING_WRITE, {"usages": [{"id": "{new}", "amount": 1}]}),
    Route("GET", WALLET + "/balance", BILLING_READ),
    Route("GET", WALLET + "/transactions", BILLING_READ),
    Route("GET", WALLET + "/debited_transactions_total", BILLING_READ),
    Route("POST", WALLET + "/credits", BILLING_ADMIN, {"id": "{new}", "amount": 5}),
    Route("PUT", WALLET + "/limits", BILLING_ADMIN, {"credit_min": -5}),
    Route("GET", WALLET, BILLING_READ),
    Route("GET", ORG + "/billing/transactions", BILLING_READ),
    Route("PUT", ADMIN_WALLET + "/limits", BILLING_ADMIN, {"credit_min": -5}),
    Route("POST", ADMIN_WALLET + "/usage/{debit}/revert", BILLING_ADMIN, {"amount": 1}),
    # Frontier's admin webhooks API and the events list (webhooks/api.py)
    Route("GET", "/v1beta1/admin/webhooks", BILLING_ADMIN, foreign=LISTS_OWN),
    Route(
        "POST",
        "/v1beta1/admin/webhooks",
        BILLING_ADMIN,
        {"body": {"url": "http://127.0.0.1:9/{new}"}},
        foreign=CREATES_OWN,
    ),
    Route("PUT", "/v1beta1/admin/webhooks/{webhook}", BILLING_ADMIN, {"body": {"url": "http://127.0.0.1:9/x"}}),
    Route("DELETE", "/v1beta1/admin/webhooks/{webhook}", BILLING_ADMIN),
    Route("GET", "/v1beta1/events?since=0", EVENTS_READ, foreign=LISTS_OWN),
]

ROUTES: list[Route] = [*CREDITS, *BENEFITS, *DISCOUNTS, *BILLING]
FAMILIES = ("credits", "benefits", "discounts", "billing")


# --- what the URL resolver serves ------------------------------------------------------------------


def _methods(callback) -> set[str]:
    """The HTTP methods a routed view answers (OPTIONS and HEAD aside): a ViewSet's routed actions, or
    the handlers an APIView defines."""
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions} - {"OPTIONS", "HEAD"}
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:
        return {"<function view>"}
    names = set(getattr(view, "http_method_names", ())) - {"options", "head"}
    return {name.upper() for name in names if hasattr(view, name)}


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        # Joined as Django joins them into ResolverMatch.route.
        route = prefix + str(entry.pattern).removeprefix("^") if prefix else str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def served(urlconf=None) -> set[tuple[str, str, str]]:
    """(family, method, route) for every route the resolver serves under a family's prefix."""
    found = set()
    for route, callback in _walk(get_resolver(urlconf).url_patterns):
        family = family_of("/" + route)
        if family:
            found |= {(family, method, route) for method in _methods(callback)}
    return found


def outside_families() -> set[str]:
    """Routes under no family's prefix and not in NOT_FAMILY_PREFIXES: each must be added to one or the other."""
    return {
        route
        for route, _callback in _walk(get_resolver().url_patterns)
        if not family_of("/" + route) and not ("/" + route).startswith(NOT_FAMILY_PREFIXES)
    }


def covered(ids: dict) -> set[tuple[str, str, str]]:
    """(family, method, route) for every row of the table, resolved with the world's ids."""
    from tests.world import fill

    return {(row.family, row.method, resolve(fill(row.path, ids).split("?")[0]).route) for row in ROUTES}
