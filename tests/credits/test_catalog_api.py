"""Coupons and membership credit rules over the credits family."""

import pytest

from credits.models import Coupon, MembershipCreditRule

pytestmark = pytest.mark.django_db


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
