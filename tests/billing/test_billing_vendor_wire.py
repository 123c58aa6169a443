"""Vendor fidelity of the billing family on the wire (issue "Vendor fidelity, round 2"; Frontier's
proto/apidocs.swagger.yaml and the @raystack/frontier api-client): int64 answered as strings with every
field present, the complete streamed transactions list, the vendor's paths and statuses, and numbers and
date-times refused in the billing dialect with nothing written."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection

from billing import services
from billing.models import BillingAccount, BillingTransaction
from config.kernel.values import INT64_MAX
from tests.conftest import SYSTEM

from .test_billing_api import TRANSACTION_FIELDS, account_url, assert_error, ledger_state, read_json, usage

pytestmark = pytest.mark.django_db

ACCOUNT_FIELDS = {
    "id",
    "org_id",
    "name",
    "email",
    "phone",
    "address",
    "provider_id",
    "provider",
    "currency",
    "state",
    "tax_data",
    "metadata",
    "created_at",
    "updated_at",
    "credit_min",
    "balance",
}
ADDRESS_FIELDS = {"line1", "line2", "city", "state", "postal_code", "country"}


def admin_url(wallet, suffix=""):
    return f"/v1beta1/admin/organizations/{wallet.customer_id}/billing/{wallet.pk}{suffix}"


def report(api, wallet, *usages):
    response = api.post(account_url(wallet, "/usages"), {"usages": list(usages)})
    assert response.status_code == 200, response.content


# --- int64 as strings, every field present ----------------------------------------------------------


def test_every_answer_writes_int64_as_strings_and_every_field(api, wallet, customer):
    org = f"/v1beta1/organizations/{customer.pk}"
    # An empty account: zeros are "0", empty text "", empty objects {}.
    empty = api.post(f"{org}/billing", {"body": {}}).json()["billing_account"]
    assert set(empty) == ACCOUNT_FIELDS
    assert (empty["credit_min"], empty["balance"], empty["name"], empty["metadata"], empty["tax_data"]) == (
        "0",
        "0",
        "",
        {},
        [],
    )
    assert empty["address"] == dict.fromkeys(ADDRESS_FIELDS, "")

    report(api, wallet, usage(7))
    assert api.get(account_url(wallet, "/balance")).json()["balance"]["amount"] == "293"
    debited = api.get(account_url(wallet, "/debited_transactions_total")).json()
    assert set(debited) == {"debited"} and set(debited["debited"]) == {"amount", "currency", "updated_at"}
    assert (debited["debited"]["amount"], debited["debited"]["currency"]) == ("7", "VC")
    got = api.get(f"{org}/billing/{wallet.pk}").json()
    assert set(got) == {"billing_account", "payment_methods", "billing_details"}
    assert got["billing_details"] == {"credit_min": "0", "due_in_days": "0"}
    assert set(got["billing_account"]) == ACCOUNT_FIELDS and got["billing_account"]["balance"] == "293"
    for account in api.get(f"{org}/billing").json()["billing_accounts"]:
        assert set(account) == ACCOUNT_FIELDS and isinstance(account["balance"], str)

    streamed = read_json(api.get(account_url(wallet, "/transactions")))
    paged = api.get(account_url(wallet, "/transactions"), {"page_size": 10}).json()
    for body in (streamed, paged):
        assert set(body) == {"transactions", "next_page_token"}
        assert [t["amount"] for t in body["transactions"]] == ["7", "300"]
        for transaction in body["transactions"]:
            assert set(transaction) == TRANSACTION_FIELDS
            assert transaction["description"] == "" and transaction["user_id"] == "" and transaction["metadata"] == {}
    assert streamed == paged  # the streamed writer and the serializer answer the same bytes' meaning

    topup = api.post(account_url(wallet, "/credits"), {"id": str(uuid.uuid4()), "amount": 5}).json()
    assert set(topup["transaction"]) == TRANSACTION_FIELDS and topup["transaction"]["amount"] == "5"
    limits = api.put(account_url(wallet, "/limits"), {"credit_min": -9}).json()["billing_account"]
    assert limits["credit_min"] == "-9"


def test_int64_inputs_take_a_number_or_a_string_of_ascii_digits(api, wallet, customer):
    report(api, wallet, usage(3), usage("4"))
    assert api.post("/v1beta1/billing/check", {"org_id": str(customer.pk), "amount": "293"}).json() == {"status": True}
    assert api.put(admin_url(wallet, "/limits"), {"credit_min": "-10"}).status_code == 200
    assert api.put(admin_url(wallet, "/limits"), {"credit_min": -11}).status_code == 200
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.credit_min) == (293, -11)


# --- numbers and date-times refused in the billing dialect, nothing written -----------------------

BAD_NUMBERS = [
    pytest.param("²", id="superscript-two"),
    pytest.param("١٢٣", id="arabic-indic-digits"),
    pytest.param("\uff15", id="fullwidth-five"),
    pytest.param(" 5", id="leading-space"),
    pytest.param("5 ", id="trailing-space"),
    pytest.param("+5", id="plus-sign"),
    pytest.param("5_0", id="underscore"),
    pytest.param("5.0", id="decimal-string"),
    pytest.param(5.0, id="json-float"),
    pytest.param("1e3", id="exponent"),
    pytest.param("", id="empty"),
    pytest.param(True, id="boolean"),
    pytest.param(None, id="null"),
    pytest.param([5], id="list"),
    pytest.param(2**63, id="int64-max-plus-one"),
    pytest.param(str(2**63), id="int64-max-plus-one-string"),
    pytest.param(-(2**63) - 1, id="int64-min-minus-one"),
]

# Every numeric input of the billing family: (name, method, path, body with the value in place of X).
NUMERIC_INPUTS = [
    ("usage amount (body form)", "POST", "/v1beta1/organizations/billing/usages", {"org_id": "{org}", "usages": [{"id": "{new}", "amount": "X"}]}),
    ("usage amount (path form)", "POST", "{wallet}/usages", {"usages": [{"id": "{new}", "amount": "X"}]}),
    ("top-up amount", "POST", "{wallet}/credits", {"id": "{new}", "amount": "X"}),
    ("check amount", "POST", "/v1beta1/billing/check", {"org_id": "{org}", "amount": "X"}),
    ("revert amount", "POST", "/v1beta1/organizations/billing/usages/revert", {"org_id": "{org}", "usage_id": "{debit}", "amount": "X"}),
    ("admin revert amount", "POST", "{admin}/usage/{debit}/revert", {"amount": "X"}),
    ("limits credit_min", "PUT", "{wallet}/limits", {"credit_min": "X"}),
    ("admin limits credit_min", "PUT", "{admin}/limits", {"credit_min": "X"}),
    ("create credit_min", "POST", "/v1beta1/organizations/{org}/billing", {"credit_min": "X"}),
]  # fmt: skip


def fill(value, ids, number):
    if value == "X":
        return number
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids, number) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids, number) for v in value]
    return value


@pytest.fixture
def ids(api, wallet):
    debit = usage(10)
    report(api, wallet, debit)
    return {
        "org": str(wallet.customer_id),
        "wallet": account_url(wallet),
        "admin": admin_url(wallet),
        "debit": debit["id"],
        "new": str(uuid.uuid4()),
    }


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("name, method, path, body", NUMERIC_INPUTS, ids=[n[0] for n in NUMERIC_INPUTS])
def test_every_numeric_input_refuses_what_is_not_an_ascii_int64(api, ids, name, method, path, body, number):
    if number is None and name in ("check amount", "create credit_min"):
        number = "null"  # these two are optional: null would mean "not given"; a string "null" must still fail
    before = ledger_state()
    response = api.request(method, fill(path, ids, None), fill(body, ids, number))
    error = assert_error(response, 400, 3)
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest", error
    assert ledger_state() == before


def test_a_top_up_past_int64_is_refused_and_writes_nothing(api, account, customer):
    wallet = services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    url = account_url(wallet, "/credits")
    assert api.post(url, {"id": str(uuid.uuid4()), "amount": str(INT64_MAX)}).status_code == 200
    before = ledger_state()
    error = assert_error(api.post(url, {"id": str(uuid.uuid4()), "amount": "1"}), 400, 3)
    assert "int64" in error["message"]
    assert ledger_state() == before
    wallet.refresh_from_db()
    assert wallet.balance == INT64_MAX
    assert api.get(account_url(wallet, "/balance")).json()["balance"]["amount"] == str(INT64_MAX)


def test_a_batch_whose_sum_passes_int64_is_insufficient_credits_and_writes_nothing(api, wallet):
    before = ledger_state()
    error = assert_error(
        api.post(account_url(wallet, "/usages"), {"usages": [usage(INT64_MAX), usage(INT64_MAX)]}), 400, 3
    )
    assert error["message"] == "insufficient credits"
    assert ledger_state() == before


BAD_DATE_TIMES = [
    pytest.param("2026-01-01T00:00:00", id="naive"),
    pytest.param("2026-01-01", id="date-only"),
    pytest.param("yesterday", id="word"),
    pytest.param("2026-13-01T00:00:00Z", id="month-13"),
    pytest.param("\uff12\uff10\uff12\uff16-01-01T00:00:00Z", id="fullwidth-digits"),
]


@pytest.mark.parametrize("value", BAD_DATE_TIMES)
@pytest.mark.parametrize("param", ["start_range", "end_range", "since"])
@pytest.mark.parametrize("level", ["account", "organization"])
def test_every_date_time_input_refuses_what_is_not_rfc3339_with_an_offset(api, wallet, value, param, level):
    url = (
        account_url(wallet, "/transactions")
        if level == "account"
        else f"/v1beta1/organizations/{wallet.customer_id}/billing/transactions"
    )
    error = assert_error(api.get(url, {param: value}), 400, 3)
    fields = [v["field"] for d in error["details"] for v in d.get("field_violations", [])]
    assert fields == [param]


# --- the complete transactions list ---------------------------------------------------------------


def test_without_paging_parameters_every_transaction_is_answered_streamed(api, wallet, customer):
    for _ in range(3):
        report(api, wallet, *[usage(1) for _ in range(90)])  # 270 debits + the top-up: past any page
    response = api.get(account_url(wallet, "/transactions"), {"expand": ["customer", "user"]})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json"
    body = read_json(response)
    assert len(body["transactions"]) == 271 == BillingTransaction.objects.filter(billing_account=wallet).count()
    assert body["next_page_token"] == ""
    keys = [(t["created_at"], t["id"]) for t in body["transactions"]]
    assert len(set(keys)) == 271
    org_level = read_json(api.get(f"/v1beta1/organizations/{customer.pk}/billing/transactions"))
    assert org_level == body


@pytest.mark.postgres
def test_the_stream_reads_through_a_server_side_cursor(api, wallet):
    services.billing_top_up(
        account=wallet.account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=5000, actor=SYSTEM
    )
    report(api, wallet, *[usage(1) for _ in range(1000)])
    report(api, wallet, *[usage(1) for _ in range(198)])
    response = api.get(account_url(wallet, "/transactions"))
    chunks = iter(response.streaming_content)
    first = next(chunks)  # written after the first 500 rows
    assert first.startswith(b'{"transactions":[')
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        assert cursor.fetchone()[0] == 1  # the rows come from a cursor still open while the answer is written
    rest = list(chunks)
    assert len(rest) == 2  # rows 501-1000, then the rest and the closing bracket
    assert len(json.loads(first + b"".join(rest))["transactions"]) == 1200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        assert cursor.fetchone()[0] == 0


def test_ranges_and_since_bound_the_complete_list(api, wallet, customer):
    report(api, wallet, usage(1))
    url = account_url(wallet, "/transactions")
    assert len(read_json(api.get(url, {"start_range": "2000-01-01T00:00:00Z"}))["transactions"]) == 2
    assert read_json(api.get(url, {"since": "2999-01-01T00:00:00+01:00"}))["transactions"] == []
    assert read_json(api.get(url, {"end_range": "2000-01-01T00:00:00Z"}))["transactions"] == []
    # start_range wins over since, as the vendor's handler does
    both = {"since": "2999-01-01T00:00:00Z", "start_range": "2000-01-01T00:00:00Z"}
    assert len(read_json(api.get(url, both))["transactions"]) == 2


def test_paging_stays_an_opt_in_extension(api, wallet):
    report(api, wallet, *[usage(1) for _ in range(5)])
    url = account_url(wallet, "/transactions")
    seen, token = [], None
    while True:
        params = {"page_size": 2, **({"page_token": token} if token else {})}
        page = api.get(url, params).json()
        seen += [t["id"] for t in page["transactions"]]
        token = page["next_page_token"]
        if not token:
            break
    assert len(seen) == len(set(seen)) == 6
    assert_error(api.get(url, {"page_size": "1001"}), 400, 3)
    assert_error(api.get(url, {"page_size": "٣"}), 400, 3)
    assert_error(api.get(url, {"page_token": "bm90LWEtdG9rZW4"}), 400, 3)


# --- the vendor's paths ---------------------------------------------------------------------------


def test_get_one_billing_account(api, wallet, customer, other_account, make_api):
    url = f"/v1beta1/organizations/{customer.pk}/billing/{wallet.pk}"
    got = api.get(url, {"with_billing_details": "true", "expand": "organization"}).json()
    assert got["billing_account"]["id"] == str(wallet.pk) and got["billing_account"]["balance"] == "300"
    assert_error(api.get(f"/v1beta1/organizations/{customer.pk}/billing/{uuid.uuid4()}"), 404, 5)
    assert_error(api.get(f"/v1beta1/organizations/{customer.pk}/billing/not-a-uuid"), 400, 3)
    assert_error(make_api(other_account).get(url), 404, 5)


def test_organization_level_transactions_list(api, account, wallet, customer):
    second = services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    services.billing_top_up(
        account=account, billing_account_id=second.pk, usage_id=uuid.uuid4(), amount=9, actor=SYSTEM
    )
    url = f"/v1beta1/organizations/{customer.pk}/billing/transactions"
    default = read_json(api.get(url))["transactions"]
    assert [t["amount"] for t in default] == ["300"]  # the organization's first account
    chosen = read_json(api.get(url, {"billing_id": str(second.pk)}))["transactions"]
    assert [t["amount"] for t in chosen] == ["9"]
    assert api.get(url, {"billing_id": str(second.pk), "page_size": 1}).json()["transactions"][0]["amount"] == "9"
    assert_error(api.get(url, {"billing_id": str(uuid.uuid4())}), 404, 5)
    assert_error(api.get(f"/v1beta1/organizations/{uuid.uuid4()}/billing/transactions"), 404, 5)


def test_organization_level_list_of_an_organization_without_an_account_is_empty(api, account, make_customer):
    # As the vendor's handler answers (customer.ErrNotFound: an empty list).
    newcomer = make_customer(account, email="new@example.com")
    body = read_json(api.get(f"/v1beta1/organizations/{newcomer.pk}/billing/transactions"))
    assert body == {"transactions": [], "next_page_token": ""}


def test_admin_limits_answer_the_vendors_empty_message(api, wallet, account, make_api):
    writer = make_api(account, scopes=["billing:write"], name="writer")
    before = ledger_state()
    assert_error(writer.put(admin_url(wallet, "/limits"), {"credit_min": -5}), 403, 7)
    assert ledger_state() == before
    response = api.put(admin_url(wallet, "/limits"), {"credit_min": "-5"})
    assert response.status_code == 200 and response.json() == {}
    wallet.refresh_from_db()
    assert wallet.credit_min == -5
    assert_error(api.put(admin_url(wallet, "/limits"), {"credit_min": 301}), 400, 3)


def test_admin_revert_at_the_vendors_path(api, wallet, customer, account):
    spent = usage(100, source="llm")
    report(api, wallet, spent)
    url = admin_url(wallet, f"/usage/{spent['id']}/revert")
    assert api.post(url, {"amount": "60"}).json() == {}
    assert api.post(url, {"amount": 40, "project_id": ""}).json() == {}
    wallet.refresh_from_db()
    assert wallet.balance == 300
    before = ledger_state()
    error = assert_error(api.post(url, {"amount": 1}), 400, 3)
    assert error["message"] == "revert amount is greater than the usage amount"
    back = BillingTransaction.objects.filter(reverts__isnull=False).first()
    error = assert_error(api.post(admin_url(wallet, f"/usage/{back.usage_id}/revert"), {"amount": 1}), 409, 6)
    assert error["message"] == "a reverted usage cannot be reverted again"
    # An unknown usage: InvalidArgument, as the vendor answers it.
    error = assert_error(api.post(admin_url(wallet, f"/usage/{uuid.uuid4()}/revert"), {"amount": 1}), 400, 3)
    reasons = [d.get("reason") for d in error["details"]]
    assert "billing.usage_not_found" in reasons
    # A usage of another billing account of the same organization is not one of this account.
    other = services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    services.billing_top_up(
        account=account, billing_account_id=other.pk, usage_id=uuid.uuid4(), amount=50, actor=SYSTEM
    )
    elsewhere = usage(5)
    report(api, other, elsewhere)
    before = ledger_state()
    assert_error(api.post(admin_url(wallet, f"/usage/{elsewhere['id']}/revert"), {"amount": 1}), 400, 3)
    assert_error(api.post(admin_url(wallet, f"/usage/{spent['id']}/revert"), {"amount": 0}), 400, 3)
    assert ledger_state() == before


def test_credit_entitlement_check_at_the_vendors_path(api, wallet, customer):
    url = "/v1beta1/billing/check"
    assert api.post(url, {"org_id": str(customer.pk), "amount": "300"}).json() == {"status": True}
    assert api.post(url, {"org_id": str(customer.pk), "amount": "301"}).json() == {"status": False}
    assert api.post(url, {"org_id": str(customer.pk)}).json() == {"status": True}
    assert_error(api.post(url, {"org_id": str(uuid.uuid4()), "amount": 1}), 404, 5)


def test_create_billing_account_in_the_vendors_body_shape(api, customer):
    url = f"/v1beta1/organizations/{customer.pk}/billing"
    body = {
        "body": {
            "name": "Acme",
            "email": "ap@acme.example",
            "phone": "+47 22 00 00 00",
            "address": {"line1": "Storgata 1", "postal_code": "0155", "city": "Oslo", "country": "NO"},
            "currency": "NOK",
            "tax_data": [{"type": "no_vat", "id": "NO123456789MVA"}],
            "metadata": {"cost_center": "42"},
        },
        "offline": True,
    }
    created = api.post(url, body)
    assert created.status_code == 200, created.content
    answered = created.json()["billing_account"]
    stored = BillingAccount.objects.get(pk=answered["id"])
    assert (stored.name, stored.email, stored.phone, stored.currency) == (
        "Acme",
        "ap@acme.example",
        "+47 22 00 00 00",
        "NOK",
    )
    assert answered["address"] == {
        "line1": "Storgata 1",
        "line2": "",
        "city": "Oslo",
        "state": "",
        "postal_code": "0155",
        "country": "NO",
    }
    assert answered["tax_data"] == [{"type": "no_vat", "id": "NO123456789MVA"}]
    assert answered["metadata"] == {"cost_center": "42"} and answered["currency"] == "NOK"
    got = api.get(f"{url}/{answered['id']}").json()["billing_account"]
    assert got == answered
    # the earlier flat shape still works
    flat = api.post(url, {"currency": "SEK", "credit_min": "-5"}).json()["billing_account"]
    assert (flat["currency"], flat["credit_min"]) == ("SEK", "-5")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"body": {"name": "x", "colour": "red"}}, "body.colour"),
        ({"body": {}, "plan": "pro"}, "plan"),
        ({"body": {"address": {"line9": "x"}}}, "body.address"),
        ({"body": {"metadata": [1]}}, "body.metadata"),
        ({"body": {"name": "x" * 256}}, "body.name"),
        ({"body": {"currency": "TOOLONGCUR"}}, "body.currency"),
        ({"body": "Acme"}, "body.non_field_errors"),
        ({"credit_min": 1}, "credit_min"),
    ],
)
def test_a_billing_account_body_the_product_cannot_keep_is_refused(api, customer, body, field):
    before = ledger_state()
    error = assert_error(api.post(f"/v1beta1/organizations/{customer.pk}/billing", body), 400, 3)
    fields = [v["field"] for d in error["details"] for v in d.get("field_violations", [])]
    assert any(f == field or f.startswith(field.split(".non_field_errors")[0]) for f in fields), fields
    assert ledger_state() == before


# --- vendor statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, "0", None])
def test_a_usage_amount_must_be_above_zero(api, wallet, amount):
    before = ledger_state()
    item = {"id": str(uuid.uuid4()), "type": "feature", **({"amount": amount} if amount is not None else {})}
    error = assert_error(api.post(account_url(wallet, "/usages"), {"usages": [item]}), 400, 3)
    assert [v["field"] for d in error["details"] for v in d.get("field_violations", [])] == ["usages.0.amount"]
    assert ledger_state() == before
