"""Customers, coupons, membership types, memberships and membership credit rules over the credits family."""

import pytest

from credits.models import Coupon, MembershipCreditRule
from customers.models import Customer, Membership
from tests.conftest import snapshot

pytestmark = pytest.mark.django_db


# --- customers ------------------------------------------------------------------------------------


def test_create_customer_assigns_a_number(api):
    response = api.post(
        "/customers/customers",
        {
            "email": "bo@example.com",
            "first_name": "Bo",
            "last_name": "Ek",
            "external_ref": "crm-7",
            "card_number": "42",
        },
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) == {
        "id",
        "number",
        "email",
        "first_name",
        "last_name",
        "external_ref",
        "card_number",
        "barcode",
        "created_at",
        "updated_at",
    }
    assert isinstance(data["number"], int) and data["number"] > 0
    assert Customer.objects.get(pk=data["id"]).account_id == "T00000001"


def test_customer_list_filters(api, make_customer, account):
    a = make_customer(account, email="a@example.com", external_ref="crm-1")
    make_customer(account, email="b@example.com", external_ref="crm-2")
    assert [c["id"] for c in api.get("/customers/customers", {"email": "A@example.com"}).json()["data"]] == [str(a.pk)]
    assert [c["id"] for c in api.get("/customers/customers", {"external_ref": "crm-1"}).json()["data"]] == [str(a.pk)]
    assert [c["id"] for c in api.get("/customers/customers", {"number": a.number}).json()["data"]] == [str(a.pk)]
    assert api.get("/customers/customers").json()["meta"]["total"] == 2
    response = api.get("/customers/customers", {"number": "abc"})
    assert response.status_code == 422 and "number" in response.json()["errors"]


def test_patch_customer(api, customer):
    response = api.patch(f"/customers/customers/{customer.pk}", {"first_name": "Augusta", "barcode": "BC-1"})
    assert response.status_code == 200
    assert response.json()["data"]["first_name"] == "Augusta" and response.json()["data"]["barcode"] == "BC-1"
    assert response.json()["data"]["last_name"] == "Lovelace"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"card_number": "12ab"}, "card_number"),
        ({"first_name": "x" * 101}, "first_name"),
    ],
)
def test_customer_validation_is_422(api, body, field):
    before = snapshot()
    response = api.post("/customers/customers", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert snapshot() == before


def test_card_number_is_unique_within_the_account(api, make_customer, account):
    make_customer(account, card_number="777")
    response = api.post("/customers/customers", {"card_number": "777"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"card_number": ["Another customer already has this card number."]}


def test_unknown_customer_is_404(api):
    response = api.get("/customers/customers/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and response.json() == {"message": "Customer not found."}


def test_non_uuid_customer_path_is_404(api):
    assert api.get("/customers/customers/12345").status_code == 404


# --- coupons --------------------------------------------------------------------------------------


def test_create_offering_and_monetary_coupons(api):
    offering = api.post(
        "/customers/coupons",
        {
            "name": "Massage",
            "kind": "offering",
            "offering": "Massage 60",
            "benefit_key": "massage",
            "valid_for": "P1M",
            "default_revenue": 4500,
        },
    )
    assert offering.status_code == 201
    assert offering.json()["data"]["valid_for"] == "P1M" and offering.json()["data"]["active"] is True
    monetary = api.post("/customers/coupons", {"name": "Voucher", "kind": "monetary", "value": 20000})
    assert monetary.status_code == 201
    assert monetary.json()["data"]["currency"] == "NOK"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "V", "kind": "monetary"}, "value"),
        ({"name": "V", "kind": "monetary", "value": 0}, "value"),
        ({"name": "O", "kind": "offering"}, "offering"),
        ({"name": "O", "offering": "x", "max_uses": 3}, "max_uses"),
        ({"name": "O", "offering": "x", "benefit_key": "has space"}, "benefit_key"),
        ({"name": "O", "offering": "x", "valid_for": "30 days"}, "valid_for"),
        ({"name": "O", "offering": "x", "default_revenue": -5}, "default_revenue"),
        ({"offering": "x"}, "name"),
        ({"name": "O", "offering": "x", "kind": "gift"}, "kind"),
    ],
)
def test_coupon_validation_is_422(api, body, field):
    response = api.post("/customers/coupons", body)
    assert response.status_code == 422 and field in response.json()["errors"], response.json()
    assert not Coupon.objects.exists()


def test_coupon_is_deactivated_not_deleted(api, coupon):
    response = api.patch(f"/customers/coupons/{coupon.pk}", {"active": False})
    assert response.status_code == 200 and response.json()["data"]["active"] is False
    assert api.delete(f"/customers/coupons/{coupon.pk}").status_code == 405
    assert Coupon.objects.filter(pk=coupon.pk).exists()


def test_coupon_get_and_list(api, coupon):
    assert api.get(f"/customers/coupons/{coupon.pk}").json()["data"]["name"] == "60 min massage"
    assert api.get("/customers/coupons").json()["meta"]["total"] == 1
    assert api.get("/customers/coupons/00000000-0000-0000-0000-000000000000").status_code == 404


# --- membership types and memberships -------------------------------------------------------------


def test_membership_types(api):
    created = api.post("/customers/membership-types", {"name": "Gold", "description": "Monthly massage"})
    assert created.status_code == 201
    assert api.post("/customers/membership-types", {"name": "Gold"}).status_code == 422
    assert [t["name"] for t in api.get("/customers/membership-types").json()["data"]] == ["Gold"]


def test_membership_create_list_and_cancel(api, customer, membership_type):
    created = api.post(
        f"/customers/customers/{customer.pk}/memberships", {"membership_type_id": str(membership_type.pk)}
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["status"] == "active" and data["started_at"] and data["ends_at"] is None
    assert data["customer_id"] == str(customer.pk)
    listed = api.get(f"/customers/customers/{customer.pk}/memberships").json()["data"]
    assert [m["id"] for m in listed] == [data["id"]]
    cancelled = api.post(f"/customers/customers/{customer.pk}/memberships/{data['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    assert cancelled.json()["data"]["ends_at"]
    again = api.post(f"/customers/customers/{customer.pk}/memberships/{data['id']}/cancel")
    assert again.status_code == 409
    assert Membership.objects.get(pk=data["id"]).cancelled_by == "client:pos-frontdesk"


def test_membership_needs_a_known_type(api, customer):
    response = api.post(
        f"/customers/customers/{customer.pk}/memberships",
        {"membership_type_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert response.status_code == 422 and "membership_type_id" in response.json()["errors"]
    assert not Membership.objects.exists()


# --- membership credit rules ----------------------------------------------------------------------


def test_rule_create_get_patch(api, membership_type, coupon):
    created = api.post(
        "/customers/membership-credit-rules",
        {
            "membership_type_id": str(membership_type.pk),
            "coupon_id": str(coupon.pk),
            "issuing_frequency": "P3M",
            "quantity": 2,
        },
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert (data["issuing_frequency"], data["quantity"], data["roll_over"], data["issue_on_signup"]) == (
        "P3M",
        2,
        False,
        True,
    )
    rule_url = f"/customers/membership-credit-rules/{data['id']}"
    assert api.get(rule_url).json()["data"]["id"] == data["id"]
    patched = api.patch(rule_url, {"roll_over": True, "active": False})
    assert patched.status_code == 200 and patched.json()["data"]["roll_over"] is True
    assert api.get("/customers/membership-credit-rules").json()["meta"]["total"] == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"issuing_frequency": "weekly"}, "issuing_frequency"),
        ({"quantity": 0}, "quantity"),
        ({"coupon_id": "00000000-0000-0000-0000-000000000000"}, "coupon_id"),
    ],
)
def test_rule_validation_is_422(api, membership_type, coupon, change, field):
    body = {"membership_type_id": str(membership_type.pk), "coupon_id": str(coupon.pk), **change}
    response = api.post("/customers/membership-credit-rules", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert not MembershipCreditRule.objects.exists()
