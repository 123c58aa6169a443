"""A Dintero client's ordinary workflow, as its docs write it, with only the base URL and credentials
changed: token (audience only), a rule in the vendor's shape, customers given by the client's own ids, the
rules a customer holds, a claim at the point of sale, and the seed's usages list. Every answer is checked
field by field against the vendor's shapes."""

import base64
import re
import uuid
from datetime import datetime

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.django_db

BASE = "/v1/accounts/T00000001"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

# The seed (../shared/seeds/002_43ed56f2eee412ba.txt): one discount ref in the usages list.
SEED_USAGE_KEYS = {"id", "ref_id", "discount_id", "customer_id", "create_at", "updated_at", "created_by", "usage_refs", "statistics"}  # fmt: skip
SEED_USAGE_REF_KEYS = {"ref", "ref_type", "usage", "stamp", "amount", "created_at", "created_by"}
SEED_STATISTICS_KEYS = {"stamp", "used", "usage", "amount", "debit_balance", "current_stamp"}
CLAIM_KEYS = {"purchase_at", "customer_id", "discounts", "id", "created_at", "created_by", "updated_at", "deleted_by", "deleted_at", "ref", "type"}  # fmt: skip


def is_time(value) -> bool:
    return isinstance(value, str) and bool(ISO.match(value)) and datetime.fromisoformat(value) is not None


def is_uuid(value) -> bool:
    return isinstance(value, str) and str(uuid.UUID(value)) == value


def test_a_dintero_client_workflow(account, make_client):
    client, secret = make_client(account, name="dintero-pos")
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()

    # 1. Get token, as the docs' example: only `audience`.
    token = Api(None).post(
        f"{BASE}/auth/token", {"audience": f"https://api.dintero.com{BASE}"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert token.status_code == 200, token.content
    assert set(token.json()) == {"access_token", "token_type", "expires_in"}
    assert token.json()["token_type"] == "Bearer" and token.json()["expires_in"] == 3600
    dintero = Api(token.json()["access_token"], form="bearer")

    # 2. Create a rule in the vendor's shape.
    rule_in = {
        "name": "Spar 100,-",
        "description": "Gjør et kupp!",
        "active": True,
        "private": True,
        "campaign_id": "summer",
        "receipt_text": "Sommer 100,-",
        "links": [{"href": "https://shop.example.com", "rel": "webshop"}],
        "reward": {"type": "discount_amount", "value": 10000},
        "requirement": {"purchase_from": "2026-01-01T00:00:00Z", "purchase_to": "2030-01-01T00:00:00Z"},
        "limitation": {"discount_repeat_usage": 2, "discount_reward_usage": -1},
        "metadata": {"external": "x1"},
    }
    created = dintero.post(f"{BASE}/discounts/rules", rule_in)
    assert created.status_code == 201, created.content
    rule = created.json()
    did = rule["id"]
    assert is_uuid(did)
    assert rule["name"] == "Spar 100,-"
    assert rule["description"] == "Gjør et kupp!"
    assert rule["active"] is True
    assert rule["private"] is True
    assert rule["type"] == "receipt"
    assert rule["campaign_id"] == "summer"
    assert rule["receipt_text"] == "Sommer 100,-"
    assert rule["links"] == [{"href": "https://shop.example.com", "rel": "webshop"}]
    assert rule["reward"] == {"type": "discount_amount", "value": 10000}
    assert rule["requirement"] == {
        "purchase_from": "2026-01-01T00:00:00Z",
        "purchase_to": "2030-01-01T00:00:00Z",
        "stamp": None,
        "gross_amount": None,
    }
    assert rule["limitation"] == {"discount_repeat_usage": 2, "discount_reward_usage": -1}
    assert rule["metadata"] == {"external": "x1"}
    assert is_time(rule["created_at"]) and is_time(rule["updated_at"])
    assert rule["created_by"] == rule["updated_by"] == "client:dintero-pos"
    assert rule["deleted_at"] is None and rule["deleted_by"] is None

    # 3. Give it to customers named by the client's own ids: the answer is the rule.
    given = dintero.post(f"{BASE}/discounts/rules/{did}/customers", {"customers": ["12397af6e5e", "C13db4f63"]})
    assert given.status_code == 200, given.content
    assert given.json() == rule

    # 4. The rule's customers.
    customers = dintero.get(f"{BASE}/discounts/rules/{did}/customers")
    assert customers.status_code == 200
    listed = customers.json()
    assert [c["customer_id"] for c in listed] == ["12397af6e5e", "C13db4f63"]
    for item in listed:
        assert set(item) == {"id", "customer_id", "created_at", "created_by", "updated_at", "deleted_at", "deleted_by"}
        assert is_uuid(item["id"]) and is_time(item["created_at"]) and is_time(item["updated_at"])
        assert item["created_by"] == "client:dintero-pos"
        assert item["deleted_at"] is None and item["deleted_by"] is None

    # 5. The rules a customer holds.
    held = dintero.get(f"{BASE}/discounts/customers/12397af6e5e/rules")
    assert held.status_code == 200 and held.json() == [rule]

    # 6. The point of sale claims the reward.
    claim_in = {
        "purchase_at": "2027-05-01T10:00:00Z",
        "customer_id": "12397af6e5e",
        "discounts": [
            {"id": did, "refs": [{"id": "fe35e8ed-3fd3-4b04-acdd-6f1d7d7ca7c9", "amount": 10000, "usage": 1}]}
        ],
        "ref": "transactionid1",
        "type": "pos",
    }
    claimed = dintero.post(f"{BASE}/discounts/available_for_receipt/claims", claim_in)
    assert claimed.status_code == 201, claimed.content
    claim = claimed.json()
    assert set(claim) == CLAIM_KEYS
    assert claim["purchase_at"] == "2027-05-01T10:00:00Z"
    assert claim["customer_id"] == "12397af6e5e"
    assert claim["discounts"] == claim_in["discounts"]
    assert is_uuid(claim["id"])
    assert is_time(claim["created_at"]) and claim["updated_at"] == claim["created_at"]
    assert claim["created_by"] == "client:dintero-pos"
    assert claim["deleted_at"] is None and claim["deleted_by"] is None
    assert claim["ref"] == "transactionid1" and claim["type"] == "pos"
    # A retry of the same claim is answered with the same claim.
    assert dintero.post(f"{BASE}/discounts/available_for_receipt/claims", claim_in).json() == claim
    assert dintero.get(f"{BASE}/discounts/available_for_receipt/claims").json() == [claim]

    # 7. The seed's usages list.
    usages = dintero.get(f"{BASE}/discounts/rules/{did}/usages", {"limit": 10})
    assert usages.status_code == 200 and "Link" not in usages
    body = usages.json()
    assert isinstance(body, list) and len(body) == 2  # both customers were given the rule
    by_customer = {u["customer_id"]: u for u in body}
    assert [u["customer_id"] for u in body] == ["12397af6e5e", "C13db4f63"]
    used = by_customer["12397af6e5e"]
    assert set(used) == SEED_USAGE_KEYS
    assert used["id"] == used["ref_id"] == listed[0]["id"]
    assert used["discount_id"] == did
    assert is_time(used["create_at"]) and is_time(used["updated_at"])
    assert used["created_by"] == "client:dintero-pos"
    [entry] = used["usage_refs"]
    assert set(entry) == SEED_USAGE_REF_KEYS
    assert entry["ref"] == "fe35e8ed-3fd3-4b04-acdd-6f1d7d7ca7c9"
    assert entry["ref_type"] == "receipt_add"
    assert (entry["usage"], entry["stamp"], entry["amount"]) == (1, 0, 10000)
    assert is_time(entry["created_at"]) and entry["created_by"] == "client:dintero-pos"
    assert set(used["statistics"]) == SEED_STATISTICS_KEYS
    assert used["statistics"] == {
        "stamp": 0,
        "used": 1,
        "usage": 1,
        "amount": 10000,
        "debit_balance": 0,
        "current_stamp": 0,
    }
    untouched = by_customer["C13db4f63"]
    assert set(untouched) == SEED_USAGE_KEYS and untouched["usage_refs"] == []
    assert untouched["statistics"] == dict.fromkeys(SEED_STATISTICS_KEYS, 0)
