"""The OpenAPI document lists every query parameter the server honours on every list of the credits
and benefits families, and no other. The table below names, for each list, each parameter the server reads
and a value of it that changes the answer; the tests check the table against the document (same operations,
same parameters) and against the server (each probe changes the answer, an unknown parameter does not)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from credits import services as credit_services
from credits.models import CustomerCredit
from customers import services as customer_services
from tests.conftest import SYSTEM
from tests.fuzz.document import document

pytestmark = pytest.mark.django_db

FAMILY_PREFIXES = ("/customers/", "/v1/customers/")
PAGES = {"page": {"page": "2"}, "per_page": {"per_page": "1"}}

# list operation -> (the parameters every call needs, {parameter: the probe added to them}). A probe's None
# takes a parameter out; "without" a probe is the call without the probed parameter.
LISTS: dict[str, tuple[dict, dict[str, dict]]] = {
    "/customers/customers": (
        {},
        {
            "email": {"email": "nobody@example.com"},
            "external_ref": {"external_ref": "crm-none"},
            "number": {"number": "1"},
            **PAGES,
        },
    ),
    "/customers/membership-types": ({}, PAGES),
    "/customers/customers/{customer_id}/memberships": ({}, PAGES),
    "/customers/customers/{customer_id}/credits": (
        {},
        {
            "redeemed": {"redeemed": "true"},
            "expired": {"expired": "true"},
            "revoked": {"revoked": "true"},
            "multi_use": {"multi_use": "true"},
            **PAGES,
        },
    ),
    "/customers/coupons": ({}, PAGES),
    "/customers/membership-credit-rules": ({}, PAGES),
    "/v1/customers/{customerId}/benefits": ({}, {"key": {"key": "sauna"}}),
    "/v1/customers/benefits": (
        {"barcode": "B-1"},
        {
            "key": {"key": "sauna"},
            # Each identifier given alone finds the customer (without it: 400, none given).
            "barcode": {"barcode": "B-1"},
            "cardNumber": {"barcode": None, "cardNumber": "3735928559"},
            "pin": {"barcode": None, "pin": "4711"},
            "cardNumberFormat": {"barcode": None, "cardNumber": "DEADBEEF", "cardNumberFormat": "HEX_MSB"},
        },
    ),
}


def list_operations() -> dict[str, set[str]]:
    """Each GET of the two families whose answer is a list (an array, or the credits family's page), with its
    documented query parameters."""
    found = {}
    for path, operations in document()["paths"].items():
        get = operations.get("get")
        if not path.startswith(FAMILY_PREFIXES) or get is None:
            continue
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        if schema.get("type") == "array" or schema.get("$ref", "").split("/")[-1].startswith("Paginated"):
            found[path] = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
    return found


def test_the_table_names_every_list_of_the_two_families():
    assert set(list_operations()) == set(LISTS)


@pytest.mark.parametrize("path", sorted(LISTS))
def test_a_list_documents_exactly_the_parameters_the_server_honours(path):
    assert list_operations()[path] == set(LISTS[path][1])


@pytest.fixture
def world(account, make_customer, coupon, make_coupon, make_credit, membership, membership_type):
    customer = membership.customer
    customer.card_number, customer.barcode, customer.pin, customer.external_ref = "3735928559", "B-1", "4711", "crm-1"
    customer.save()
    make_customer(account, email="other@example.com")
    make_credit(customer, coupon)
    make_credit(customer, make_coupon(account, name="Sauna", benefit_key="sauna", multi_use=True))
    redeemed = make_credit(customer, coupon)
    credit_services.use_locked_credit(redeemed, actor=SYSTEM)
    expired = make_credit(customer, coupon, expiry_date=timezone.now() + timedelta(days=1))
    CustomerCredit.objects.filter(pk=expired.pk).update(expiry_date=timezone.now() - timedelta(days=1))
    revoked = make_credit(customer, coupon)
    CustomerCredit.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    credit_services.membership_credit_rule_create(
        account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM
    )
    credit_services.membership_credit_rule_create(
        account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, quantity=2, actor=SYSTEM
    )
    credit_services.coupon_create(account=account, name="Tea", offering="Tea", actor=SYSTEM)
    customer_services.membership_type_create(account=account, name="Silver", actor=SYSTEM)
    customer_services.membership_create(customer=customer, membership_type_id=membership_type.pk, actor=SYSTEM)
    return {"customer_id": customer.pk, "customerId": customer.number}


def answer(api, path: str, world: dict, params: dict):
    response = api.get(path.format(**world), {k: v for k, v in params.items() if v is not None})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "path, name", [(path, name) for path, (_, probes) in sorted(LISTS.items()) for name in sorted(probes)]
)
def test_each_documented_parameter_changes_the_answer(api, world, path, name):
    base, probes = LISTS[path]
    with_params = {**base, **probes[name]}
    without = answer(api, path, world, {k: v for k, v in with_params.items() if k != name})
    with_it = answer(api, path, world, with_params)
    assert with_it != without, f"{path}: {name} changed nothing"
    assert with_it[0] == 200, with_it


@pytest.mark.parametrize("path", sorted(LISTS))
def test_a_parameter_the_document_does_not_list_changes_nothing(api, world, path):
    base, _ = LISTS[path]

    def without_links(status_and_body):  # a page's links repeat the query string as given
        status, body = status_and_body
        return status, {k: v for k, v in body.items() if k != "links"} if isinstance(body, dict) else body

    assert without_links(answer(api, path, world, {**base, "colour": "blue"})) == without_links(
        answer(api, path, world, base)
    )
