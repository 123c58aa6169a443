"""A resource as read can be written back, on every update endpoint of every family: GET it, change one
writable field, send the whole object back. The read-only fields are taken when they hold what the server
answers (and ignored), refused in the family's dialect, naming the field, when they differ (an `id` that
is not the path's included); a field the resource does not have is still refused. A refused update writes
nothing. The OpenAPI document lists the read-only fields of each update body as `readOnly: true`.

UPDATES names every PUT and PATCH the URL resolver serves (checked), with where its resource is read and
the read-only fields it has: the contract, written out."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta, timezone

import pytest
from django.urls import resolve
from django.utils.dateparse import parse_datetime

from config.kernel.values import ascii_int, uuid_or_none
from tests import routes
from tests.fuzz.document import document as served_document
from tests.snapshots import snapshot
from tests.world import fill

pytestmark = pytest.mark.django_db

WRITE_STAMPS = {"updated_at", "updated_by"}  # what any accepted write changes
STAMPS = {"created_at", "updated_at"}
OSLO_WINTER = timezone(timedelta(hours=1))
DISCOUNT_STAMPS = {"created_at", "created_by", "updated_at", "updated_by", "deleted_at", "deleted_by"}


def _data(body: dict) -> dict:
    return body["data"]


def _same(body: dict) -> dict:
    return body


def _limits(body: dict) -> dict:
    # The billing details as read, with the ids of the account they belong to (the vendor's request names them).
    account = body["billing_account"]
    return {**body["billing_details"], "org_id": account["org_id"], "id": account["id"]}


@dataclass(frozen=True)
class Update:
    method: str
    path: str  # with the world's {placeholders}
    read: str  # where the resource is read (GET)
    resource: Callable[[dict], dict]  # the resource in the GET answer
    change: tuple[str, object]  # a writable field and a value it does not hold
    read_only: frozenset[str]
    wrap: str | None = None  # the request carries the resource under this key (Frontier's `{"body": ...}`)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


CUSTOMER = "/customers/customers/{customer}"
COUPON = "/customers/coupons/{coupon}"
CREDIT_RULE = "/customers/membership-credit-rules/{rule}"
DISCOUNT = "/v1/accounts/{aid}/discounts/rules/{discount}"
WALLET = "/v1beta1/organizations/{customer}/billing/{wallet}"
ADMIN_WALLET = "/v1beta1/admin/organizations/{customer}/billing/{wallet}"
LIMITS_READ_ONLY = frozenset({"due_in_days", "org_id", "id"})


def _webhook(body: dict) -> dict:
    # The world's Frontier-signed endpoint as listed; its secrets ([] once made) are not sent back.
    [webhook] = body["webhooks"]
    return {name: value for name, value in webhook.items() if name != "secrets"}


UPDATES = [
    Update("PATCH", CUSTOMER, CUSTOMER, _data, ("first_name", "Grace"), frozenset({"id", "number", *STAMPS})),
    Update("PATCH", COUPON, COUPON, _data, ("name", "90 min massage"), frozenset({"id", *STAMPS})),
    Update("PATCH", CREDIT_RULE, CREDIT_RULE, _data, ("quantity", 3), frozenset({"id", *STAMPS})),
    Update("PUT", DISCOUNT, DISCOUNT, _same, ("name", "Six off"), frozenset({"id", *DISCOUNT_STAMPS})),
    Update("PUT", WALLET + "/limits", WALLET, _limits, ("credit_min", "-50"), LIMITS_READ_ONLY),
    Update("PUT", ADMIN_WALLET + "/limits", WALLET, _limits, ("credit_min", "-50"), LIMITS_READ_ONLY),
    Update(
        "PUT",
        "/v1beta1/admin/webhooks/{webhook}",
        "/v1beta1/admin/webhooks",
        _webhook,
        ("description", "booking system"),
        frozenset({"id", *STAMPS}),
        wrap="body",
    ),
]


def _route(path: str, ids: dict) -> str:
    return resolve(fill(path, ids)).route


def test_the_table_names_every_update_endpoint_served(module_world):
    served = {(method, route) for _family, method, route in routes.served() if method in ("PUT", "PATCH")}
    listed = {(update.method, _route(update.path, module_world.ids)) for update in UPDATES}
    assert listed == served
    assert len(served) == 7


# --- helpers ---------------------------------------------------------------------------------------------


def _read(api, update: Update, ids: dict) -> dict:
    answer = api.get(fill(update.read, ids))
    assert answer.status_code == 200, answer.content
    return update.resource(answer.json())


def _send(api, update: Update, ids: dict, body: dict):
    return api.request(update.method, fill(update.path, ids), {update.wrap: body} if update.wrap else body)


def _refused(response, family: str) -> dict[str, list[str]]:
    """{field: [messages]} of a validation failure, read from the family's own error body."""
    body = response.json()
    if family == "credits":
        assert response.status_code == 422, response.content
        return body["errors"]
    assert response.status_code == 400, response.content
    if family == "discounts":
        assert body["error"]["code"] == "validation_error"
        pairs = [(e["field"], e["message"]) for e in body["error"]["errors"]]
    else:
        assert body["code"] == 3  # InvalidArgument
        pairs = [(v["field"], v["description"]) for d in body["details"] for v in d.get("field_violations", [])]
    fields: dict[str, list[str]] = {}
    for field, message in pairs:
        fields.setdefault(field, []).append(message)
    return fields


def _other(value):
    """A value of the same kind as `value` (as answered) that is not it."""
    if value is None:
        return "2027-01-01T00:00:00Z"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if uuid_or_none(value) is not None:
        return str(uuid.uuid4())
    if ascii_int(value) is not None:
        return str(ascii_int(value) + 1)
    instant = parse_datetime(value)
    if instant is not None:
        return (instant + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    return value + " (changed)"


# --- the round trip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("update", UPDATES, ids=str)
def test_the_resource_as_read_is_written_back_with_one_field_changed(module_world, update):
    api, ids = module_world.a.api(), module_world.ids
    before = _read(api, update, ids)
    field, value = update.change
    assert before[field] != value
    body = copy.deepcopy(before)
    body[field] = value

    response = _send(api, update, ids, body)

    assert response.status_code == 200, response.content
    after = _read(api, update, ids)
    assert after[field] == value
    unchanged = set(before) - {field} - WRITE_STAMPS
    assert {name: after[name] for name in unchanged} == {name: before[name] for name in unchanged}
    assert set(after) == set(before)


@pytest.mark.parametrize(
    ("update", "field"),
    [(update, field) for update in UPDATES for field in sorted(update.read_only)],
    ids=lambda value: value if isinstance(value, str) else str(value),
)
def test_a_changed_read_only_field_is_refused_by_name_and_nothing_is_written(module_world, update, field):
    api, ids = module_world.a.api(), module_world.ids
    body = _read(api, update, ids)
    assert field in body
    body[field] = _other(body[field])
    body[update.change[0]] = update.change[1]  # with a writable change beside it, which must not land either
    rows = snapshot()

    response = _send(api, update, ids, body)

    refused = _refused(response, routes.family_of(update.path))
    assert list(refused) == [field]
    assert refused[field][0].startswith("Read-only")
    assert snapshot() == rows


@pytest.mark.parametrize("update", UPDATES, ids=str)
def test_a_field_the_resource_does_not_have_is_still_refused(module_world, update):
    api, ids = module_world.a.api(), module_world.ids
    body = _read(api, update, ids)
    body[update.change[0]] = update.change[1]
    body["discount_code"] = "SPRING"
    rows = snapshot()

    response = _send(api, update, ids, body)

    refused = _refused(response, routes.family_of(update.path))
    assert list(refused) == ["discount_code"]
    assert not refused["discount_code"][0].startswith("Read-only")
    assert snapshot() == rows


def test_the_issue_round_trip_of_a_discount_rule(module_world):
    """Read a rule, rename it, extend requirement.purchase_to and its top-level alias, PUT it back."""
    api = module_world.a.api()
    created = api.post(
        "/v1/accounts/T00000001/discounts/rules",
        {
            "name": "Spring",
            "reward": {"type": "discount_percent", "value": 10.5},
            "requirement": {"purchase_from": "2027-03-01T00:00:00Z", "purchase_to": "2027-06-01T00:00:00Z"},
            "metadata": {"campaign": {"channel": "email"}},
        },
    )
    assert created.status_code == 201, created.content
    path = f"/v1/accounts/T00000001/discounts/rules/{created.json()['id']}"
    rule = api.get(path).json()
    rule["name"] = "Spring, extended"
    rule["requirement"]["purchase_to"] = rule["purchase_to"] = "2027-09-01T00:00:00Z"

    response = api.put(path, rule)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["name"], answer["purchase_to"]) == ("Spring, extended", "2027-09-01T00:00:00Z")
    assert answer["requirement"] == {**rule["requirement"], "purchase_to": "2027-09-01T00:00:00Z"}
    assert answer["reward"] == {"type": "discount_percent", "value": 10.5}
    assert api.get(path).json() == answer


@pytest.mark.parametrize(
    ("update", "field", "spell"),
    [
        (UPDATES[0], "id", str.upper),  # a uuid in upper case
        (UPDATES[0], "created_at", lambda text: parse_datetime(text).astimezone(OSLO_WINTER).isoformat()),  # another offset
        (UPDATES[0], "number", str),  # an int64 as a string
        (UPDATES[4], "due_in_days", int),  # an int64 answered as a string, sent as a number
    ],
    ids=["uuid-upper-case", "another-offset", "int-as-string", "string-as-int"],
)
def test_a_read_only_value_in_another_spelling_is_the_same_value(module_world, update, field, spell):
    api, ids = module_world.a.api(), module_world.ids
    body = _read(api, update, ids)
    body[field] = spell(body[field])
    body[update.change[0]] = update.change[1]

    response = _send(api, update, ids, body)

    assert response.status_code == 200, response.content
    assert _read(api, update, ids)[update.change[0]] == update.change[1]


def test_a_read_only_field_in_a_create_body_is_refused(module_world):
    api = module_world.a.api()
    rows = snapshot()
    response = api.post("/customers/coupons", {"name": "New", "kind": "offering", "offering": "Tea", "id": "x"})
    assert _refused(response, "credits") == {"id": ["This field is not supported."]}
    assert snapshot() == rows


# --- the OpenAPI document ------------------------------------------------------------------------------


def _resolve(document: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


@pytest.mark.parametrize("update", UPDATES, ids=str)
def test_the_served_document_marks_the_read_only_fields_of_each_update_body(module_world, update):
    api, ids = module_world.a.api(), module_world.ids
    document = served_document()
    template = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", _route(update.path, ids))
    operation = document["paths"][template][update.method.lower()]
    body = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    if update.wrap:
        body = _resolve(document, body["properties"][update.wrap])
    properties = body["properties"]
    resource = _read(api, update, ids)

    assert set(resource) <= set(properties)
    assert {name for name in resource if properties[name].get("readOnly")} == update.read_only
    assert not update.read_only & set(body.get("required", []))
