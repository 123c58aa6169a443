"""Customers, membership types and memberships over the credits family (the customers app's part of it)."""

import pytest

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


# --- PIN: set through the API, unique within the account, never answered back ----------------------


def test_a_pin_is_set_but_never_answered(api, customer):
    created = api.post("/customers/customers", {"pin": "4711"})
    assert created.status_code == 201
    assert "pin" not in created.json()["data"]
    assert Customer.objects.get(pk=created.json()["data"]["id"]).pin == "4711"
    patched = api.patch(f"/customers/customers/{customer.pk}", {"pin": "1234"})
    assert patched.status_code == 200 and "pin" not in patched.json()["data"]
    customer.refresh_from_db()
    assert customer.pin == "1234"
    assert api.patch(f"/customers/customers/{customer.pk}", {"pin": ""}).status_code == 200
    customer.refresh_from_db()
    assert customer.pin is None


def test_a_pin_is_unique_within_the_account(api, make_customer, account, other_account):
    make_customer(account, pin="4711")
    make_customer(other_account, pin="9999")
    before = snapshot()
    response = api.post("/customers/customers", {"pin": "4711"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"pin": ["Another customer already has this PIN."]}
    assert snapshot() == before
    assert api.post("/customers/customers", {"pin": "9999"}).status_code == 201


# --- updates write only what changed, and say who ----------------------------------------------------


def test_a_patch_that_changes_nothing_writes_nothing(api, customer):
    before = snapshot()
    response = api.patch(f"/customers/customers/{customer.pk}", {"first_name": customer.first_name})
    assert response.status_code == 200
    assert snapshot() == before


def test_a_patch_records_who_changed_the_customer(api, customer):
    api.patch(f"/customers/customers/{customer.pk}", {"last_name": "Byron"})
    customer.refresh_from_db()
    assert (customer.last_name, customer.updated_by) == ("Byron", "client:pos-frontdesk")


def test_a_membership_of_another_customer_is_404_on_cancel(api, customer, make_customer, account, membership):
    other = make_customer(account, email="bo@example.com")
    before = snapshot()
    response = api.post(f"/customers/customers/{other.pk}/memberships/{membership.pk}/cancel")
    assert response.status_code == 404 and response.json() == {"message": "Membership not found."}
    assert snapshot() == before
