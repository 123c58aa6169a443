"""What schemathesis found in the credits and benefits families (tests/fuzz), each pinned by its input."""

import pytest

from credits.models import Coupon, CreditUse
from tests.conftest import snapshot
from tests.fuzz.document import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("benefit_key", [True, {"a": 1}, [1]])
def test_a_benefit_key_that_is_not_a_string_is_a_422_not_a_500(api, benefit_key):
    # The field's "invalid" message held the pattern's "{1,64}", which DRF's str.format read as a placeholder.
    before = snapshot()
    response = api.post("/customers/coupons", {"name": "Massage", "offering": "Massage", "benefit_key": benefit_key})
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"benefit_key": ["Not a valid string."]}
    assert snapshot() == before
    assert_conforms(response, "POST", "/customers/coupons")


def test_a_benefit_key_off_the_pattern_names_the_pattern(api):
    response = api.post("/customers/coupons", {"name": "Massage", "offering": "Massage", "benefit_key": "two words"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"benefit_key": ["Must match ^[A-Za-z0-9_.-]{1,64}$."]}
    assert not Coupon.objects.exists()


def test_the_patch_of_a_coupon_refuses_a_benefit_key_that_is_not_a_string(api, coupon):
    response = api.patch(f"/customers/coupons/{coupon.pk}", {"benefit_key": 12.5e300})
    assert response.status_code == 422, response.content
    coupon.refresh_from_db()
    assert coupon.benefit_key == "massage"


@pytest.mark.parametrize("key", ["M\r\x7f", "a%0ALink: <evil>", "%00"])
def test_a_benefit_key_with_control_characters_is_refused_before_any_query(api, customer, key):
    # The raw key went into the Link header; CR or LF in it made Django refuse the header: a 500. A path
    # parameter holding a control character is now refused before the view.
    response = api.post(f"/v1/customers/{customer.number}/benefits/{key}/use")
    assert response.status_code == 400, response.content
    assert response.json()["reference"] == "benefitKey"
    assert "Link" not in response
    assert not CreditUse.objects.exists()


@pytest.mark.parametrize("key", ["sau na+ä", "a<b>;c"])
def test_the_deprecated_use_sends_a_valid_successor_link_for_any_key(api, customer, key):
    # The raw key went into the Link header; CR or LF in it made Django refuse the header: a 500.
    response = api.post(f"/v1/customers/{customer.number}/benefits/{key}/use")
    assert response.status_code == 409, response.content
    assert response.json()["errorCode"] == "benefit.not_available"
    link = response["Link"]
    assert "\r" not in link and "\n" not in link
    assert link.startswith("</v1/customers/benefits/") and link.endswith('/use>; rel="successor-version"')
    assert not CreditUse.objects.exists()


def test_the_deprecated_use_link_encodes_the_key(api, credit):
    response = api.post(f"/v1/customers/{credit.customer.number}/benefits/massage/use")
    assert response.status_code == 204
    assert response["Link"] == '</v1/customers/benefits/massage/use>; rel="successor-version"'
    response = api.post(f"/v1/customers/{credit.customer.number}/benefits/a b&c/use")
    assert response.status_code == 409
    assert response["Link"] == '</v1/customers/benefits/a%20b%26c/use>; rel="successor-version"'


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_bad_idempotency_key_is_a_documented_benefits_error(api, credit, key):
    # The errorCode idempotency_key.invalid was missing from the documented list of the family's codes.
    response = api.post(f"/v1/customers/{credit.customer.number}/benefits/massage/use", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400, response.content
    assert response.json()["errorCode"] == "idempotency_key.invalid"
    assert not CreditUse.objects.exists()
    assert_conforms(response, "POST", "/v1/customers/{customerId}/benefits/{benefitKey}/use")


def test_a_reused_idempotency_key_is_a_documented_benefits_error(api, credit):
    first = api.post(f"/v1/customers/{credit.customer.number}/benefits/massage/use", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 204
    response = api.post("/v1/customers/benefits/massage/use?barcode=B-1", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 400, response.content
    assert response.json()["errorCode"] == "idempotency_key.reused"
    assert CreditUse.objects.count() == 1
    assert_conforms(response, "POST", "/v1/customers/benefits/{benefitKey}/use")


@pytest.mark.parametrize(
    "path",
    [
        "/customers/coupons",
        "/customers/customers/{customer_id}/credits",
        "/customers/customers/{customer_id}/credits/{credit_id}/redeem",
        "/v1/customers/{customerId}/benefits/{benefitKey}/use",
        "/v1/customers/benefits/{benefitKey}/use",
    ],
)
def test_options_describes_the_view_instead_of_failing(api, credit, path):
    # DRF's default metadata built the body's fields from `serializer_class`, which these views do not set: a 500.
    url = path.format(
        customer_id=credit.customer_id, credit_id=credit.pk, customerId=credit.customer.number, benefitKey="massage"
    )
    response = api.request("OPTIONS", url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"name", "description", "renders", "parses"}
    assert body["renders"] == ["application/json"]
    assert "POST" in response["Allow"]


# --- text PostgreSQL cannot hold, and bodies Python cannot parse ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "reference"),
    [
        ("/v1/customers/{number}/benefits", {"key": "a\x00b"}, "key"),
        ("/v1/customers/benefits", {"barcode": "ADA\x00"}, "barcode"),
        ("/v1/customers/{number}/benefits", {"key": ["massage", "\x00"]}, "key"),
    ],
)
def test_a_nul_in_a_benefits_query_is_a_400_not_a_500(api, credit, path, params, reference):
    # The fuzzer's case: GET /v1/customers/benefits?key=<with NUL>&barcode=ADA-0001; PostgreSQL refused the NUL.
    response = api.get(path.format(number=credit.customer.number), params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["errorCode"], body["reference"]) == ("request.invalid", reference)
    assert_conforms(response, "GET", path.replace("{number}", "{customerId}"))


def test_a_nul_in_a_benefit_key_is_a_400_and_nothing_is_used(api, credit):
    response = api.post(f"/v1/customers/{credit.customer.number}/benefits/massage%00/use")
    assert response.status_code == 400, response.content
    assert response.json()["reference"] == "benefitKey"
    assert not CreditUse.objects.exists()


def test_a_nul_in_the_revoke_reason_query_is_a_422_and_nothing_is_revoked(api, credit):
    before = snapshot()
    response = api.delete(f"/customers/customers/{credit.customer_id}/credits/{credit.pk}?reason=a%00b")
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"reason": ["Null characters are not allowed."]}
    assert snapshot() == before


def test_the_revoke_reason_query_keeps_its_length_limit(api, credit):
    response = api.delete(f"/customers/customers/{credit.customer_id}/credits/{credit.pk}?reason={'x' * 5001}")
    assert response.status_code == 422
    assert response.json()["errors"] == {"reason": ["Ensure this field has no more than 5000 characters."]}
    response = api.delete(f"/customers/customers/{credit.customer_id}/credits/{credit.pk}?reason=moved+away")
    assert response.status_code == 200
    credit.refresh_from_db()
    assert credit.revoke_reason == "moved away"


def test_a_body_nested_too_deeply_is_a_422_not_a_500(api):
    response = api.post("/customers/coupons", raw="[" * 50_000 + "]" * 50_000)
    assert response.status_code == 422, response.content
    assert response.json()["message"] == "JSON parse error - the body is nested too deeply."
    assert not Coupon.objects.exists()
    assert_conforms(response, "POST", "/customers/coupons")
