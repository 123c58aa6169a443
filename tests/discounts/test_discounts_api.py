"""The discounts family (Dintero-style): rules, giving, receipts with the seven checks, statistics, paging."""

import base64
from datetime import timedelta

import jsonschema
import jwt
import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.api import dialects
from customers import services as customer_services
from customers.models import Customer
from discounts.models import DiscountClaim, DiscountRef, DiscountRule, UsageRef
from tests.concurrency import run_simultaneously
from tests.conftest import SYSTEM, Api
from tests.conftest import snapshot as ledger_snapshot

pytestmark = pytest.mark.django_db

ERROR_SCHEMA = dialects.get("discounts").error_schema()


def snapshot() -> dict:
    """Every business row, the discounts family's included."""
    state = ledger_snapshot()
    for model in (DiscountRule, DiscountRef, UsageRef, DiscountClaim):
        state[model.__name__] = sorted(map(repr, model.objects.values()))
    return state


RULES = "/v1/accounts/T00000001/discounts/rules"


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    assert body["error"]["code"] == code, body
    return body


@pytest.fixture
def make_rule(api):
    def make(**changes):
        body = {
            "name": "Coffee stamp card",
            "reward": {"type": "discount_item_quantity", "value": 1},
            "requirement": {"stamp": 9},
            **changes,
        }
        response = api.post(RULES, body)
        assert response.status_code == 201, response.content
        return response.json()

    return make


def receipt(api, rule, customer, ref, **values):
    body = {"customer_id": str(customer.pk), "ref": ref, "ref_type": "receipt_add", **values}
    return api.post(f"{RULES}/{rule['id']}/usages", body)


# --- rules ----------------------------------------------------------------------------------------


def test_create_and_get_a_rule(api, make_rule):
    rule = make_rule(purchase_to="2099-01-01T00:00:00Z", metadata={"shop": "oslo"}, private=True)
    assert set(rule) == {
        "id",
        "name",
        "description",
        "active",
        "private",
        "type",
        "receipt_text",
        "campaign_id",
        "links",
        "purchase_from",
        "purchase_to",
        "reward",
        "requirement",
        "limitation",
        "metadata",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "deleted_at",
        "deleted_by",
    }
    assert rule["reward"] == {"type": "discount_item_quantity", "value": 1}
    assert rule["requirement"] == {
        "stamp": 9,
        "gross_amount": None,
        "purchase_from": rule["purchase_from"],
        "purchase_to": "2099-01-01T00:00:00Z",
    }
    assert rule["limitation"] == {"discount_repeat_usage": None, "discount_reward_usage": None}
    assert rule["created_by"] == "client:pos-frontdesk" and rule["private"] is True
    assert api.get(f"{RULES}/{rule['id']}").json() == rule


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reward": {"type": "discount_percent", "value": 101}}, "reward.value"),
        ({"reward": {"type": "discount_percent", "value": 0}}, "reward.value"),
        ({"reward": {"type": "free_lunch", "value": 1}}, "reward.type"),
        ({"reward": {"type": "discount_amount", "value": -1}}, "reward.value"),
        ({"name": ""}, "name"),
        ({"purchase_from": "2030-01-01T00:00:00Z", "purchase_to": "2029-01-01T00:00:00Z"}, "requirement.purchase_to"),
        ({"requirement": {"stamp": 0}}, "requirement.stamp"),
        ({"limitation": {"discount_repeat_usage": "many"}}, "limitation.discount_repeat_usage"),
    ],
)
def test_rule_validation_is_400(api, body, field):
    full = {"name": "R", "reward": {"type": "discount_amount", "value": 100}, **body}
    before = snapshot()
    response = api.post(RULES, full)
    error = assert_error(response, 400, "validation_error")["error"]
    assert field in {e["field"] for e in error["errors"]}
    assert snapshot() == before and not DiscountRule.objects.exists()


def test_reward_and_purchase_from_are_immutable_and_purchase_to_only_moves_later(api, make_rule):
    rule = make_rule(purchase_from="2026-01-01T00:00:00Z", purchase_to="2027-01-01T00:00:00Z")
    base = {
        "name": "Renamed",
        "reward": rule["reward"],
        "purchase_from": rule["purchase_from"],
        "purchase_to": "2028-01-01T00:00:00Z",
        "requirement": {"stamp": 9},
    }
    ok = api.put(f"{RULES}/{rule['id']}", base)
    assert (
        ok.status_code == 200 and ok.json()["name"] == "Renamed" and ok.json()["purchase_to"] == "2028-01-01T00:00:00Z"
    )
    for change, field in [
        ({"reward": {"type": "discount_amount", "value": 5}}, "reward.type"),
        ({"purchase_from": "2026-02-01T00:00:00Z"}, "purchase_from"),
        ({"purchase_to": "2027-06-01T00:00:00Z"}, "requirement.purchase_to"),
    ]:
        error = assert_error(api.put(f"{RULES}/{rule['id']}", {**base, **change}), 400, "validation_error")["error"]
        assert field in {e["field"] for e in error["errors"]}
    assert api.get(f"{RULES}/{rule['id']}").json()["purchase_to"] == "2028-01-01T00:00:00Z"


def test_soft_delete_keeps_the_rule_and_refuses_new_usage(api, make_rule, customer):
    rule = make_rule()
    deleted = api.delete(f"{RULES}/{rule['id']}")
    assert deleted.status_code == 200 and deleted.json()["deleted_at"] and deleted.json()["deleted_by"]
    assert DiscountRule.objects.filter(pk=rule["id"]).exists()
    assert_error(receipt(api, rule, customer, "r1", stamp=1, usage=0), 409, "discount_not_available")
    assert [r["id"] for r in api.get(RULES).json()] == []
    assert [r["id"] for r in api.get(RULES, {"state": "deleted"}).json()] == [rule["id"]]
    assert [r["id"] for r in api.get(RULES, {"state": "all"}).json()] == [rule["id"]]


def test_rule_list_states_paging_and_errors(api, make_rule):
    rules = [make_rule(name=f"R{i}", active=i % 2 == 0) for i in range(5)]
    assert [r["id"] for r in api.get(RULES, {"state": "active"}).json()] == [rules[i]["id"] for i in (0, 2, 4)]
    assert [r["id"] for r in api.get(RULES, {"state": "inactive"}).json()] == [rules[i]["id"] for i in (1, 3)]
    first = api.get(RULES, {"limit": 2})
    assert [r["id"] for r in first.json()] == [r["id"] for r in rules[:2]]
    assert f"starting_after={rules[1]['id']}" in first["Link"] and 'rel="next"' in first["Link"]
    assert_error(api.get(RULES, {"state": "gone"}), 400, "invalid_state")
    assert_error(api.get(RULES, {"limit": 0}), 400, "invalid_limit")
    assert_error(api.get(RULES, {"limit": 101}), 400, "invalid_limit")
    assert_error(api.get(RULES, {"starting_after": "nope"}), 400, "invalid_cursor")


def test_unknown_rule_is_404(api):
    assert_error(api.get(f"{RULES}/00000000-0000-0000-0000-000000000000"), 404, "not_found")
    assert_error(api.get(f"{RULES}/not-a-uuid"), 404, "not_found")


# --- auth, scopes, accounts -----------------------------------------------------------------------


def test_scopes_admin_implies_write_implies_read(account, make_api, make_rule, customer):
    rule = make_rule()
    reader = make_api(account, scopes=["read:discounts"], name="reader")
    writer = make_api(account, scopes=["write:discounts"], name="writer")
    assert reader.get(RULES).status_code == 200 and writer.get(RULES).status_code == 200
    assert_error(reader.post(f"{RULES}/{rule['id']}/customers", {"customers": [str(customer.pk)]}), 403, "forbidden")
    assert writer.post(f"{RULES}/{rule['id']}/customers", {"customers": [str(customer.pk)]}).status_code == 200
    before = snapshot()
    assert_error(writer.post(RULES, {"name": "x", "reward": {"type": "discount_amount", "value": 1}}), 403, "forbidden")
    assert_error(writer.delete(f"{RULES}/{rule['id']}"), 403, "forbidden")
    assert snapshot() == before


def test_another_accounts_aid_is_403_and_bad_aid_is_400(api, other_account, make_api):
    assert_error(api.get("/v1/accounts/P00000002/discounts/rules"), 403, "forbidden")
    assert_error(api.get("/v1/accounts/X1/discounts/rules"), 400, "invalid_aid")
    # Arabic-Indic digits are digits to a Unicode regex, never in an account id.
    assert_error(
        api.get("/v1/accounts/T\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0661/discounts/rules"), 400, "invalid_aid"
    )
    foreign = make_api(other_account)
    before = snapshot()
    assert_error(
        foreign.post(RULES, {"name": "x", "reward": {"type": "discount_amount", "value": 1}}), 403, "forbidden"
    )
    assert snapshot() == before


def test_no_credentials_is_401(anonymous):
    assert_error(anonymous.get(RULES), 401, "unauthorized")


def test_unknown_path_is_json_404(api):
    assert_error(api.get("/v1/accounts/T00000001/nothing"), 404, "not_found")


# --- access tokens --------------------------------------------------------------------------------


def rule_limited_to(secret: str, uses: int, *, value: int) -> dict:
    """A new rule (an amount off), usable `uses` times by each holder, as the API answers it."""
    body = {
        "name": f"{uses} uses",
        "reward": {"type": "discount_amount", "value": value},
        "limitation": {"discount_repeat_usage": uses},
    }
    return Api(secret).post(RULES, body).json()


def token_for(client, secret, grant_type="client_credentials"):
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    return Api(None).post(
        "/v1/accounts/T00000001/auth/token",
        {"audience": "pos"} if grant_type is None else {"grant_type": grant_type, "audience": "pos"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def test_token_works_as_bearer_on_every_family(account, make_client, credit):
    client, secret = make_client(account)
    response = token_for(client, secret)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["aid"]) == (client.client_id, "T00000001") and "read:discounts" in claims["scope"]
    bearer = Api(body["access_token"], form="bearer")
    assert bearer.get(RULES).status_code == 200
    assert bearer.get(f"/customers/customers/{credit.customer_id}/credits").status_code == 200
    assert bearer.get(f"/v1/customers/{credit.customer.number}/benefits").status_code == 200


def test_token_needs_basic_credentials_and_the_client_credentials_grant(account, make_client, api):
    client, secret = make_client(account)
    assert_error(token_for(client, secret, grant_type="password"), 400, "unsupported_grant_type")
    assert_error(token_for(client, "wrong-secret"), 401, "unauthorized")
    assert_error(
        api.post("/v1/accounts/T00000001/auth/token", {"grant_type": "client_credentials"}), 401, "unauthorized"
    )
    assert_error(
        Api(None).post("/v1/accounts/T00000001/auth/token", {"grant_type": "client_credentials"}), 401, "unauthorized"
    )


def test_deactivated_clients_tokens_stop_working(account, make_client):
    client, secret = make_client(account)
    bearer = Api(token_for(client, secret).json()["access_token"], form="bearer")
    assert bearer.get(RULES).status_code == 200
    customer_services.api_client_deactivate(api_client=client, actor=SYSTEM)
    assert_error(bearer.get(RULES), 401, "unauthorized")


def test_expired_tampered_and_unsigned_tokens_are_refused(account, make_client):
    client, secret = make_client(account)
    token = token_for(client, secret).json()["access_token"]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}xx.{signature}"
    # Claims the server would sign, but not signed by it.
    claims = {
        "sub": client.client_id,
        "aid": "T00000001",
        "scope": "admin:discounts",
        "iss": "benefit-ledger",
        "iat": 1,
        "exp": 9999999999,
    }
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    other_key = jwt.encode(claims, "not-the-servers-key-but-as-long-as-one-should-be", algorithm="HS256")
    for bad in (tampered, unsigned, other_key):
        assert_error(Api(bad, form="bearer").get(RULES), 401, "unauthorized")
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.ACCESS_TOKEN_LIFETIME + 5)):
        assert_error(Api(token, form="bearer").get(RULES), 401, "unauthorized")


# --- giving rules to customers --------------------------------------------------------------------


def test_give_is_idempotent_answers_the_rule_and_creates_unseen_customers(api, make_rule, customer, account):
    rule = make_rule(private=True)
    url = f"{RULES}/{rule['id']}/customers"
    first = api.post(url, {"customers": [str(customer.pk), "12397af6e5e"]})
    assert first.status_code == 200 and first.json() == api.get(f"{RULES}/{rule['id']}").json()
    created = Customer.objects.get(account=account, external_ref="12397af6e5e")
    before = snapshot()
    assert api.post(url, {"customers": [str(customer.pk), "12397af6e5e"]}).status_code == 200
    assert snapshot() == before
    assert DiscountRef.objects.filter(rule_id=rule["id"]).count() == 2
    listed = api.get(url).json()
    assert [c["customer_id"] for c in listed] == [str(customer.pk), "12397af6e5e"]
    assert listed[1]["id"] == str(DiscountRef.objects.get(customer=created).pk)


# --- receipts -------------------------------------------------------------------------------------


def test_stamp_card_of_nine(api, make_rule, customer):
    rule = make_rule()
    for i in range(9):
        response = receipt(api, rule, customer, f"coffee-{i}", usage=0, stamp=1)
        assert response.status_code == 201
        stats = response.json()["statistics"]
        assert stats == {"stamp": i + 1, "used": 0, "usage": 0, "amount": 0, "debit_balance": 0, "current_stamp": i + 1}
    claim = receipt(api, rule, customer, "claim-1", usage=1, stamp=0)
    assert claim.status_code == 201
    assert claim.json()["statistics"] == {
        "stamp": 9,
        "used": 1,
        "usage": 1,
        "amount": 0,
        "debit_balance": 0,
        "current_stamp": 0,
    }
    before = snapshot()
    assert_error(receipt(api, rule, customer, "claim-2", usage=1, stamp=0), 409, "not_enough_stamps")
    assert snapshot() == before
    body = claim.json()
    assert body["id"] == body["ref_id"] and body["discount_id"] == rule["id"] and "create_at" in body
    assert [u["ref"] for u in body["usage_refs"]] == [f"coffee-{i}" for i in range(9)] + ["claim-1"]


def test_debit_balance(api, make_rule, customer):
    rule = make_rule(reward={"type": "discount_debit", "value": 10000}, requirement={})
    first = receipt(api, rule, customer, "r-1", usage=1, amount=6000)
    assert first.json()["statistics"]["debit_balance"] == 4000
    before = snapshot()
    assert_error(receipt(api, rule, customer, "r-2", usage=1, amount=5000), 409, "insufficient_debit_balance")
    assert snapshot() == before
    removed = receipt(api, rule, customer, "r-1", ref_type="receipt_remove")
    assert removed.status_code == 201
    stats = removed.json()["statistics"]
    assert stats["debit_balance"] == 10000 and stats["amount"] == 0 and stats["used"] == 0
    assert removed.json()["usage_refs"][-1] == {
        **removed.json()["usage_refs"][-1],
        "ref": "r-1",
        "ref_type": "receipt_remove",
        "usage": -1,
        "amount": -6000,
    }
    assert receipt(api, rule, customer, "r-2", usage=1, amount=5000).status_code == 201
    again = receipt(api, rule, customer, "r-1", ref_type="receipt_remove")
    assert again.status_code == 200 and again.json()["statistics"]["amount"] == 5000
    assert_error(receipt(api, rule, customer, "never-added", ref_type="receipt_remove"), 409, "ref_not_found")


def test_retry_with_same_ref_changes_nothing_and_other_values_conflict(api, make_rule, customer):
    rule = make_rule()
    assert receipt(api, rule, customer, "r-1", usage=0, stamp=2).status_code == 201
    before = snapshot()
    retry = receipt(api, rule, customer, "r-1", usage=0, stamp=2)
    assert retry.status_code == 200 and retry.json()["statistics"]["stamp"] == 2
    assert_error(receipt(api, rule, customer, "r-1", usage=0, stamp=3), 409, "ref_conflict")
    assert snapshot() == before


def test_window_private_and_limits(api, make_rule, customer, make_customer, account):
    closed = make_rule(purchase_from="2020-01-01T00:00:00Z", purchase_to="2021-01-01T00:00:00Z")
    assert_error(receipt(api, closed, customer, "a", stamp=1, usage=0), 409, "discount_not_available")
    inactive = make_rule(active=False)
    assert_error(receipt(api, inactive, customer, "a", stamp=1, usage=0), 409, "discount_not_available")
    private = make_rule(private=True, requirement={})
    assert_error(receipt(api, private, customer, "a"), 409, "customer_not_eligible")
    api.post(f"{RULES}/{private['id']}/customers", {"customers": [str(customer.pk)]})
    assert receipt(api, private, customer, "a").status_code == 201
    limited = make_rule(requirement={}, limitation={"discount_repeat_usage": 2, "discount_reward_usage": 3})
    assert_error(receipt(api, limited, customer, "big", usage=4), 400, "reward_usage_exceeded")
    assert receipt(api, limited, customer, "p1", usage=3).status_code == 201
    assert receipt(api, limited, customer, "p2", usage=1).status_code == 201
    assert receipt(api, limited, customer, "zero", usage=0).status_code == 201  # usage 0 is not a use
    assert_error(receipt(api, limited, customer, "p3", usage=1), 409, "usage_limit_reached")
    assert_error(
        receipt(api, limited, make_customer(account, email="x@example.com"), "p1", usage=9),
        400,
        "reward_usage_exceeded",
    )


def test_failed_first_usage_of_a_public_rule_creates_no_ref(api, make_rule, customer):
    rule = make_rule()
    assert_error(receipt(api, rule, customer, "claim", usage=1), 409, "not_enough_stamps")
    assert not DiscountRef.objects.exists() and not UsageRef.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ref": ""}, "ref"),
        ({"ref": "x" * 256}, "ref"),
        ({"ref_type": "receipt_edit"}, "ref_type"),
        ({"usage": -1}, "usage"),
        ({"amount": "lots"}, "amount"),
        ({"customer_id": ""}, "customer_id"),
        ({"customer_id": " padded"}, "customer_id"),
        ({"customer_id": "x" * 256}, "customer_id"),
    ],
)
def test_receipt_validation_is_400(api, make_rule, customer, body, field):
    rule = make_rule()
    full = {"customer_id": str(customer.pk), "ref": "r", "ref_type": "receipt_add", **body}
    error = assert_error(api.post(f"{RULES}/{rule['id']}/usages", full), 400, "validation_error")["error"]
    assert field in {e["field"] for e in error["errors"]}
    assert not UsageRef.objects.exists()


def test_statistics_equal_the_sums_over_the_entries(api, make_rule, customer):
    rule = make_rule(requirement={"stamp": 3})
    for i, (usage, stamp) in enumerate([(0, 2), (0, 2), (1, 0), (0, 1)]):
        receipt(api, rule, customer, f"r{i}", usage=usage, stamp=stamp)
    receipt(api, rule, customer, "r1", ref_type="receipt_remove")
    ref = DiscountRef.objects.get(rule_id=rule["id"])
    entries = list(ref.entries.all())
    assert ref.stamp == sum(e.stamp for e in entries) == 3
    assert ref.usage == sum(e.usage for e in entries) == 1
    removed = {e.ref for e in entries if e.ref_type == "receipt_remove"}
    assert ref.used == sum(1 for e in entries if e.ref_type == "receipt_add" and e.usage > 0 and e.ref not in removed)


# --- the seed's usages list -----------------------------------------------------------------------


def test_usages_list_pages_and_validates(api, make_rule, customer, make_customer, account):
    rule = make_rule(requirement={})
    customers = [customer] + [make_customer(account, email=f"u{i}@example.com") for i in range(4)]
    for c in customers:
        receipt(api, rule, c, f"r-{c.pk}")
    url = f"{RULES}/{rule['id']}/usages"
    first = api.get(url, {"limit": 2})
    assert first.status_code == 200 and isinstance(first.json(), list) and len(first.json()) == 2
    seen = [u["id"] for u in first.json()]
    link = first["Link"]
    while link:
        next_url = link[link.index("<") + 1 : link.index(">")]
        page = api.get(next_url.replace("http://testserver", ""))
        seen += [u["id"] for u in page.json()]
        link = page.get("Link")
    refs = list(
        DiscountRef.objects.filter(rule_id=rule["id"]).order_by("created_at", "id").values_list("id", flat=True)
    )
    assert seen == [str(r) for r in refs]
    assert api.get(url).json()[0]["usage_refs"][0]["ref"] == f"r-{customer.pk}"
    assert_error(api.get(url, {"limit": 1001}), 400, "invalid_limit")
    assert_error(api.get(url, {"starting_after": "00000000-0000-0000-0000-000000000000"}), 400, "invalid_cursor")


@pytest.mark.postgres
def test_paging_2500_refs_by_1000_is_exact_and_an_index_range_scan(api, make_rule, account):
    rule = make_rule(requirement={})
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (id, account_id, number, email, first_name, last_name, external_ref, "
            "created_at, updated_at) SELECT gen_random_uuid(), %s, 7000000000 + g, '', '', '', '', now(), now() "
            "FROM generate_series(1, 2500) g",
            [account.pk],
        )
        cursor.execute(
            "INSERT INTO discounts_discountref (id, account_id, rule_id, customer_id, given, stamp, used, usage, amount, "
            "created_at, created_by, updated_at) SELECT gen_random_uuid(), %s, %s, id, false, 0, 0, 0, 0, "
            "now() - (number - 7000000000) * interval '1 second' / 10 * 0, 'seed', now() FROM customers_customer "
            "WHERE number > 7000000000",
            [account.pk, rule["id"]],
        )
        cursor.execute("ANALYZE discounts_discountref")
    url = f"{RULES}/{rule['id']}/usages"
    seen, after, pages = [], None, 0
    while True:
        response = api.get(url, {"limit": 1000, **({"starting_after": after} if after else {})})
        items = response.json()
        seen += [i["id"] for i in items]
        pages += 1
        if "Link" not in response:
            break
        after = items[-1]["id"]
    expected = list(
        DiscountRef.objects.filter(rule_id=rule["id"]).order_by("created_at", "id").values_list("id", flat=True)
    )
    assert pages == 3 and seen == [str(r) for r in expected] and len(set(seen)) == 2500
    anchor = DiscountRef.objects.filter(rule_id=rule["id"]).order_by("created_at", "id")[2000]

    from discounts.api import family as keyset

    late_page = keyset.after(
        DiscountRef.objects.filter(rule_id=rule["id"]).order_by("created_at", "id"),
        {"created_at": anchor.created_at, "id": anchor.id},
    )[:1000]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # what the planner does once the table is large
        plan = late_page.explain()
        cursor.execute("RESET enable_seqscan")
    # An index range that starts at the cursor (created_at in the Index Cond), not a walk from the start.
    assert "discount_ref_rule_order" in plan and "Sort" not in plan.split("->")[0], plan
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "created_at" in index_cond, plan
    assert "OFFSET" not in str(late_page.query).upper()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_receipts_against_repeat_usage_five(account, make_client, customer):
    _, secret = make_client(account)
    rule = rule_limited_to(secret, 5, value=100)

    def send(index: int) -> int:
        return (
            Api(secret)
            .post(
                f"{RULES}/{rule['id']}/usages",
                {
                    "customer_id": str(customer.pk),
                    "ref": f"till-{index}",
                    "ref_type": "receipt_add",
                    "usage": 1,
                    "amount": 10,
                },
            )
            .status_code
        )

    assert run_simultaneously(20, send) == {201: 5, 409: 15}
    ref = DiscountRef.objects.get(rule_id=rule["id"])
    assert (ref.used, ref.usage, ref.amount) == (5, 5, 50)
    assert UsageRef.objects.filter(discount_ref=ref).count() == 5
