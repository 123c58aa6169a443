"""Hostile numbers and times, for the customers part of the credits family: numbers that are not ASCII digits
within int64, and date-times without an offset, are a 422 in the family's dialect, and nothing is written."""

import pytest

from tests.conftest import snapshot
from tests.credits.test_hostile_input import BAD_DATES, BAD_QUERY_NUMBERS, assert_page_number_refused, assert_refused

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["started_at", "ends_at"])
@pytest.mark.parametrize("bad", BAD_DATES, ids=repr)
def test_a_membership_date_without_an_offset_is_422(api, customer, membership_type, field, bad):
    before = snapshot()
    body = {"membership_type_id": str(membership_type.pk), field: bad}
    assert_refused(api.post(f"/customers/customers/{customer.pk}/memberships", body), field, before)


def test_a_membership_date_with_an_offset_is_accepted(api, customer, membership_type):
    body = {"membership_type_id": str(membership_type.pk), "started_at": "2026-01-01T01:00:00+01:00"}
    response = api.post(f"/customers/customers/{customer.pk}/memberships", body)
    assert response.status_code == 201, response.content
    assert response.json()["data"]["started_at"] == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("bad", BAD_QUERY_NUMBERS, ids=repr)
def test_a_customer_number_filter_that_is_not_an_int64_is_422(api, customer, bad):
    response = api.get("/customers/customers", {"number": bad})
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"number": ["Enter a number."]}  # NumberFilter's message, as before


@pytest.mark.parametrize(
    "path", ["/customers/customers", "/customers/membership-types", "/customers/customers/{customer}/memberships"]
)
@pytest.mark.parametrize("name", ["page", "per_page"])
@pytest.mark.parametrize("bad", BAD_QUERY_NUMBERS, ids=repr)
def test_a_page_number_that_is_not_one_is_422(api, customer, path, name, bad):
    assert_page_number_refused(api, path.format(customer=customer.pk), name, bad)


@pytest.mark.parametrize("bad", ["١٢٣", "12\n", " 12", "12 ", "+12", "1.0", "²"], ids=repr)
def test_a_card_number_that_is_not_ascii_digits_is_422(api, customer, bad):
    before = snapshot()
    assert_refused(api.post("/customers/customers", {"card_number": bad}), "card_number", before)
    assert_refused(api.patch(f"/customers/customers/{customer.pk}", {"card_number": bad}), "card_number", before)
