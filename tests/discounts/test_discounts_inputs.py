"""Hostile numbers and times, in the discounts dialect: every numeric and date-time input of the family refuses
Unicode digits, padded numbers, values outside int64 and naive date-times with a 400, writing nothing; a sum
that would overflow the statistics is a 400 too, never a database error."""

import copy

import pytest

from tests.discounts.test_discounts_api import RULES, assert_error, snapshot

pytestmark = pytest.mark.django_db

CLAIMS = "/v1/accounts/T00000001/discounts/available_for_receipt/claims"

BAD_NUMBERS = [
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "²",
    "\uff15",  # full-width
    " 5",
    "5 ",
    "+5",
    "1_000",
    "9223372036854775808",
    9223372036854775808,
    -9223372036854775809,
    "99999999999999999999999",
    True,
    "5.0.0",
    [],
    {},
]
BAD_DATES = ["2027-01-01", "2027-01-01T00:00:00", "2027-01-01T00:00:00.123", "01/01/2027", "", 1798761600]

RULE = {"name": "R", "reward": {"type": "discount_amount", "value": 100}}


def put(body: dict, path: str, value) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    node[last] = value
    return body


RULE_NUMBERS = [
    "reward.value",
    "requirement.stamp",
    "requirement.gross_amount",
    "limitation.discount_repeat_usage",
    "limitation.discount_reward_usage",
]
RULE_DATES = ["purchase_from", "purchase_to", "requirement.purchase_from", "requirement.purchase_to"]
RECEIPT_NUMBERS = ["usage", "stamp", "amount"]
CLAIM_NUMBERS = ["discounts.0.refs.0.amount", "discounts.0.refs.0.usage"]


@pytest.fixture
def rule(api):
    response = api.post(RULES, RULE)
    assert response.status_code == 201
    return response.json()


def refused(api, method, url, body, field):
    before = snapshot()
    response = api.request(method, url, body)
    error = assert_error(response, 400, "validation_error")["error"]
    assert field in {e["field"] for e in error["errors"]}, error
    assert snapshot() == before


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
@pytest.mark.parametrize("field", RULE_NUMBERS)
def test_rule_numbers(api, rule, field, value):
    refused(api, "POST", RULES, put(RULE, field, value), field)
    refused(api, "PUT", f"{RULES}/{rule['id']}", put(RULE, field, value), field)


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
@pytest.mark.parametrize("field", RULE_DATES)
def test_rule_dates(api, rule, field, value):
    refused(api, "POST", RULES, put(RULE, field, value), field)
    refused(api, "PUT", f"{RULES}/{rule['id']}", put(RULE, field, value), field)


def receipt_body(**values):
    return {"customer_id": "c-1", "ref": "r-1", "ref_type": "receipt_add", **values}


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
@pytest.mark.parametrize("field", RECEIPT_NUMBERS)
def test_receipt_numbers(api, rule, field, value):
    refused(api, "POST", f"{RULES}/{rule['id']}/usages", receipt_body(**{field: value}), field)


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
def test_receipt_purchase_at(api, rule, value):
    refused(api, "POST", f"{RULES}/{rule['id']}/usages", receipt_body(purchase_at=value), "purchase_at")


def claim(rule, **changes):
    return {
        "purchase_at": "2027-03-01T12:00:00Z",
        "customer_id": "c-1",
        "discounts": [{"id": rule["id"], "refs": [{"id": "l-1", "amount": 1, "usage": 1}]}],
        **changes,
    }


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
@pytest.mark.parametrize("field", CLAIM_NUMBERS)
def test_claim_numbers(api, rule, field, value):
    refused(api, "POST", CLAIMS, put(claim(rule), field, value), field)


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
def test_claim_purchase_at(api, rule, value):
    refused(api, "POST", CLAIMS, claim(rule, purchase_at=value), "purchase_at")


@pytest.mark.parametrize(
    "value", ["²", "\u0661\u0660", "\uff15", " 5", "5 ", "+5", "0", "-1", "1001", "99999999999999999999999", "1.5"]
)
@pytest.mark.parametrize("path", ["", "/{did}/usages", "/{did}/customers", "CLAIMS", "CUSTOMER_RULES"])
def test_limit(api, rule, path, value):
    url = {
        "CLAIMS": CLAIMS,
        "CUSTOMER_RULES": "/v1/accounts/T00000001/discounts/customers/c-1/rules",
    }.get(path) or RULES + path.format(did=rule["id"])
    before = snapshot()
    assert_error(api.get(url, {"limit": value}), 400, "invalid_limit")
    assert snapshot() == before


def test_sums_that_would_overflow_int64_are_400(api):
    big = 9223372036854775807
    rule = api.post(RULES, {"name": "R", "reward": {"type": "discount_amount", "value": 1}}).json()
    usages = f"{RULES}/{rule['id']}/usages"
    assert api.post(usages, receipt_body(ref="r-1", usage=0, amount=big)).status_code == 201
    before = snapshot()
    error = assert_error(api.post(usages, receipt_body(ref="r-2", usage=0, amount=1)), 400, "validation_error")["error"]
    assert {e["field"] for e in error["errors"]} == {"amount"}
    assert snapshot() == before
    # Through a claim too: all or nothing.
    body = claim(rule, discounts=[{"id": rule["id"], "refs": [{"id": "l-9", "amount": 1, "usage": 0}]}])
    error = assert_error(api.post(CLAIMS, body), 400, "validation_error")["error"]
    assert {e["field"] for e in error["errors"]} == {"amount"}
    assert snapshot() == before
