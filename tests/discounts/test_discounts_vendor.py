"""Vendor fidelity, discounts: opaque customer ids created on first use, the vendor's
rule shape, the customers endpoints, vendor states, a customer's rules, claims and the token call. Black box
over HTTP; a refused request also proves nothing changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer
from discounts.models import DiscountClaim, DiscountRef, DiscountRule, UsageRef
from tests.concurrency import run_simultaneously
from tests.conftest import Api
from tests.discounts.test_discounts_api import RULES, assert_error, rule_limited_to, snapshot, token_for

pytestmark = pytest.mark.django_db

ACCOUNT = "/v1/accounts/T00000001"
CLAIMS = f"{ACCOUNT}/discounts/available_for_receipt/claims"


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def rule_of(api):
    def make(**changes):
        body = {"name": "Ten off", "reward": {"type": "discount_amount", "value": 1000}, **changes}
        response = api.post(RULES, body)
        assert response.status_code == 201, response.content
        return response.json()

    return make


def use(api, rule, customer_id: str, ref: str, **values):
    body = {"customer_id": customer_id, "ref": ref, "ref_type": "receipt_add", **values}
    return api.post(f"{RULES}/{rule['id']}/usages", body)


# --- customer ids are the client's own opaque strings ----------------------------------------------


def test_an_unseen_customer_id_is_created_on_first_use_and_reused_after(api, rule_of, account):
    rule = rule_of()
    first = use(api, rule, "12397af6e5e", "r-1", amount=10)
    assert first.status_code == 201, first.content
    assert first.json()["customer_id"] == "12397af6e5e"
    customer = Customer.objects.get(account=account, external_ref="12397af6e5e")
    assert customer.created_by == "client:pos-frontdesk"
    assert use(api, rule, "12397af6e5e", "r-2", amount=5).json()["statistics"]["amount"] == 15
    assert Customer.objects.filter(account=account, external_ref="12397af6e5e").count() == 1
    # An ordinary customer of the account: the credits and benefits families see it.
    assert api.get(f"/customers/customers/{customer.pk}").status_code == 200
    assert api.get(f"/v1/customers/{customer.number}/benefits").status_code == 200


def test_a_customer_is_found_by_external_ref_or_by_id(api, rule_of, make_customer, account):
    known = make_customer(account, external_ref="crm-42")
    plain = make_customer(account, email="bo@example.com")
    rule = rule_of()
    assert use(api, rule, "crm-42", "a").json()["customer_id"] == "crm-42"
    assert use(api, rule, str(plain.pk), "b").json()["customer_id"] == str(plain.pk)
    assert set(DiscountRef.objects.values_list("customer_id", flat=True)) == {known.pk, plain.pk}
    assert Customer.objects.filter(account=account).count() == 2


def test_another_accounts_customer_id_names_a_new_customer_of_this_account(
    api, rule_of, make_customer, other_account, account
):
    foreign = make_customer(other_account)
    rule = rule_of()
    response = use(api, rule, str(foreign.pk), "a")
    assert response.status_code == 201
    mine = Customer.objects.get(account=account, external_ref=str(foreign.pk))
    assert DiscountRef.objects.get().customer == mine and not foreign.discount_refs.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_uses_of_one_customer_id_create_one_customer(account, make_client):
    _, secret = make_client(account)
    rule = Api(secret).post(RULES, {"name": "x", "reward": {"type": "discount_amount", "value": 1}}).json()

    def send(index: int) -> int:
        return use(Api(secret), rule, "brand-new-7", f"till-{index}", usage=0).status_code

    assert run_simultaneously(12, send) == {201: 12}
    assert Customer.objects.filter(account=account, external_ref="brand-new-7").count() == 1
    ref = DiscountRef.objects.get()
    assert ref.entries.count() == 12


# --- the rule in the vendor's shape ----------------------------------------------------------------

VENDOR_RULE = {
    "name": "Mai salg",
    "description": "Ti prosent",
    "active": True,
    "private": False,
    "type": "receipt",
    "receipt_text": "Mai Salg",
    "campaign_id": "spring-2027",
    "links": [
        {"href": "https://example.com/img.png", "rel": "thumbnail_discount_image", "type": "image/png"},
        {"href": "https://shop.example.com", "rel": "webshop"},
    ],
    "reward": {"type": "discount_percent", "value": 10.5},
    "requirement": {"purchase_from": "2026-01-01T00:00:00Z", "purchase_to": "2099-01-01T00:00:00Z", "stamp": 3},
    "limitation": {"discount_repeat_usage": -1, "discount_reward_usage": 2},
    "metadata": {"source": "dintero"},
}


def test_a_rule_in_the_vendors_shape_answers_every_field_back_in_its_place(api):
    response = api.post(RULES, VENDOR_RULE)
    assert response.status_code == 201, response.content
    rule = response.json()
    for field in ("name", "description", "active", "private", "type", "receipt_text", "campaign_id", "links"):
        assert rule[field] == VENDOR_RULE[field], field
    assert rule["reward"] == {"type": "discount_percent", "value": 10.5}
    assert rule["requirement"] == {**VENDOR_RULE["requirement"], "gross_amount": None}
    assert rule["limitation"] == VENDOR_RULE["limitation"]
    assert rule["metadata"] == VENDOR_RULE["metadata"]
    # The top-level aliases answer the same dates.
    assert (rule["purchase_from"], rule["purchase_to"]) == ("2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z")
    assert api.get(f"{RULES}/{rule['id']}").json() == rule
    stored = DiscountRule.objects.get(pk=rule["id"])
    assert str(stored.reward_value.normalize()) == "10.5" and stored.limitation_repeat_usage == -1


def test_the_top_level_dates_are_aliases(api):
    body = {**VENDOR_RULE, "requirement": {"stamp": 3}, "purchase_from": "2026-02-01T00:00:00Z"}
    rule = api.post(RULES, body).json()
    assert rule["requirement"]["purchase_from"] == rule["purchase_from"] == "2026-02-01T00:00:00Z"
    before = snapshot()
    clash = {**VENDOR_RULE, "purchase_from": "2026-02-01T00:00:00Z"}
    error = assert_error(api.post(RULES, clash), 400, "validation_error")["error"]
    assert {e["field"] for e in error["errors"]} == {"purchase_from"}
    assert snapshot() == before


def test_purchase_to_moves_later_through_the_vendors_shape(api):
    rule = api.post(RULES, VENDOR_RULE).json()
    later = {**VENDOR_RULE, "requirement": {**VENDOR_RULE["requirement"], "purchase_to": "2100-01-01T00:00:00Z"}}
    response = api.put(f"{RULES}/{rule['id']}", later)
    assert response.status_code == 200, response.content
    assert response.json()["requirement"]["purchase_to"] == "2100-01-01T00:00:00Z"
    assert response.json()["receipt_text"] == "Mai Salg" and response.json()["links"] == VENDOR_RULE["links"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"visible_from": "2026-01-01T00:00:00Z"}, "visible_from"),
        ({"type": "item"}, "type"),
        ({"reward": {"type": "discount_percent", "value": 10, "base": "net"}}, "reward.base"),
        ({"reward": {"type": "discount_item_new_price", "value": 10}}, "reward.type"),
        ({"requirement": {"item": {"items": [{"id": "ANY_ITEM"}]}}}, "requirement.item"),
        ({"requirement": {"discount_code": "TACO"}}, "requirement.discount_code"),
        ({"limitation": {"discount_hours": {"hours": []}}}, "limitation.discount_hours"),
        ({"limitation": {"discount_repeat_usage": 0}}, "limitation.discount_repeat_usage"),
        ({"limitation": {"discount_reward_usage": -2}}, "limitation.discount_reward_usage"),
        ({"links": [{"href": "https://example.com", "title": "x"}]}, "links.0.title"),
        ({"links": [{"rel": "webshop"}]}, "links.0.href"),
        ({"reward": {"type": "discount_amount", "value": 10.5}}, "reward.value"),
        ({"reward": {"type": "discount_percent", "value": 10.12345}}, "reward.value"),
        ({"reward": {"type": "discount_percent", "value": 100.5}}, "reward.value"),
    ],
)
def test_a_field_the_product_does_not_keep_is_refused_never_dropped(api, change, field):
    before = snapshot()
    error = assert_error(api.post(RULES, {**VENDOR_RULE, **change}), 400, "validation_error")["error"]
    assert field in {e["field"] for e in error["errors"]}, error
    assert snapshot() == before


def test_minus_one_means_unlimited(api, rule_of):
    rule = rule_of(limitation={"discount_repeat_usage": -1, "discount_reward_usage": -1})
    for i in range(4):
        assert use(api, rule, "c-1", f"r{i}", usage=50).status_code == 201
    assert api.get(f"{RULES}/{rule['id']}").json()["limitation"] == {
        "discount_repeat_usage": -1,
        "discount_reward_usage": -1,
    }


# --- giving rules; the customers list -------------------------------------------------------------


def test_given_customers_list_items_and_state(api, rule_of, account):
    rule = rule_of(private=True)
    url = f"{RULES}/{rule['id']}/customers"
    answer = api.post(url, {"customers": ["c-a", "c-b"]})
    assert answer.status_code == 200 and answer.json()["id"] == rule["id"] and answer.json()["private"] is True
    items = api.get(url).json()
    assert [set(item) for item in items] == [
        {"id", "customer_id", "created_at", "created_by", "updated_at", "deleted_at", "deleted_by"}
    ] * 2
    refs = {str(r.pk): r for r in DiscountRef.objects.all()}
    for item in items:
        ref = refs[item["id"]]
        assert item["customer_id"] == ref.customer.external_ref
        assert (
            item["created_by"] == "client:pos-frontdesk" and item["deleted_at"] is None and item["deleted_by"] is None
        )
    assert [i["customer_id"] for i in items] == ["c-a", "c-b"]
    assert api.get(url, {"state": "deleted"}).json() == []
    assert [i["id"] for i in api.get(url, {"state": "all"}).json()] == [i["id"] for i in items]
    assert_error(api.get(url, {"state": "gone"}), 400, "invalid_state")
    page = api.get(url, {"limit": 1})
    assert len(page.json()) == 1 and 'rel="next"' in page["Link"]


# --- the vendor's states --------------------------------------------------------------------------


def test_rules_list_accepts_the_vendors_states(api, rule_of):
    now = timezone.now()
    scheduled = rule_of(name="later", purchase_from=iso(now + timedelta(days=3)))
    completed = rule_of(
        name="over", purchase_from=iso(now - timedelta(days=9)), purchase_to=iso(now - timedelta(days=1))
    )
    available = rule_of(name="now", purchase_from=iso(now - timedelta(days=1)))
    paused = rule_of(name="paused", purchase_from=iso(now - timedelta(days=1)), active=False)

    def ids(state):
        response = api.get(RULES, {"state": state})
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()}

    assert ids("scheduled") == {scheduled["id"]}
    assert ids("completed") == {completed["id"]}
    assert ids("available") == {available["id"]}
    assert paused["id"] in ids("inactive")


# --- a customer's rules ---------------------------------------------------------------------------


def test_the_rules_a_customer_holds(api, rule_of, account):
    given = rule_of(name="given", private=True)
    used = rule_of(name="used")
    rule_of(name="neither")
    gone = rule_of(name="gone")
    api.post(f"{RULES}/{given['id']}/customers", {"customers": ["12397af6e5e"]})
    assert use(api, used, "12397af6e5e", "r-1").status_code == 201
    assert use(api, gone, "12397af6e5e", "r-1").status_code == 201
    api.delete(f"{RULES}/{gone['id']}")
    url = f"{ACCOUNT}/discounts/customers/12397af6e5e/rules"
    response = api.get(url)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [given["id"], used["id"]]
    assert response.json()[0] == api.get(f"{RULES}/{given['id']}").json()
    assert [r["id"] for r in api.get(url, {"state": "all"}).json()] == [given["id"], used["id"], gone["id"]]
    first = api.get(url, {"limit": 1})
    assert [r["id"] for r in first.json()] == [given["id"]] and 'rel="next"' in first["Link"]
    before = snapshot()
    assert api.get(f"{ACCOUNT}/discounts/customers/never-seen/rules").json() == []
    assert snapshot() == before  # a read creates no customer


# --- claims ---------------------------------------------------------------------------------------


def claim_body(rule, customer_id="12397af6e5e", ref="transactionid1", lines=None, **changes):
    return {
        "purchase_at": "2027-03-01T12:00:00Z",
        "customer_id": customer_id,
        "discounts": [{"id": rule["id"], "refs": lines or [{"id": "line-1", "amount": 1000, "usage": 1}]}],
        "ref": ref,
        "type": "pos",
        **changes,
    }


def test_a_claim_writes_the_usage_refs_and_statistics_of_the_usages_endpoint(api, rule_of, account):
    rule = rule_of(reward={"type": "discount_debit", "value": 5000})
    other = rule_of(name="stamp", reward={"type": "discount_item_quantity", "value": 1})
    body = {
        "purchase_at": "2027-03-01T12:00:00+01:00",
        "customer_id": "12397af6e5e",
        "discounts": [
            {
                "id": rule["id"],
                "refs": [{"id": "line-1", "amount": 1200, "usage": 1}, {"id": "line-2", "amount": 300, "usage": 0}],
            },
            {"id": other["id"], "refs": [{"id": "line-3", "amount": 0, "usage": 1}]},
        ],
        "ref": "transactionid1",
        "type": "pos",
    }
    response = api.post(CLAIMS, body)
    assert response.status_code == 201, response.content
    claim = response.json()
    assert set(claim) == {
        "purchase_at", "customer_id", "discounts", "id", "created_at", "created_by", "updated_at",
        "deleted_by", "deleted_at", "ref", "type",
    }  # fmt: skip
    assert claim["purchase_at"] == "2027-03-01T11:00:00Z" and claim["customer_id"] == "12397af6e5e"
    assert claim["discounts"] == body["discounts"] and (claim["ref"], claim["type"]) == ("transactionid1", "pos")
    assert claim["created_by"] == "client:pos-frontdesk" and claim["updated_at"] == claim["created_at"]
    assert claim["deleted_at"] is None and claim["deleted_by"] is None
    [usage] = api.get(f"{RULES}/{rule['id']}/usages").json()
    assert usage["customer_id"] == "12397af6e5e"
    assert [(u["ref"], u["ref_type"], u["usage"], u["stamp"], u["amount"]) for u in usage["usage_refs"]] == [
        ("line-1", "receipt_add", 1, 0, 1200),
        ("line-2", "receipt_add", 0, 0, 300),
    ]
    assert usage["statistics"] == {
        "stamp": 0, "used": 1, "usage": 1, "amount": 1500, "debit_balance": 3500, "current_stamp": 0,
    }  # fmt: skip
    [stamped] = api.get(f"{RULES}/{other['id']}/usages").json()
    assert stamped["statistics"]["used"] == 1
    assert UsageRef.objects.filter(claim_id=claim["id"]).count() == 3
    assert api.get(CLAIMS).json() == [claim]


def test_a_claim_ref_again_is_a_retry_with_the_same_body_and_409_with_another(api, rule_of):
    rule = rule_of()
    first = api.post(CLAIMS, claim_body(rule))
    assert first.status_code == 201
    before = snapshot()
    retry = api.post(CLAIMS, claim_body(rule))
    assert retry.status_code == 200 and retry.json() == first.json()
    other = claim_body(rule, lines=[{"id": "line-1", "amount": 999, "usage": 1}])
    assert_error(api.post(CLAIMS, other), 409, "conflict")
    assert_error(api.post(CLAIMS, claim_body(rule, customer_id="someone-else")), 409, "conflict")
    assert snapshot() == before


def test_a_claim_is_all_or_nothing(api, rule_of, account):
    fine = rule_of(name="fine")
    limited = rule_of(name="limited", limitation={"discount_repeat_usage": 1})
    private = rule_of(name="private", private=True)
    assert use(api, limited, "12397af6e5e", "earlier").status_code == 201
    before = snapshot()
    body = {
        "purchase_at": "2027-03-01T12:00:00Z",
        "customer_id": "12397af6e5e",
        "discounts": [
            {"id": fine["id"], "refs": [{"id": "l1", "amount": 100, "usage": 1}]},
            {"id": limited["id"], "refs": [{"id": "l2", "amount": 100, "usage": 1}]},
        ],
        "ref": "t-9",
    }
    assert_error(api.post(CLAIMS, body), 409, "usage_limit_reached")
    assert snapshot() == before
    # A new customer id in a refused claim is not created either.
    assert_error(api.post(CLAIMS, claim_body(private, customer_id="fresh")), 409, "customer_not_eligible")
    assert not Customer.objects.filter(external_ref="fresh").exists()
    assert snapshot() == before


@pytest.mark.parametrize(
    "change, field",
    [
        ({"purchase_at": None}, "purchase_at"),
        ({"customer_id": ""}, "customer_id"),
        ({"discounts": []}, "discounts"),
        ({"discounts": [{"id": "x", "refs": []}]}, "discounts.0.refs"),
        ({"ref": ""}, "ref"),
        ({"ref": "x" * 256}, "ref"),
    ],
)
def test_claim_validation_is_400_and_writes_nothing(api, rule_of, change, field):
    rule = rule_of()
    before = snapshot()
    error = assert_error(api.post(CLAIMS, claim_body(rule, **change)), 400, "validation_error")["error"]
    assert field in {e["field"] for e in error["errors"]}, error
    assert snapshot() == before


def test_a_claim_of_an_unknown_or_foreign_discount_is_400(api, rule_of, other_account, make_api):
    foreign_rule = (
        make_api(other_account)
        .post(
            "/v1/accounts/P00000002/discounts/rules", {"name": "x", "reward": {"type": "discount_amount", "value": 1}}
        )
        .json()
    )
    before = snapshot()
    for rule in (foreign_rule, {"id": "00000000-0000-0000-0000-000000000000"}, {"id": "nope"}):
        body = assert_error(api.post(CLAIMS, claim_body(rule)), 400, "unknown_discounts")
        assert rule["id"] in body["error"]["message"]
    assert snapshot() == before


def test_claims_list_pages(api, rule_of):
    rule = rule_of()
    ids = [
        api.post(CLAIMS, claim_body(rule, ref=f"t-{i}", lines=[{"id": f"l{i}", "amount": 1, "usage": 0}])).json()["id"]
        for i in range(3)
    ]
    first = api.get(CLAIMS, {"limit": 2})
    assert [c["id"] for c in first.json()] == ids[:2]
    assert [c["id"] for c in api.get(CLAIMS, {"limit": 2, "starting_after": ids[1]}).json()] == ids[2:]
    assert_error(api.get(CLAIMS, {"limit": 101}), 400, "invalid_limit")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_claims_never_break_a_limit(account, make_client):
    _, secret = make_client(account)
    rule = rule_limited_to(secret, 3, value=1)

    def send(index: int) -> int:
        return (
            Api(secret)
            .post(CLAIMS, claim_body(rule, ref=f"t-{index}", lines=[{"id": f"l{index}", "amount": 1, "usage": 1}]))
            .status_code
        )

    assert run_simultaneously(10, send) == {201: 3, 409: 7}
    ref = DiscountRef.objects.get()
    assert (ref.used, ref.usage) == (3, 3) and DiscountClaim.objects.count() == 3 and ref.entries.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_claim_ref_sent_at_once_many_times_is_recorded_once(account, make_client):
    _, secret = make_client(account)
    rule = Api(secret).post(RULES, {"name": "x", "reward": {"type": "discount_amount", "value": 1}}).json()

    def send(index: int) -> int:
        return Api(secret).post(CLAIMS, claim_body(rule)).status_code

    results = run_simultaneously(8, send)
    assert results[201] == 1 and results[200] == 7, results
    assert DiscountClaim.objects.count() == 1 and UsageRef.objects.count() == 1


# --- the token call -------------------------------------------------------------------------------


def test_the_token_call_works_without_grant_type(account, make_client):
    client, secret = make_client(account)
    response = token_for(client, secret, grant_type=None)
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "Bearer"
    assert Api(response.json()["access_token"], form="bearer").get(RULES).status_code == 200
