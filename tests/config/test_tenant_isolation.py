"""Every endpoint of every family, called by a client of another account holding every scope: 404
(403 for a foreign `aid` in the discounts family), and nothing of the first account changes."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.urls import URLPattern, get_resolver

from billing import services as billing_services
from credits import services as credit_services
from discounts import services as discount_services
from tests.conftest import SYSTEM, snapshot

pytestmark = pytest.mark.django_db

A = "/v1/accounts/T00000001"
ORG = "/v1beta1/organizations/{customer}"
WALLET = ORG + "/billing/{wallet}"

# (method, path, body, expected status). Paths name objects of the first account only.
CALLS = [
    # credits family (collections answer the caller's own, empty lists: checked separately)
    ("GET", "/customers/customers/{customer}", None, 404),
    ("PATCH", "/customers/customers/{customer}", {"first_name": "X"}, 404),
    ("GET", "/customers/customers/{customer}/memberships", None, 404),
    ("POST", "/customers/customers/{customer}/memberships", {"membership_type_id": "{type}"}, 404),
    ("POST", "/customers/customers/{customer}/memberships/{membership}/cancel", None, 404),
    ("GET", "/customers/customers/{customer}/credits", None, 404),
    ("POST", "/customers/customers/{customer}/credits", {"coupon_id": "{coupon}", "customer_id": "{customer}"}, 404),
    ("GET", "/customers/customers/{customer}/credits/{credit}", None, 404),
    ("DELETE", "/customers/customers/{customer}/credits/{credit}", None, 404),
    ("POST", "/customers/customers/{customer}/credits/{credit}/redeem", {}, 404),
    ("GET", "/customers/customers/{customer}/credits/{credit}/uses", None, 404),
    ("POST", "/customers/customers/{customer}/credits/{used}/uses/{use}/reverse", None, 404),
    ("GET", "/customers/coupons/{coupon}", None, 404),
    ("PATCH", "/customers/coupons/{coupon}", {"active": False}, 404),
    ("GET", "/customers/membership-credit-rules/{rule}", None, 404),
    ("PATCH", "/customers/membership-credit-rules/{rule}", {"quantity": 5}, 404),
    # benefits family
    ("GET", "/v1/customers/{number}/benefits", None, 404),
    ("POST", "/v1/customers/{number}/benefits/massage/use", None, 404),
    ("GET", "/v1/customers/benefits?cardNumber=4242", None, 404),
    ("POST", "/v1/customers/benefits/massage/use?barcode=B-1", None, 404),
    # discounts family: a foreign aid is 403
    ("POST", A + "/auth/token", {"grant_type": "client_credentials"}, 403),
    ("GET", A + "/discounts/rules", None, 403),
    ("POST", A + "/discounts/rules", {"name": "x", "reward": {"type": "discount_amount", "value": 1}}, 403),
    ("GET", A + "/discounts/rules/{discount}", None, 403),
    ("PUT", A + "/discounts/rules/{discount}", {"name": "x", "reward": {"type": "discount_amount", "value": 1}}, 403),
    ("DELETE", A + "/discounts/rules/{discount}", None, 403),
    ("GET", A + "/discounts/rules/{discount}/customers", None, 403),
    ("POST", A + "/discounts/rules/{discount}/customers", {"customers": ["{customer}"]}, 403),
    ("GET", A + "/discounts/rules/{discount}/usages", None, 403),
    (
        "POST",
        A + "/discounts/rules/{discount}/usages",
        {"customer_id": "{customer}", "ref": "r", "ref_type": "receipt_add"},
        403,
    ),
    ("GET", A + "/discounts/customers/{customer}/rules", None, 403),
    ("GET", A + "/discounts/available_for_receipt/claims", None, 403),
    (
        "POST",
        A + "/discounts/available_for_receipt/claims",
        {
            "purchase_at": "2027-01-01T00:00:00Z",
            "customer_id": "{customer}",
            "discounts": [{"id": "{discount}", "refs": [{"id": "r", "amount": 1, "usage": 1}]}],
        },
        403,
    ),
    # billing family
    (
        "POST",
        "/v1beta1/organizations/billing/usages",
        {"org_id": "{customer}", "usages": [{"id": "{new}", "amount": 1}]},
        404,
    ),
    (
        "POST",
        "/v1beta1/organizations/billing/usages/revert",
        {"org_id": "{customer}", "usage_id": "{debit}", "amount": 1},
        404,
    ),
    ("POST", "/v1beta1/billing/check", {"org_id": "{customer}", "amount": 1}, 404),
    ("GET", ORG + "/billing", None, 404),
    ("POST", ORG + "/billing", {}, 404),
    ("GET", ORG + "/projects", None, 404),
    ("POST", ORG + "/projects", {"name": "p"}, 404),
    ("POST", WALLET + "/usages", {"usages": [{"id": "{new}", "amount": 1}]}, 404),
    ("GET", WALLET + "/balance", None, 404),
    ("GET", WALLET + "/transactions", None, 404),
    ("GET", WALLET + "/debited_transactions_total", None, 404),
    ("POST", WALLET + "/credits", {"id": "{new}", "amount": 5}, 404),
    ("PUT", WALLET + "/limits", {"credit_min": -5}, 404),
    ("GET", WALLET, None, 404),
    ("GET", ORG + "/billing/transactions", None, 404),
    ("PUT", "/v1beta1/admin/organizations/{customer}/billing/{wallet}/limits", {"credit_min": -5}, 404),
    ("POST", "/v1beta1/admin/organizations/{customer}/billing/{wallet}/usage/{debit}/revert", {"amount": 1}, 404),
]
# Collections of the credits family: another account sees only its own (empty) list.
COLLECTIONS = [
    "/customers/customers",
    "/customers/coupons",
    "/customers/membership-types",
    "/customers/membership-credit-rules",
]


@pytest.fixture
def world(account, make_customer, coupon, make_credit, membership, membership_type):
    customer = membership.customer
    customer.card_number, customer.barcode = "4242", "B-1"
    customer.save()
    credit = make_credit(customer, coupon)
    used = make_credit(customer, coupon)
    use = credit_services.credit_redeem(
        account=account, customer_id=customer.pk, credit_id=used.pk, actor=SYSTEM
    ).use_records.get()
    rule = credit_services.membership_credit_rule_create(
        account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM
    )
    discount = discount_services.discount_rule_create(
        account=account, actor=SYSTEM, name="D", reward_type="discount_amount", reward_value=5
    )
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    billing_services.billing_top_up(
        account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=50, actor=SYSTEM
    )
    debit = uuid.uuid4()
    billing_services.billing_usage_report(
        account=account,
        billing_account_id=wallet.pk,
        actor=SYSTEM,
        usages=[billing_services.Usage(id=debit, type="credit", amount=5)],
    )
    return {
        "customer": customer.pk,
        "number": customer.number,
        "credit": credit.pk,
        "used": used.pk,
        "use": use.pk,
        "coupon": coupon.pk,
        "rule": rule.pk,
        "membership": membership.pk,
        "type": membership_type.pk,
        "discount": discount.pk,
        "wallet": wallet.pk,
        "debit": debit,
        "new": uuid.uuid4(),
    }


def fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def everything() -> dict:
    from billing.models import BillingAccount, BillingTransaction, FeatureUsage, Project
    from discounts.models import DiscountClaim, DiscountRef, DiscountRule, UsageRef

    state = snapshot()
    for model in (BillingAccount, BillingTransaction, FeatureUsage, Project, DiscountRule, DiscountRef, DiscountClaim):
        state[model.__name__] = sorted(map(repr, model.objects.filter(account_id="T00000001").values()))
    state["UsageRef"] = sorted(map(repr, UsageRef.objects.values()))
    return state


def test_the_table_covers_every_route_of_every_family():
    covered = {(m, p.split("?")[0]) for m, p, _, _ in CALLS} | {("GET", c) for c in COLLECTIONS}
    routes = set()
    for pattern in get_resolver().url_patterns:
        for entry in getattr(pattern, "url_patterns", [pattern]):
            callback = getattr(entry, "callback", None)
            view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)  # a ViewSet: cls
            if isinstance(entry, URLPattern) and getattr(view, "dialect", ""):
                # A ViewSet route serves only its mapped methods (DRF adds "head" to them once a GET was served).
                actions = getattr(callback, "actions", None)
                methods = [m.upper() for m in actions if m != "head"] if actions else view.required_scopes or {"POST": ()}
                routes |= {(method, str(entry.pattern)) for method in methods}
    collection_posts = {("POST", c.lstrip("/")) for c in COLLECTIONS}
    # Creating in a collection makes an object of the caller's own account: nothing to refuse there.
    assert len(routes - collection_posts) == len(covered), sorted(routes)


@pytest.mark.parametrize("method, path, body, expected", CALLS, ids=[f"{m} {p}" for m, p, _, _ in CALLS])
def test_another_account_is_refused_and_changes_nothing(
    world, other_account, make_api, make_client, method, path, body, expected
):
    foreign = make_api(other_account)
    extra = {}
    if path.endswith("/auth/token"):
        client, secret = make_client(other_account, name="basic")
        extra["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    before = everything()
    response = foreign.request(method, fill(path, world), fill(body, world), **extra)
    assert response.status_code == expected, response.content
    assert everything() == before


@pytest.mark.parametrize("path", COLLECTIONS)
def test_collections_never_show_another_accounts_objects(world, other_account, make_api, path):
    body = make_api(other_account).get(path).json()
    assert body["data"] == [] and body["meta"]["total"] == 0
