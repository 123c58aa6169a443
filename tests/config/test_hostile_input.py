"""Ten ways one API call broke a page or moved money from the wrong account, each pinned by its call: an
instant past the calendar in the account's zone, a misspelt top-level field, a number JSON cannot hold, text
that lengthens when lower-cased, a control character in a path, a usage type that is not one, a sum past
int64, admin filters no row can match, and loose values (a number for a string, "yes" for a boolean).
(The cut database link under load is tests/config/test_faults.py.) Each refusal is a 4xx in the family's
dialect and writes nothing."""

from __future__ import annotations

import logging
import logging.config
import sys
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.models import BillingAccount
from config.kernel.values import INT64_MAX, INT64_MIN
from credits.models import CustomerCredit
from discounts.models import DiscountRule
from tests.conftest import SYSTEM, snapshot

pytestmark = pytest.mark.django_db

USAGES = "/v1beta1/organizations/billing/usages"


@pytest.fixture
def staff():
    user = get_user_model().objects.create_superuser(username="root", password="unused", email="")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def wallets(account, customer):
    first = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    second = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    billing_services.billing_top_up(
        account=account,
        billing_account_id=first.pk,
        usage_id=uuid.uuid4(),
        amount=100,
        source="system.awarded",
        description="",
        metadata={},
        actor=SYSTEM,
    )
    return first, second


def usage(**fields) -> dict:
    return {"id": str(uuid.uuid4()), "amount": "7", **fields}


def assert_billing_400(response, before) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == 3 and body["details"], body
    assert snapshot() == before
    return body


# --- instants past the calendar ------------------------------------------------------------------


@pytest.mark.parametrize("instant", ["9999-12-31T23:30:00Z", "9999-12-31T10:00:00Z", "0001-01-01T00:00:00+01:00"])
def test_an_expiry_past_the_calendar_in_some_time_zone_is_refused(api, customer, coupon, instant):
    before = snapshot()
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "expiry_date": instant}
    response = api.post(f"/customers/customers/{customer.pk}/credits", body)
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == ["expiry_date"]
    assert snapshot() == before


def test_every_way_in_holds_instants_within_the_calendar():
    from config.kernel.values import INSTANT_RANGE
    from credits import validation

    # The credits rule (API, admin, bulk grants and their CSV) and the admin's forms share this bound.
    assert validation.expiry_date_error(datetime(9999, 12, 31, 10, tzinfo=UTC)) == INSTANT_RANGE
    assert validation.expiry_date_error(datetime(9999, 12, 31, 9, 59, tzinfo=UTC)) is None


def test_an_expiry_at_the_edge_of_the_calendar_is_kept_and_every_page_shows_it(api, staff, customer, coupon):
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "expiry_date": "9999-12-31T09:59:59Z"}
    response = api.post(f"/customers/customers/{customer.pk}/credits", body)
    assert response.status_code == 201, response.content
    # An instant stored before the bound (years past 9999 in Europe/Oslo) still renders, in UTC.
    credit = CustomerCredit.objects.get(pk=response.json()["data"]["id"])
    CustomerCredit.objects.filter(pk=credit.pk).update(expiry_date=datetime(9999, 12, 31, 23, 30, tzinfo=UTC))
    pages = [
        reverse("admin:credits_customercredit_changelist"),
        reverse("admin:credits_customercredit_changelist") + "?o=-5&q=massage",
        reverse("admin:credits_customercredit_change", args=[credit.pk]),
        reverse("admin:customers_customer_change", args=[customer.pk]),
    ]
    for page in pages:
        answer = staff.get(page)
        assert answer.status_code == 200, page
    assert "9999-12-31 23:30 UTC" in staff.get(pages[2]).content.decode()


# --- unknown top-level fields --------------------------------------------------------------------


@pytest.mark.parametrize("misspelt", ["billingId", "billing_idd", "orgId"])
def test_a_misspelt_field_of_a_usage_batch_is_refused_and_no_account_is_debited(api, customer, wallets, misspelt):
    _first, second = wallets
    before = snapshot()
    body = {"org_id": str(customer.pk), misspelt: str(second.pk), "usages": [usage()]}
    answer = assert_billing_400(api.post(USAGES, body), before)
    assert answer["details"][0]["field_violations"] == [
        {"field": misspelt, "description": "Not a field of this request."}
    ]


def test_unknown_fields_of_a_usage_and_of_the_batch_in_the_path_are_refused(api, customer, wallets):
    first, _second = wallets
    before = snapshot()
    path = f"/v1beta1/organizations/{customer.pk}/billing/{first.pk}/usages"
    assert_billing_400(api.post(path, {"usages": [usage()], "billing_id": str(first.pk)}), before)
    assert_billing_400(api.post(path, {"usages": [usage(ammount="9")]}), before)


# --- numbers JSON cannot hold --------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e309", "-1e309", "1e400"])
def test_metadata_holding_a_number_past_a_double_is_refused(api, account, customer, wallets, number):
    first, _second = wallets
    before = snapshot()
    metadata = f'{{"a": {number}}}'
    for path, raw in [
        (
            USAGES,
            f'{{"org_id": "{customer.pk}", "usages": [{{"id": "{uuid.uuid4()}", "amount": 1, "metadata": {metadata}}}]}}',
        ),
        (
            f"/v1beta1/organizations/{customer.pk}/billing/{first.pk}/usages",
            f'{{"usages": [{{"id": "{uuid.uuid4()}", "amount": 1, "metadata": {metadata}}}]}}',
        ),
    ]:
        assert_billing_400(api.post(path, raw=raw), before)
    rule = f'{{"name": "x", "reward": {{"type": "discount_amount", "value": 1}}, "metadata": {metadata}}}'
    response = api.post(f"/v1/accounts/{account.pk}/discounts/rules", raw=rule)
    assert response.status_code == 400 and "error" in response.json(), response.content
    assert snapshot() == before


def test_a_discount_rule_update_with_such_metadata_is_refused(api, account):
    rule = api.post(
        f"/v1/accounts/{account.pk}/discounts/rules", {"name": "x", "reward": {"type": "discount_amount", "value": 1}}
    )
    assert rule.status_code == 201, rule.content
    before = snapshot()
    raw = '{"name": "x", "reward": {"type": "discount_amount", "value": 1}, "metadata": {"n": [1, -1e309]}}'
    response = api.put(f"/v1/accounts/{account.pk}/discounts/rules/{rule.json()['id']}", raw=raw)
    assert response.status_code == 400, response.content
    assert snapshot() == before
    assert DiscountRule.objects.get(pk=rule.json()["id"]).metadata == {}


# --- lengths after lower-casing ------------------------------------------------------------------


def test_a_source_that_lengthens_when_lower_cased_is_refused_on_usages_and_top_ups(api, customer, wallets):
    first, _second = wallets
    source = "\u0130" * 255  # "İ": two characters lower-cased
    before = snapshot()
    assert_billing_400(api.post(USAGES, {"org_id": str(customer.pk), "usages": [usage(source=source)]}), before)
    top_up = f"/v1beta1/organizations/{customer.pk}/billing/{first.pk}/credits"
    assert_billing_400(api.post(top_up, {"id": str(uuid.uuid4()), "amount": 5, "source": source}), before)
    fits = "\u0130" * 127
    assert api.post(top_up, {"id": str(uuid.uuid4()), "amount": 5, "source": fits}).status_code == 200


# --- control characters in paths and in log lines --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/accounts/{aid}/discounts/customers/%00/rules", "customer_id"),
        ("/v1/accounts/{aid}/discounts/rules/%01x", "did"),
        ("/customers/customers/%00/credits", "does not exist"),  # no route takes it: 404
        ("/v1beta1/organizations/%1b[31m/billing", "org_id"),
    ],
)
def test_a_control_character_in_a_path_segment_is_a_4xx_before_any_query(
    api, account, path, field, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = api.get(path.format(aid=account.pk))
    assert 400 <= response.status_code < 500, response.content
    assert field in response.content.decode()


def test_no_control_character_reaches_a_log_line():
    from django.conf import settings

    formatter = logging.config.DictConfigurator(settings.LOGGING).configure_formatter(
        settings.LOGGING["formatters"]["plain"] | {"format": "%(message)s"}
    )
    try:
        raise ValueError("bad \x00 value")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "unhandled error in %s %s", ("GET", "/a\x00b\r\nX: y"), sys.exc_info()
        )
    line = formatter.format(record)
    assert "\x00" not in line and "\r" not in line
    assert line.splitlines()[0] == "unhandled error in GET /a\\x00b\\r\\nX: y"
    assert "bad \\x00 value" in line


# --- the usage type ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [False, 0, [], {}, None, "Credit", " credit"])
def test_a_usage_type_that_is_not_credit_or_feature_is_refused(api, customer, wallets, kind):
    before = snapshot()
    assert_billing_400(api.post(USAGES, {"org_id": str(customer.pk), "usages": [usage(type=kind)]}), before)


@pytest.mark.parametrize("fields", [{}, {"type": ""}, {"type": "credit"}])
def test_an_empty_or_absent_usage_type_is_credit(api, customer, wallets, fields):
    first, _second = wallets
    assert api.post(USAGES, {"org_id": str(customer.pk), "usages": [usage(**fields)]}).status_code == 200
    first.refresh_from_db()
    assert first.balance == 93


# --- sums against int64 --------------------------------------------------------------------------


def test_a_debit_that_would_take_the_debited_total_past_int64_is_refused(api, account, customer):
    wallet = billing_services.billing_account_create(
        account=account, org_id=customer.pk, credit_min=INT64_MIN, actor=SYSTEM
    )
    path = f"/v1beta1/organizations/{customer.pk}/billing/{wallet.pk}"
    assert api.post(path + "/usages", {"usages": [usage(amount=str(INT64_MAX))]}).status_code == 200
    top_up = {"id": str(uuid.uuid4()), "amount": 27}
    assert api.post(path + "/credits", top_up).status_code == 200
    before = snapshot()
    answer = assert_billing_400(api.post(path + "/usages", {"usages": [usage(amount="27")]}), before)
    assert answer["details"][1]["reason"] == "billing.debited_overflow"
    total = api.get(path + "/debited_transactions_total").json()["debited"]["amount"]
    assert int(total) == INT64_MAX == billing_selectors.ledger_debited_total(billing_account=wallet)


def test_the_debited_total_follows_debits_and_reverts(api, customer, wallets):
    first, _second = wallets
    path = f"/v1beta1/organizations/{customer.pk}/billing/{first.pk}"
    debit = usage(amount="30")
    assert api.post(path + "/usages", {"usages": [debit, usage(amount="4", type="feature")]}).status_code == 200
    revert = {"org_id": str(customer.pk), "usage_id": debit["id"], "amount": 12}
    assert api.post(USAGES + "/revert", revert).status_code == 200
    first.refresh_from_db()
    assert first.debited == 18 == billing_selectors.ledger_debited_total(billing_account=first)
    assert api.get(path + "/debited_transactions_total").json()["debited"]["amount"] == "18"


# --- admin filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "issued_by=%00",
        "source__exact=%00",
        "account__id__exact=%00",
        "expiry_date__year=99999",
        "q=%00",
        "created_at__year=9999&created_at__month=12",
        "created_at__year=0",
        "o=%00",
        "coupon__id__exact=%ed%a0%80",
    ],
)
def test_a_credit_list_filter_no_row_can_match_is_the_admins_bad_filter_answer(staff, credit, query):
    page = reverse("admin:credits_customercredit_changelist")
    response = staff.get(f"{page}?{query}")
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert response["Location"] == f"{page}?e=1"


def test_every_admin_changelist_checks_its_query_string(staff, credit):
    from config.kernel.admin import LedgerAdmin

    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, LedgerAdmin), model
        page = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for query in ("q=%00", "zz%00=1", "id__exact=%00"):
            response = staff.get(f"{page}?{query}")
            assert response.status_code in (200, 302), (page, query, response.status_code)


# --- loose values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/customers/membership-types", {"name": 123}, "name"),
        ("post", "/customers/customers", {"first_name": 5, "email": "a@example.com"}, "first_name"),
        (
            "post",
            "/customers/coupons",
            {"name": "Tea", "kind": "offering", "offering": "Tea", "active": "yes"},
            "active",
        ),
        (
            "post",
            "/customers/coupons",
            {"name": "Tea", "kind": "offering", "offering": "Tea", "multi_use": 1},
            "multi_use",
        ),
        ("post", "/customers/coupons", {"name": True, "kind": "offering", "offering": "Tea"}, "name"),
    ],
)
def test_a_loose_value_is_refused_in_the_credits_family(api, method, path, body, field):
    before = snapshot()
    response = getattr(api, method)(path, body)
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == [field]
    assert snapshot() == before


def test_a_loose_value_is_refused_in_the_discounts_and_billing_families(api, account, customer, wallets):
    before = snapshot()
    rule = {"name": 7, "reward": {"type": "discount_amount", "value": 1}}
    assert api.post(f"/v1/accounts/{account.pk}/discounts/rules", rule).status_code == 400
    rule = {"name": "x", "reward": {"type": "discount_amount", "value": 1}, "active": "yes"}
    assert api.post(f"/v1/accounts/{account.pk}/discounts/rules", rule).status_code == 400
    assert_billing_400(api.post(f"/v1beta1/organizations/{customer.pk}/projects", {"name": 123}), before)
    assert_billing_400(api.post(f"/v1beta1/organizations/{customer.pk}/billing", {"offline": "yes"}), before)
    assert_billing_400(api.post(USAGES, {"org_id": str(customer.pk), "usages": [usage(source=5)]}), before)
    assert BillingAccount.objects.count() == 2
