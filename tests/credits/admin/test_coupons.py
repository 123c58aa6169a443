"""The coupon pages (credits/admin/coupons.py)."""

import pytest
from django.urls import reverse

from credits.models import Coupon
from tests.credits.admin.conftest import (
    action_names,
    change_url,
)

pytestmark = pytest.mark.django_db


def coupon_form(account, **overrides):
    data = {
        "account": account.pk,
        "name": "Gift card",
        "description": "",
        "benefit_key": "",
        "active": "on",
        "kind": "monetary",
        "offering": "",
        "value": "",
        "currency": "",
        "max_uses": "",
        "valid_for": "",
        "default_revenue": "0",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_monetary_coupon_without_value_is_a_form_error_not_a_500(root, account):
    response = root.post(reverse("admin:credits_coupon_add"), coupon_form(account))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["value"] == [
        "A monetary coupon needs a value greater than 0 (minor units)."
    ]
    assert not Coupon.objects.exists()


@pytest.mark.django_db
def test_coupon_is_created_and_edited_through_the_services(root, account):
    response = root.post(reverse("admin:credits_coupon_add"), coupon_form(account, value="500.00"))

    assert response.status_code == 302
    coupon = Coupon.objects.get(name="Gift card")
    assert (coupon.value, coupon.currency) == (50000, "NOK")

    edit = coupon_form(account, value="500.00", currency="NOK", max_uses="2")
    del edit["account"]
    response = root.post(change_url(coupon), edit)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["max_uses"] == ["max_uses is only allowed on a multi_use coupon."]
    coupon.refresh_from_db()
    assert coupon.max_uses is None


@pytest.mark.django_db
def test_coupon_deactivate_action_and_no_delete(root, coupon):
    response = root.get(reverse("admin:credits_coupon_changelist"))
    assert "delete_selected" not in action_names(response)

    root.post(
        reverse("admin:credits_coupon_changelist"),
        {"action": "deactivate_selected", "_selected_action": [str(coupon.pk)], "index": "0"},
    )

    coupon.refresh_from_db()
    assert coupon.active is False


def test_coupon_list_shows_currency_not_minor_units(desk, gift):
    page = desk.get(reverse("admin:credits_coupon_changelist")).content.decode()
    assert "NOK 200.00" in page and "20000 NOK" not in page
