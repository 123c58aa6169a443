"""Hostile numbers and times, for the credits and benefits families: numbers that are not ASCII digits within
their bounds, and date-times without an offset, are refused in the family's dialect (422 in the credits
family, 400 in the benefits family) on every numeric and date-time input, and nothing is written."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from tests.conftest import SYSTEM, snapshot

pytestmark = pytest.mark.django_db

# Every way a JSON body can give a number that is not one: Unicode digits (str.isdigit() says yes, int() takes
# some), padding, signs and decimals, exponents, booleans, and values past int64.
BAD_NUMBERS = [
    "²",
    "١٢٣",
    "٣",
    " 5",
    "5 ",
    "5\n",
    "+5",
    "5.0",
    5.5,
    "1e3",
    "0x10",
    "1_000",
    "",
    True,
    [5],
    {"n": 5},
    2**63,
    "9223372036854775808",
    -(2**63) - 1,
    10**30,
]
# The same, as they arrive in a query string or a path.
BAD_QUERY_NUMBERS = ["²", "١٢٣", " 5", "5 ", "+5", "5.0", "1e3", "0x10", "1_000", "9223372036854775808", "9" * 40]
# Date-times without an offset, and date-times that are not RFC 3339 at all.
BAD_DATES = [
    "2027-01-01",
    "2027-01-01T00:00:00",
    "2027-01-01 00:00:00",
    "2027-01-01T00:00:00.000",
    "٢٠٢٧-01-01T00:00:00Z",
    "2027-01-01T00:00:00+٠٢:00",
    "2027-13-01T00:00:00Z",
    "tomorrow",
    20270101,
    True,
]


def assert_refused(response, field: str, before: dict) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"message", "errors"} and field in body["errors"], body
    assert snapshot() == before


def assert_page_number_refused(api, path: str, name: str, bad: str) -> None:
    """A list's `name` (page or per_page) that is not a number in range: 422, naming it."""
    response = api.get(path, {name: bad})
    assert response.status_code == 422, response.content
    assert name in response.json()["errors"]


# --- coupons ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["value", "max_uses", "default_revenue"])
@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=repr)
def test_a_coupon_number_that_is_not_one_is_422_on_create(api, field, bad):
    body = {"name": "Voucher", "kind": "monetary", "value": 100, "multi_use": True, field: bad}
    before = snapshot()
    assert_refused(api.post("/customers/coupons", body), field, before)


@pytest.mark.parametrize("field", ["value", "max_uses", "default_revenue"])
@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=repr)
def test_a_coupon_number_that_is_not_one_is_422_on_update(api, make_coupon, account, field, bad):
    coupon = make_coupon(account, kind="monetary", value=100, multi_use=True)
    before = snapshot()
    assert_refused(api.patch(f"/customers/coupons/{coupon.pk}", {field: bad}), field, before)


@pytest.mark.parametrize("bad", ["P٣0D", "P30D\n", "P30D ", "P999999999999999999999D", "P9000Y", "P-1D"], ids=repr)
def test_a_coupon_valid_for_that_is_not_a_duration_is_422(api, bad):
    # "P999999999999999999999D" and "P9000Y" overflowed (a 500); "P30D\n" was stored with its newline.
    before = snapshot()
    body = {"name": "Massage", "offering": "Massage", "valid_for": bad}
    assert_refused(api.post("/customers/coupons", body), "valid_for", before)


@pytest.mark.parametrize("bad", ["massage\n", "massage ", "mässage"], ids=repr)
def test_a_benefit_key_with_a_trailing_newline_or_a_non_ascii_letter_is_422(api, bad):
    before = snapshot()
    body = {"name": "Massage", "offering": "Massage", "benefit_key": bad}
    assert_refused(api.post("/customers/coupons", body), "benefit_key", before)


@pytest.mark.parametrize("good, stored", [(5, 5), ("5", 5), ("9223372036854775807", 2**63 - 1)])
def test_a_coupon_value_may_be_a_number_or_a_string_of_ascii_digits(api, good, stored):
    response = api.post("/customers/coupons", {"name": "Voucher", "kind": "monetary", "value": good})
    assert response.status_code == 201, response.content
    assert response.json()["data"]["value"] == stored


# --- credits --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=repr)
def test_a_credit_revenue_that_is_not_a_number_is_422(api, customer, coupon, bad):
    before = snapshot()
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "revenue": bad}
    assert_refused(api.post(f"/customers/customers/{customer.pk}/credits", body), "revenue", before)


@pytest.mark.parametrize("bad", BAD_DATES, ids=repr)
def test_a_credit_expiry_without_an_offset_is_422(api, customer, coupon, bad):
    before = snapshot()
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "expiry_date": bad}
    assert_refused(api.post(f"/customers/customers/{customer.pk}/credits", body), "expiry_date", before)


@pytest.mark.parametrize("path", ["/customers/customers/{customer}/credits", "/customers/coupons"])
@pytest.mark.parametrize("name", ["page", "per_page"])
@pytest.mark.parametrize("bad", BAD_QUERY_NUMBERS, ids=repr)
def test_a_page_number_that_is_not_one_is_422(api, credit, path, name, bad):
    assert_page_number_refused(api, path.format(customer=credit.customer_id), name, bad)


# --- membership credit rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [*BAD_NUMBERS, 0, 1001], ids=repr)
def test_a_rule_quantity_that_is_not_a_number_is_422(api, membership_type, coupon, bad):
    before = snapshot()
    body = {"membership_type_id": str(membership_type.pk), "coupon_id": str(coupon.pk), "quantity": bad}
    assert_refused(api.post("/customers/membership-credit-rules", body), "quantity", before)


@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=repr)
def test_a_rule_quantity_update_that_is_not_a_number_is_422(api, membership_type, coupon, bad):
    from credits import services

    rule = services.membership_credit_rule_create(
        account=coupon.account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM
    )
    before = snapshot()
    assert_refused(api.patch(f"/customers/membership-credit-rules/{rule.pk}", {"quantity": bad}), "quantity", before)


# --- benefits family: 400 in its dialect ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [*BAD_QUERY_NUMBERS, "-", "1-"], ids=repr)
@pytest.mark.parametrize("suffix", ["benefits", "benefits/massage/use"])
def test_a_customer_id_that_is_not_an_int64_is_a_benefits_400(api, credit, bad, suffix):
    # "١٢٣" passed str.isdigit() and int() read it as 123: a lookup of a number nobody wrote.
    before = snapshot()
    method = api.post if suffix.endswith("use") else api.get
    response = method(f"/v1/customers/{bad}/{suffix}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["errorCode"], body["reference"]) == ("request.invalid", "customerId")
    assert snapshot() == before


def test_unicode_digits_never_find_a_customer_by_their_value(api, make_customer, account, coupon, make_credit):
    customer = make_customer(account)
    make_credit(customer, coupon)
    arabic = str(customer.number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = api.post(f"/v1/customers/{arabic}/benefits/massage/use")
    assert response.status_code == 400
    assert api.post(f"/v1/customers/{customer.number}/benefits/massage/use").status_code == 204


@pytest.mark.parametrize("bad", ["١٢٣", " 5", "5 ", "5\n", "+5", "5.0", "1e3", "9" * 21], ids=repr)
@pytest.mark.parametrize(
    "method, path", [("GET", "/v1/customers/benefits"), ("POST", "/v1/customers/benefits/massage/use")]
)
def test_a_decimal_card_number_that_is_not_ascii_digits_is_a_benefits_400(api, credit, bad, method, path):
    before = snapshot()
    response = api.request(method, f"{path}?{urlencode({'cardNumber': bad})}")
    assert response.status_code == 400, response.content
    assert (response.json()["errorCode"], response.json()["reference"]) == ("request.invalid", "cardNumber")
    assert snapshot() == before


@pytest.mark.parametrize("bad", ["DEAD\n", "٣F", " FF", "0xZZ"], ids=repr)
def test_a_hex_card_number_that_is_not_hex_digits_is_a_benefits_400(api, credit, bad):
    response = api.get("/v1/customers/benefits", {"cardNumber": bad, "cardNumberFormat": "HEX_MSB"})
    assert response.status_code == 400, response.content
    assert response.json()["reference"] == "cardNumber"


def test_an_aware_expiry_in_the_future_is_accepted(api, customer, coupon, make_credit):
    expiry = (timezone.now() + timedelta(days=2)).isoformat()
    response = api.post(
        f"/customers/customers/{customer.pk}/credits",
        {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "expiry_date": expiry},
    )
    assert response.status_code == 201 and response.json()["data"]["status"] == "active"


# --- the messages the family has always answered stay as they were ----------------------------------------

DRF_DATETIME = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
NAIVE = "Must be an RFC 3339 date-time with an offset, e.g. 2027-01-01T00:00:00Z."


@pytest.mark.parametrize(
    "change, errors",
    [
        ({"revenue": "lots"}, {"revenue": ["A valid integer is required."]}),
        ({"revenue": "١٢٣"}, {"revenue": ["A valid integer is required."]}),
        ({"revenue": -1}, {"revenue": ["Ensure this value is greater than or equal to 0."]}),
        ({"revenue": 2**63}, {"revenue": ["Ensure this value is less than or equal to 9223372036854775807."]}),
        ({"expiry_date": "tomorrow"}, {"expiry_date": [DRF_DATETIME]}),
        ({"expiry_date": "٢٠٢٧-01-01T00:00:00Z"}, {"expiry_date": [DRF_DATETIME]}),
        ({"expiry_date": "2027-01-01"}, {"expiry_date": [NAIVE]}),
        ({"expiry_date": "2027-01-01T00:00:00"}, {"expiry_date": [NAIVE]}),
    ],
)
def test_the_issue_errors_read_as_they_always_did(api, customer, coupon, change, errors):
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), **change}
    response = api.post(f"/customers/customers/{customer.pk}/credits", body)
    assert response.status_code == 422
    assert response.json()["errors"] == errors


@pytest.mark.parametrize(
    "raw, message",
    [
        ("abc", "Must be a whole number."),
        ("١٢٣", "Must be a whole number."),
        ("0", "Must be between 1 and 2147483647."),
    ],
)
def test_the_page_errors_read_as_they_always_did(api, credit, raw, message):
    response = api.get(f"/customers/customers/{credit.customer_id}/credits", {"page": raw})
    assert response.json() == {"message": f"page: {message}", "errors": {"page": [message]}}
    response = api.get(f"/customers/customers/{credit.customer_id}/credits", {"page": "9" * 19})
    assert response.json()["errors"] == {"page": ["Must be between 1 and 2147483647."]}
