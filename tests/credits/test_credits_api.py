"""Every customer-credit endpoint of spec/credits.md, with each status code and error body it lists."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils import timezone

from credits.models import CreditEvent, CreditUse, CustomerCredit
from customers import services as customer_services
from tests.conftest import SYSTEM, credit_path, snapshot

pytestmark = pytest.mark.django_db

CREDIT_FIELDS = {
    "id",
    "customer_id",
    "coupon_id",
    "coupon",
    "membership_id",
    "source",
    "multi_use",
    "max_uses",
    "uses",
    "status",
    "expiry_date",
    "revenue",
    "redeemed_at",
    "revoked_at",
    "revoke_reason",
    "issued_by",
    "created_at",
    "updated_at",
}
# Beyond the spec (README, "Partial redeem of a monetary credit"): the money left on a monetary credit.
CREDIT_FIELDS_ADDED = {"remaining_value"}


def query(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def credits_url(customer) -> str:
    return f"/customers/customers/{customer.pk}/credits"


# --- list -----------------------------------------------------------------------------------------


def test_list_returns_the_envelope_newest_first(api, customer, coupon, make_credit):
    credits = [make_credit(customer, coupon) for _ in range(3)]
    response = api.get(credits_url(customer))
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["data"]] == [str(c.pk) for c in reversed(credits)]
    assert set(body["data"][0]) == CREDIT_FIELDS | CREDIT_FIELDS_ADDED
    assert body["data"][0]["coupon"] == {
        "id": str(coupon.pk),
        "name": "60 min massage",
        "benefit_key": "massage",
        "kind": "offering",
        "offering": "Massage 60 min",
        "value": None,
        "currency": None,
    }
    assert body["meta"] == {"current_page": 1, "from": 1, "to": 3, "total": 3, "per_page": 15, "last_page": 1}
    assert body["links"]["prev"] is None and body["links"]["next"] is None
    assert body["links"]["first"].endswith(credits_url(customer))


def test_list_pages_with_per_page_and_links(api, customer, coupon, make_credit):
    for _ in range(5):
        make_credit(customer, coupon)
    body = api.get(credits_url(customer), {"per_page": 2, "page": 2}).json()
    assert len(body["data"]) == 2
    assert body["meta"] == {"current_page": 2, "from": 3, "to": 4, "total": 5, "per_page": 2, "last_page": 3}
    assert query(body["links"]["next"]) == {"page": ["3"], "per_page": ["2"]}
    assert query(body["links"]["prev"]) == {"per_page": ["2"]}
    assert query(body["links"]["last"]) == {"page": ["3"], "per_page": ["2"]}
    all_ids = [
        c["id"]
        for page in (1, 2, 3)
        for c in api.get(credits_url(customer), {"per_page": 2, "page": page}).json()["data"]
    ]
    assert len(all_ids) == len(set(all_ids)) == 5


def test_list_page_past_the_last_is_empty(api, credit):
    body = api.get(credits_url(credit.customer), {"page": 999999}).json()
    assert body["data"] == []
    assert body["meta"]["from"] is None and body["meta"]["to"] is None
    assert body["meta"]["total"] == 1 and body["links"]["next"] is None


def test_list_caps_per_page_at_100(api, credit):
    assert api.get(credits_url(credit.customer), {"per_page": 5000}).json()["meta"]["per_page"] == 100


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": "abc"}, "page"),
        ({"page": 0}, "page"),
        ({"per_page": -1}, "per_page"),
        ({"page": 10**30}, "page"),
        ({"redeemed": "yes"}, "redeemed"),
        ({"multi_use": ""}, "multi_use"),
    ],
)
def test_list_rejects_bad_query_values_with_422(api, credit, params, field):
    response = api.get(credits_url(credit.customer), params)
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"message", "errors"} and field in body["errors"]


def _credit_in_each_status(customer, coupon, make_credit, make_coupon):
    active = make_credit(customer, coupon)
    redeemed = make_credit(customer, coupon)
    redeemed.uses, redeemed.redeemed_at = 1, timezone.now()
    redeemed.save()
    expired = make_credit(customer, coupon, expiry_date=timezone.now() + timedelta(seconds=1))
    CustomerCredit.objects.filter(pk=expired.pk).update(expiry_date=timezone.now() - timedelta(days=1))
    revoked = make_credit(customer, coupon)
    CustomerCredit.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    multi = make_credit(customer, make_coupon(customer.account, name="Sauna", multi_use=True, max_uses=3))
    return {"active": active, "redeemed": redeemed, "expired": expired, "revoked": revoked, "multi": multi}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, {"active", "multi"}),
        ({"redeemed": "true"}, {"active", "multi", "redeemed"}),
        ({"expired": "1"}, {"active", "multi", "expired"}),
        ({"revoked": "TRUE"}, {"active", "multi", "revoked"}),
        ({"redeemed": "false", "expired": "0", "revoked": "False"}, {"active", "multi"}),
        (
            {"redeemed": "true", "expired": "true", "revoked": "true"},
            {"active", "multi", "redeemed", "expired", "revoked"},
        ),
        ({"multi_use": "true", "redeemed": "true", "expired": "true", "revoked": "true"}, {"multi"}),
        ({"multi_use": "false"}, {"active"}),
    ],
)
def test_list_filters(api, customer, coupon, make_credit, make_coupon, params, expected):
    credits = _credit_in_each_status(customer, coupon, make_credit, make_coupon)
    body = api.get(credits_url(customer), params).json()
    names = {name for name, c in credits.items() if str(c.pk) in {d["id"] for d in body["data"]}}
    assert names == expected
    assert body["meta"]["total"] == len(expected)
    statuses = {d["id"]: d["status"] for d in body["data"]}
    for name in names:
        assert statuses[str(credits[name].pk)] == ("active" if name == "multi" else name)


def test_list_of_unknown_customer_is_404(api, account):
    response = api.get("/customers/customers/00000000-0000-0000-0000-000000000000/credits")
    assert response.status_code == 404
    assert response.json() == {"message": "Customer not found."}


def test_list_without_credentials_is_401(anonymous, credit):
    response = anonymous.get(credits_url(credit.customer))
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


# --- issue ----------------------------------------------------------------------------------------


def test_issue_creates_an_api_credit(api, customer, coupon):
    before = timezone.now()
    response = api.post(credits_url(customer), {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)})
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) == CREDIT_FIELDS | CREDIT_FIELDS_ADDED
    assert data["source"] == "api" and data["issued_by"] == "client:pos-frontdesk"
    assert data["status"] == "active" and data["uses"] == 0 and data["revenue"] == 4500
    assert data["expiry_date"] is None and data["multi_use"] is False and data["max_uses"] is None
    credit = CustomerCredit.objects.get(pk=data["id"])
    assert credit.issued_by_client == api.client and credit.created_at >= before
    event = CreditEvent.objects.get(credit=credit)
    assert (event.action, event.actor, event.api_client) == ("issued", "client:pos-frontdesk", api.client)


def test_issue_defaults_expiry_from_valid_for_and_copies_use_limits(api, customer, make_coupon, membership):
    coupon = make_coupon(customer.account, name="Sauna", multi_use=True, max_uses=3, valid_for="P30D")
    with time_machine.travel("2026-03-01T12:00:00Z", tick=False):
        response = api.post(
            credits_url(customer),
            {
                "coupon_id": str(coupon.pk),
                "customer_id": str(customer.pk),
                "membership_id": str(membership.pk),
                "revenue": 999,
            },
        )
    data = response.json()["data"]
    assert response.status_code == 201
    assert data["expiry_date"] == "2026-03-31T12:00:00Z"
    assert (data["multi_use"], data["max_uses"], data["revenue"]) == (True, 3, 999)
    assert data["membership_id"] == str(membership.pk)
    # Later coupon edits never change issued credits.
    api.patch(f"/customers/coupons/{coupon.pk}", {"max_uses": 10})
    assert api.get(credits_url(customer) + f"/{data['id']}").json()["data"]["max_uses"] == 3


def test_issue_accepts_any_rfc3339_offset(api, customer, coupon):
    response = api.post(
        credits_url(customer),
        {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "expiry_date": "2099-01-01T02:00:00+02:00"},
    )
    assert response.status_code == 201
    assert response.json()["data"]["expiry_date"] == "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"coupon_id": None}, "coupon_id"),
        ({"coupon_id": "not-a-uuid"}, "coupon_id"),
        ({"coupon_id": "00000000-0000-0000-0000-000000000000"}, "coupon_id"),
        ({"customer_id": None}, "customer_id"),
        ({"customer_id": "00000000-0000-0000-0000-000000000000"}, "customer_id"),
        ({"membership_id": "00000000-0000-0000-0000-000000000000"}, "membership_id"),
        ({"expiry_date": "2001-01-01T00:00:00Z"}, "expiry_date"),
        ({"expiry_date": "tomorrow"}, "expiry_date"),
        ({"revenue": -1}, "revenue"),
        ({"revenue": "lots"}, "revenue"),
        ({"revenue": 2**63}, "revenue"),
    ],
)
def test_issue_validation_is_422_and_writes_nothing(api, customer, coupon, change, field):
    body = {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), **change}
    body = {k: v for k, v in body.items() if v is not None}
    before = snapshot()
    response = api.post(credits_url(customer), body)
    assert response.status_code == 422
    assert field in response.json()["errors"] and response.json()["message"]
    assert snapshot() == before


def test_issue_refuses_inactive_coupon_and_other_accounts_coupon(api, customer, make_coupon, other_account):
    inactive = make_coupon(customer.account, name="Old", active=False)
    foreign = make_coupon(other_account, name="Foreign")
    for coupon in (inactive, foreign):
        response = api.post(credits_url(customer), {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk)})
        assert response.status_code == 422
        assert response.json()["errors"] == {"coupon_id": ["Must be an active coupon of this account."]}
    assert not CustomerCredit.objects.exists()


def test_issue_refuses_another_customers_membership(api, customer, make_customer, membership_type, coupon):
    other = make_customer(customer.account, email="bob@example.com")
    foreign = customer_services.membership_create(customer=other, membership_type_id=membership_type.pk, actor=SYSTEM)
    before = snapshot()
    response = api.post(
        credits_url(customer),
        {"coupon_id": str(coupon.pk), "customer_id": str(customer.pk), "membership_id": str(foreign.pk)},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"membership_id": ["Must be a membership of this customer."]}
    assert snapshot() == before


def test_issue_with_malformed_json_is_422(api, customer):
    response = api.post(credits_url(customer), raw="{not json")
    assert response.status_code == 422
    assert set(response.json()) == {"message", "errors"}
    assert not CustomerCredit.objects.exists()


# --- get ------------------------------------------------------------------------------------------


def test_get_one_credit(api, credit):
    response = api.get(credit_path(credit))
    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(credit.pk)


def test_get_unknown_credit_is_404(api, customer):
    response = api.get(credits_url(customer) + "/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"message": "Credit not found."}


def test_get_credit_under_another_customer_is_404(api, credit, make_customer):
    other = make_customer(credit.account, email="eve@example.com")
    assert api.get(f"/customers/customers/{other.pk}/credits/{credit.pk}").status_code == 404


# --- revoke ---------------------------------------------------------------------------------------


def test_revoke_with_reason_in_query(api, credit):
    response = api.delete(credit_path(credit) + "?reason=goodwill%20reversed")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "revoked" and data["revoke_reason"] == "goodwill reversed" and data["revoked_at"]
    event = CreditEvent.objects.get(credit=credit, action="revoked")
    assert event.actor == "client:pos-frontdesk" and event.reason == "goodwill reversed"


def test_revoke_with_reason_in_body(api, credit):
    response = api.delete(credit_path(credit), {"reason": "customer left"})
    assert response.status_code == 200 and response.json()["data"]["revoke_reason"] == "customer left"


def test_revoke_redeemed_credit_is_400_and_changes_nothing(api, credit):
    api.post(credit_path(credit, "/redeem"))
    before = snapshot()
    response = api.delete(credit_path(credit))
    assert response.status_code == 400
    assert response.json() == {"message": "A redeemed credit cannot be revoked."}
    assert snapshot() == before


def test_revoke_twice_is_400(api, credit):
    api.delete(credit_path(credit))
    before = snapshot()
    response = api.delete(credit_path(credit))
    assert response.status_code == 400 and response.json() == {"message": "The credit is already revoked."}
    assert snapshot() == before


def test_revoke_partly_used_multi_use_credit(api, customer, make_coupon, make_credit):
    credit = make_credit(customer, make_coupon(customer.account, name="Sauna", multi_use=True, max_uses=3))
    api.post(credit_path(credit, "/redeem"))
    response = api.delete(credit_path(credit))
    assert response.status_code == 200 and response.json()["data"]["status"] == "revoked"
    assert response.json()["data"]["uses"] == 1


def test_revoke_unknown_credit_is_404(api, customer):
    assert api.delete(credits_url(customer) + "/00000000-0000-0000-0000-000000000000").status_code == 404


# --- redeem ---------------------------------------------------------------------------------------


def test_redeem_single_use_credit(api, credit):
    response = api.post(credit_path(credit, "/redeem"), {"reference": "pos-1", "note": "front desk"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "redeemed" and data["uses"] == 1 and data["redeemed_at"]
    use = CreditUse.objects.get(credit=credit)
    assert (use.reference, use.note, use.revenue, use.used_by) == ("pos-1", "front desk", 4500, "client:pos-frontdesk")


def test_redeem_without_body(api, credit):
    assert api.post(credit_path(credit, "/redeem")).status_code == 200


def test_redeem_retry_with_same_reference_does_not_use_twice(api, customer, make_coupon, make_credit):
    credit = make_credit(customer, make_coupon(customer.account, name="Sauna", multi_use=True, max_uses=3))
    first = api.post(credit_path(credit, "/redeem"), {"reference": "r-1"})
    retry = api.post(credit_path(credit, "/redeem"), {"reference": "r-1"})
    assert first.status_code == retry.status_code == 200
    assert retry.json()["data"]["uses"] == 1
    assert CreditUse.objects.filter(credit=credit).count() == 1


def test_redeem_retry_of_a_single_use_credit_answers_200(api, credit):
    api.post(credit_path(credit, "/redeem"), {"reference": "r-1"})
    retry = api.post(credit_path(credit, "/redeem"), {"reference": "r-1"})
    assert retry.status_code == 200 and retry.json()["data"]["status"] == "redeemed"
    assert CreditUse.objects.filter(credit=credit).count() == 1


@pytest.mark.parametrize("state", ["redeemed", "revoked", "expired"])
def test_redeem_inactive_credit_is_409_and_changes_nothing(api, credit, state):
    if state == "redeemed":
        api.post(credit_path(credit, "/redeem"))
    elif state == "revoked":
        api.delete(credit_path(credit))
    else:
        CustomerCredit.objects.filter(pk=credit.pk).update(expiry_date=timezone.now() - timedelta(minutes=1))
    before = snapshot()
    response = api.post(credit_path(credit, "/redeem"), {"reference": "new"})
    assert response.status_code == 409
    assert response.json() == {"message": f"The credit is {state}; only an active credit can be used."}
    assert snapshot() == before


def test_credit_expires_at_its_expiry_date_without_any_job(api, customer, coupon, make_credit):
    with time_machine.travel("2026-05-01T00:00:00Z", tick=False):
        credit = make_credit(customer, coupon, expiry_date=timezone.now() + timedelta(days=1))
    with time_machine.travel("2026-05-01T23:59:59Z", tick=False):
        assert api.get(credit_path(credit)).json()["data"]["status"] == "active"
    with time_machine.travel("2026-05-02T00:00:00Z", tick=False):
        assert api.get(credit_path(credit)).json()["data"]["status"] == "expired"
        assert api.post(credit_path(credit, "/redeem")).status_code == 409


def test_redeem_reference_longer_than_255_is_422(api, credit):
    response = api.post(credit_path(credit, "/redeem"), {"reference": "x" * 256})
    assert response.status_code == 422 and "reference" in response.json()["errors"]
    assert credit.use_records.count() == 0


def test_redeem_unknown_credit_is_404(api, customer):
    assert api.post(credits_url(customer) + "/00000000-0000-0000-0000-000000000000/redeem").status_code == 404


# --- uses and reverse -----------------------------------------------------------------------------


def test_uses_lists_each_use(api, credit):
    api.post(credit_path(credit, "/redeem"), {"reference": "pos-9", "note": "n"})
    response = api.get(credit_path(credit, "/uses"))
    assert response.status_code == 200
    (use,) = response.json()["data"]
    spec = {"id", "used_at", "reference", "note", "revenue", "used_by", "reversed_at", "reversed_by"}
    assert set(use) == spec | {"amount"} and use["amount"] is None  # amount: monetary credits only
    assert (use["reference"], use["note"], use["revenue"], use["used_by"]) == (
        "pos-9",
        "n",
        4500,
        "client:pos-frontdesk",
    )
    assert use["reversed_at"] is None


def test_uses_of_unknown_credit_is_404(api, customer):
    assert api.get(credits_url(customer) + "/00000000-0000-0000-0000-000000000000/uses").status_code == 404


def test_reverse_makes_a_redeemed_credit_active_again(api, credit):
    api.post(credit_path(credit, "/redeem"))
    use = credit.use_records.get()
    response = api.post(credit_path(credit, f"/uses/{use.pk}/reverse"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "active" and data["uses"] == 0 and data["redeemed_at"] is None
    use.refresh_from_db()
    assert use.reversed_at is not None and use.reversed_by == "client:pos-frontdesk"
    assert CreditUse.objects.filter(pk=use.pk).exists()  # kept, never deleted
    uses = api.get(credit_path(credit, "/uses")).json()["data"]
    assert uses[0]["reversed_by"] == "client:pos-frontdesk"


def test_reverse_of_an_expired_credit_leaves_it_expired(api, credit):
    api.post(credit_path(credit, "/redeem"))
    CustomerCredit.objects.filter(pk=credit.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    use = credit.use_records.get()
    assert api.post(credit_path(credit, f"/uses/{use.pk}/reverse")).json()["data"]["status"] == "expired"


def test_reverse_twice_is_409(api, credit):
    api.post(credit_path(credit, "/redeem"))
    use = credit.use_records.get()
    api.post(credit_path(credit, f"/uses/{use.pk}/reverse"))
    before = snapshot()
    response = api.post(credit_path(credit, f"/uses/{use.pk}/reverse"))
    assert response.status_code == 409 and response.json() == {"message": "The use is already reversed."}
    assert snapshot() == before


def test_reverse_a_use_of_a_revoked_credit_is_409(api, customer, make_coupon, make_credit):
    credit = make_credit(customer, make_coupon(customer.account, name="Sauna", multi_use=True, max_uses=3))
    api.post(credit_path(credit, "/redeem"))
    api.delete(credit_path(credit))
    use = credit.use_records.get()
    before = snapshot()
    response = api.post(credit_path(credit, f"/uses/{use.pk}/reverse"))
    assert response.status_code == 409
    assert snapshot() == before


def test_reverse_unknown_use_is_404(api, credit):
    response = api.post(credit_path(credit, "/uses/00000000-0000-0000-0000-000000000000/reverse"))
    assert response.status_code == 404 and response.json() == {"message": "Use not found."}


def test_redeem_with_a_reference_again_after_its_use_was_reversed(api, customer, make_coupon, make_credit):
    credit = make_credit(customer, make_coupon(customer.account, name="Sauna", multi_use=True))
    api.post(credit_path(credit, "/redeem"), {"reference": "r"})
    api.post(credit_path(credit, f"/uses/{credit.use_records.get().pk}/reverse"))
    response = api.post(credit_path(credit, "/redeem"), {"reference": "r"})
    assert response.status_code == 200 and response.json()["data"]["uses"] == 1
    assert credit.use_records.count() == 2


# --- revenue --------------------------------------------------------------------------------------


def _recognised(credit) -> int:
    return sum(u.revenue for u in CreditUse.objects.filter(credit=credit, reversed_at__isnull=True))


def test_revenue_of_a_limited_multi_use_credit_sums_exactly_with_reversals(api, customer, make_coupon, make_credit):
    credit = make_credit(
        customer, make_coupon(customer.account, name="3-pack", multi_use=True, max_uses=3), revenue=100
    )
    for _ in range(2):
        api.post(credit_path(credit, "/redeem"))
    assert [u.revenue for u in credit.use_records.order_by("used_at")] == [33, 33]
    first = credit.use_records.order_by("used_at").first()
    api.post(credit_path(credit, f"/uses/{first.pk}/reverse"))
    assert _recognised(credit) == 33
    api.post(credit_path(credit, "/redeem"))
    last = api.post(credit_path(credit, "/redeem")).json()["data"]
    assert last["status"] == "redeemed"
    assert _recognised(credit) == 100
    # Reverse the use that took the remainder and use again: still exactly 100.
    remainder_use = credit.use_records.filter(reversed_at__isnull=True).order_by("-used_at").first()
    api.post(credit_path(credit, f"/uses/{remainder_use.pk}/reverse"))
    api.post(credit_path(credit, "/redeem"))
    assert _recognised(credit) == 100
    credit.refresh_from_db()
    assert credit.revenue_recognised == 100 and credit.uses == 3


def test_revenue_of_single_and_unlimited_credits(api, customer, coupon, make_coupon, make_credit):
    single = make_credit(customer, coupon, revenue=4500)
    api.post(credit_path(single, "/redeem"))
    assert _recognised(single) == 4500
    unlimited = make_credit(customer, make_coupon(customer.account, name="Gym", multi_use=True), revenue=700)
    for _ in range(3):
        api.post(credit_path(unlimited, "/redeem"))
    assert [u.revenue for u in unlimited.use_records.order_by("used_at")] == [700, 0, 0]
    api.post(credit_path(unlimited, f"/uses/{unlimited.use_records.order_by('used_at').first().pk}/reverse"))
    api.post(credit_path(unlimited, "/redeem"))
    assert _recognised(unlimited) == 700
    assert api.get(credit_path(unlimited)).json()["data"]["status"] == "active"  # unlimited is never redeemed
