"""The benefits family (Magicline-style): eligibility and usage by number, card number or barcode."""

from datetime import timedelta

import jsonschema
import pytest
from django.utils import timezone

from config.api import dialects
from credits.models import CreditUse, CustomerCredit
from tests.conftest import snapshot

pytestmark = pytest.mark.django_db

ERROR_SCHEMA = dialects.get("benefits").error_schema()


def use_url(customer, key="massage") -> str:
    return f"/v1/customers/{customer.number}/benefits/{key}/use"


def assert_error(response, status: int, code: str, reference: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    assert body["errorCode"] == code
    assert body["traceId"] == response["X-Request-ID"]
    if reference is None:
        assert "reference" not in body
    else:
        assert body["reference"] == reference
    return body


# --- use (deprecated per-customer endpoint) -------------------------------------------------------


def test_use_answers_204_and_records_a_use_on_the_credit(api, credit):
    response = api.post(use_url(credit.customer))
    assert response.status_code == 204 and response.content == b""
    use = CreditUse.objects.get(credit=credit)
    assert use.used_by == "client:pos-frontdesk" and use.revenue == 4500
    uses = api.get(f"/customers/customers/{credit.customer_id}/credits/{credit.pk}/uses").json()["data"]
    assert [u["id"] for u in uses] == [str(use.pk)]


def test_use_with_no_active_credit_is_409_and_changes_nothing(api, credit):
    api.post(use_url(credit.customer))
    before = snapshot()
    body = assert_error(api.post(use_url(credit.customer)), 409, "benefit.not_available")
    assert body["errorMessage"] == f"Customer {credit.customer.number} has no usable 'massage' benefit"
    assert body["args"] == ["massage"] and body["typedArgs"] == [{"value": "massage", "type": "STRING"}]
    assert snapshot() == before


def test_use_of_an_unknown_key_is_409(api, credit):
    assert_error(api.post(use_url(credit.customer, "sauna")), 409, "benefit.not_available")
    assert not CreditUse.objects.exists()


@pytest.mark.parametrize("customer_id", ["abc", "1.5", "99999999999999999999", "12e3", " 1"])
def test_use_with_a_customer_id_that_is_not_int64_is_400(api, credit, customer_id):
    response = api.post(f"/v1/customers/{customer_id}/benefits/massage/use")
    assert_error(response, 400, "request.invalid", reference="customerId")
    assert not CreditUse.objects.exists()


def test_use_for_an_unknown_customer_is_404(api, credit):
    assert_error(api.post("/v1/customers/42/benefits/massage/use"), 404, "customer.not_found")


def test_use_without_credentials_is_401(anonymous, credit):
    assert_error(anonymous.post(use_url(credit.customer)), 401, "auth.unauthenticated")
    assert not CreditUse.objects.exists()


@pytest.mark.parametrize("scope", ["CUSTOMER_WRITE", "CUSTOMER_BENEFIT_WRITE"])
def test_use_needs_any_one_of_the_write_scopes(account, make_api, credit, scope):
    assert make_api(account, scopes=[scope]).post(use_url(credit.customer)).status_code == 204


def test_use_with_an_unrelated_scope_is_403(account, make_api, credit):
    api = make_api(account, scopes=["CUSTOMER_BENEFIT_READ", "credits:write"])
    before = snapshot()
    assert_error(api.post(use_url(credit.customer)), 403, "auth.forbidden")
    assert snapshot() == before


def test_another_accounts_client_gets_404(other_account, make_api, credit):
    foreign = make_api(other_account)
    before = snapshot()
    assert_error(foreign.post(use_url(credit.customer)), 404, "customer.not_found")
    assert snapshot() == before


def test_burn_down_order(api, customer, coupon, make_credit):
    now = timezone.now()
    in_10_days = make_credit(customer, coupon, expiry_date=now + timedelta(days=10))
    never = make_credit(customer, coupon)
    in_2_days = make_credit(customer, coupon, expiry_date=now + timedelta(days=2))
    for expected in (in_2_days, in_10_days, never):
        assert api.post(use_url(customer)).status_code == 204
        expected.refresh_from_db()
        assert expected.uses == 1
    assert_error(api.post(use_url(customer)), 409, "benefit.not_available")


def test_burn_down_ties_go_to_the_oldest_issued(api, customer, coupon, make_credit):
    first, second = make_credit(customer, coupon), make_credit(customer, coupon)
    api.post(use_url(customer))
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.uses, second.uses) == (1, 0)


def test_use_skips_expired_and_revoked_credits(api, customer, coupon, make_credit):
    expired = make_credit(customer, coupon)
    CustomerCredit.objects.filter(pk=expired.pk).update(expiry_date=timezone.now() - timedelta(days=1))
    revoked = make_credit(customer, coupon)
    CustomerCredit.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    assert_error(api.post(use_url(customer)), 409, "benefit.not_available")
    good = make_credit(customer, coupon)
    assert api.post(use_url(customer)).status_code == 204
    good.refresh_from_db()
    assert good.uses == 1


# --- deprecation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("authenticated", [True, False])
def test_deprecated_endpoints_carry_deprecation_and_successor_headers(api, anonymous, credit, authenticated):
    caller = api if authenticated else anonymous
    use = caller.post(use_url(credit.customer))
    assert use["Deprecation"] == "@1767225600"
    assert use["Link"] == '</v1/customers/benefits/massage/use>; rel="successor-version"'
    benefits = caller.get(f"/v1/customers/{credit.customer.number}/benefits")
    assert benefits["Deprecation"] == "@1767225600"
    assert benefits["Link"] == '</v1/customers/benefits>; rel="successor-version"'


def test_successors_are_not_deprecated(api, make_customer, account, coupon, make_credit):
    customer = make_customer(account, barcode="B-1")
    make_credit(customer, coupon)
    response = api.get("/v1/customers/benefits", {"barcode": "B-1"})
    assert "Deprecation" not in response and "Link" not in response


def test_openapi_marks_the_v1_endpoints_deprecated(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = document["paths"]
    assert paths["/v1/customers/{customerId}/benefits"]["get"]["deprecated"] is True
    assert paths["/v1/customers/{customerId}/benefits/{benefitKey}/use"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/v1/customers/benefits"]["get"]
    assert "deprecated" not in paths["/v1/customers/benefits/{benefitKey}/use"]["post"]
    assert paths["/v1/customers/benefits"]["get"]["tags"] == ["benefits"]
    assert "benefit.not_available" in document["components"]["schemas"]["BenefitsError"]["description"]


# --- eligibility ----------------------------------------------------------------------------------


def test_benefits_without_keys_lists_every_key_held_sorted(api, customer, coupon, make_coupon, make_credit):
    make_credit(customer, coupon)
    sauna = make_credit(customer, make_coupon(customer.account, name="Sauna", benefit_key="sauna"))
    CustomerCredit.objects.filter(pk=sauna.pk).update(revoked_at=timezone.now())
    make_credit(customer, make_coupon(customer.account, name="No key", benefit_key=None))
    response = api.get(f"/v1/customers/{customer.number}/benefits")
    assert response.status_code == 200
    assert response.json() == [{"key": "massage", "valid": True}, {"key": "sauna", "valid": False}]


def test_benefits_with_keys_answers_those_in_order_without_duplicates(api, credit):
    response = api.get(f"/v1/customers/{credit.customer.number}/benefits?key=sauna&key=massage&key=sauna")
    assert response.json() == [{"key": "sauna", "valid": False}, {"key": "massage", "valid": True}]


@pytest.mark.parametrize("scope", ["CUSTOMER_BENEFIT_READ", "CUSTOMER_READ"])
def test_benefits_need_any_one_of_the_read_scopes(account, make_api, credit, scope):
    assert make_api(account, scopes=[scope]).get(f"/v1/customers/{credit.customer.number}/benefits").status_code == 200


def test_benefits_errors(api, make_api, account, anonymous, credit):
    number = credit.customer.number
    assert_error(api.get("/v1/customers/x/benefits"), 400, "request.invalid", reference="customerId")
    assert_error(anonymous.get(f"/v1/customers/{number}/benefits"), 401, "auth.unauthenticated")
    assert_error(
        make_api(account, scopes=["CUSTOMER_WRITE"]).get(f"/v1/customers/{number}/benefits"), 403, "auth.forbidden"
    )
    assert_error(api.get("/v1/customers/7/benefits"), 404, "customer.not_found")


# --- successors: card number or barcode -----------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"cardNumber": "3735928559"},
        {"cardNumber": "3735928559", "cardNumberFormat": "DECIMAL"},
        {"cardNumber": "DEADBEEF", "cardNumberFormat": "HEX_MSB"},
        {"cardNumber": "deadbeef", "cardNumberFormat": "HEX_MSB"},
        {"cardNumber": "EFBEADDE", "cardNumberFormat": "HEX_LSB"},
    ],
)
def test_the_same_customer_is_found_by_each_card_format(api, make_customer, account, coupon, make_credit, params):
    customer = make_customer(account, card_number="3735928559")
    credit = make_credit(customer, coupon)
    assert api.get("/v1/customers/benefits", params).json() == [{"key": "massage", "valid": True}]
    query = "&".join(f"{k}={v}" for k, v in params.items())
    assert api.post(f"/v1/customers/benefits/massage/use?{query}").status_code == 204
    credit.refresh_from_db()
    assert credit.uses == 1


def test_hex_lsb_of_an_odd_length_number(api, make_customer, account, coupon, make_credit):
    make_credit(make_customer(account, card_number=str(0x0ABCDE)), coupon)  # bytes 0A BC DE
    assert api.get("/v1/customers/benefits", {"cardNumber": "DEBC0A", "cardNumberFormat": "HEX_LSB"}).status_code == 200
    assert api.get("/v1/customers/benefits", {"cardNumber": "ABCDE", "cardNumberFormat": "HEX_MSB"}).status_code == 200


def test_found_by_barcode(api, make_customer, account, coupon, make_credit):
    make_credit(make_customer(account, barcode="MEMBER-7"), coupon)
    assert api.post("/v1/customers/benefits/massage/use?barcode=MEMBER-7").status_code == 204


@pytest.mark.parametrize(
    "query, code, reference",
    [
        ("", "customer.identifier_missing", "cardNumber"),
        ("?cardNumber=1&barcode=B", "customer.identifier_ambiguous", "barcode"),
        ("?cardNumber=1&cardNumber=2", "customer.identifier_ambiguous", "cardNumber"),
        ("?cardNumber=xyz", "request.invalid", "cardNumber"),
        ("?cardNumber=XYZ&cardNumberFormat=HEX_MSB", "request.invalid", "cardNumber"),
        ("?cardNumber=1&cardNumberFormat=OCTAL", "request.invalid", "cardNumberFormat"),
        ("?pin=4711&barcode=B", "customer.identifier_ambiguous", "pin"),
        ("?cardNumber=1&pin=4711", "customer.identifier_ambiguous", "pin"),
        ("?pin=1&pin=2", "customer.identifier_ambiguous", "pin"),
        ("?pin=47%0011", "request.invalid", "pin"),
    ],
)
def test_successor_identifier_errors_are_400_and_use_nothing(
    api, make_customer, account, coupon, make_credit, query, code, reference
):
    make_credit(make_customer(account, pin="4711"), coupon)
    before = snapshot()
    assert_error(api.get(f"/v1/customers/benefits{query}"), 400, code, reference)
    assert_error(api.post(f"/v1/customers/benefits/massage/use{query}"), 400, code, reference)
    assert snapshot() == before


def test_successor_no_match_is_404(api, credit):
    assert_error(api.get("/v1/customers/benefits?barcode=nobody"), 404, "customer.not_found")
    assert_error(api.post("/v1/customers/benefits/massage/use?cardNumber=999"), 404, "customer.not_found")


def test_successor_other_account_card_is_404(other_account, make_api, make_customer, account, coupon, make_credit):
    make_credit(make_customer(account, card_number="555"), coupon)
    foreign = make_api(other_account)
    before = snapshot()
    assert_error(foreign.post("/v1/customers/benefits/massage/use?cardNumber=555"), 404, "customer.not_found")
    assert snapshot() == before


def test_unknown_path_and_method_are_in_the_dialect(api):
    assert_error(api.get("/v1/customers/1/nothing"), 404, "request.not_found")
    assert_error(api.get("/v1/customers/1/benefits/massage/use"), 405, "request.method_not_allowed")


# --- successors: PIN (Magicline's successor calls take cardNumber, barcode or pin) ----------------


def test_found_by_pin(api, make_customer, account, coupon, make_credit):
    credit = make_credit(make_customer(account, pin="4711"), coupon)
    assert api.get("/v1/customers/benefits", {"pin": "4711"}).json() == [{"key": "massage", "valid": True}]
    assert api.post("/v1/customers/benefits/massage/use?pin=4711").status_code == 204
    credit.refresh_from_db()
    assert credit.uses == 1
    assert CreditUse.objects.get(credit=credit).used_by == "client:pos-frontdesk"


def test_an_unknown_pin_or_another_accounts_pin_is_404(
    other_account, make_api, make_customer, account, coupon, make_credit
):
    make_credit(make_customer(account, pin="4711"), coupon)
    foreign, own = make_api(other_account), make_api(account)
    before = snapshot()
    assert_error(foreign.get("/v1/customers/benefits", {"pin": "4711"}), 404, "customer.not_found")
    assert_error(foreign.post("/v1/customers/benefits/massage/use?pin=4711"), 404, "customer.not_found")
    assert_error(own.post("/v1/customers/benefits/massage/use?pin=0000"), 404, "customer.not_found")
    assert snapshot() == before


def test_the_missing_identifier_error_names_all_three(api, credit):
    body = assert_error(api.get("/v1/customers/benefits"), 400, "customer.identifier_missing", "cardNumber")
    assert body["errorMessage"] == "Give exactly one of cardNumber, barcode or pin."


# --- the dialect maps the services' domain codes ----------------------------------------------------------


def test_the_benefits_dialect_names_the_domain_codes_it_knows_and_no_others():
    from config.api.dialects import Problem
    from credits.api.benefits_family import DOMAIN_CODES, ERROR_CODES
    from credits.errors import CreditError
    from customers.errors import CustomerError

    dialect = dialects.get("benefits")
    assert set(DOMAIN_CODES.values()) <= set(ERROR_CODES)
    body = dialect.body(Problem("not_found", "Customer not found.", CustomerError.CUSTOMER_NOT_FOUND), 404, "r")
    assert body["errorCode"] == "customer.not_found"
    body = dialect.body(Problem("conflict", "x", CreditError.BENEFIT_NOT_AVAILABLE, args=["sauna"]), 409, "r")
    assert (body["errorCode"], body["args"]) == ("benefit.not_available", ["sauna"])
    # A domain code this family has no string for is answered with its kind's code, never leaked as is.
    body = dialect.body(Problem("conflict", "x", CreditError.CREDIT_NOT_ACTIVE), 409, "r")
    assert body["errorCode"] == "request.invalid"
    body = dialect.body(Problem("not_found", "x", CreditError.COUPON_NOT_FOUND), 404, "r")
    assert body["errorCode"] == "request.not_found"
