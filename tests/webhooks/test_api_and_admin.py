"""The events list (a client that was down catches up by sequence number, its account's events only) and
the staff pages: an endpoint made in the admin shows its secret once, rotation shows the new one once,
a range is resent, a private target is refused with nothing saved."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from config.models import IdempotencyRecord
from events.models import Event
from webhooks import secrets, services, worker
from webhooks.models import Delivery, Endpoint

from .receiver import Receiver

pytestmark = pytest.mark.django_db


def test_a_client_catches_up_from_a_sequence_number(world):
    api = world.a.api(["billing:read"])
    answer = api.get("/v1beta1/events?since=0")
    assert answer.status_code == 200, answer.content
    events = answer.json()["events"]
    mine = list(Event.objects.filter(account=world.a.account).order_by("sequence").values_list("id", flat=True))
    assert [e["id"] for e in events] == [str(i) for i in mine]
    assert [e["sequence"] for e in events] == list(range(1, len(mine) + 1))
    middle = events[len(events) // 2]["sequence"]
    later = api.get(f"/v1beta1/events?since={middle}&limit=2").json()
    assert [e["sequence"] for e in later["events"]] == [middle + 1, middle + 2]
    assert later["next_since"] == middle + 2
    redeemed = next(e for e in events if e["type"] == "credit.redeemed")
    assert redeemed["data"]["credit"]["id"] == str(world.a.used_credit.pk)
    # The other account's client sees only its own events.
    theirs = world.b.api(["credits:read"]).get("/v1beta1/events").json()["events"]
    assert theirs and {e["account_id"] for e in theirs} == {world.b.account.pk}
    assert api.get("/v1beta1/events?since=-1").status_code == 400


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_make_rotate_and_resend_in_the_admin(world, root, settings):
    add = reverse("admin:webhooks_endpoint_add")
    form = {
        "account": world.a.account.pk,
        "kind": "standard",
        "url": "http://127.0.0.1:9/refused",
        "description": "crm",
        "subscribed_events": "[]",
        "headers": "{}",
        "metadata": "{}",
        "state": "enabled",
    }
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    refused = root.post(add, form)
    assert refused.status_code == 200 and "non-public" in refused.content.decode()
    assert not Endpoint.objects.filter(description="crm").exists()
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver() as receiver:
        form["url"] = receiver.url
        made = root.post(add, form, follow=True)
        endpoint = Endpoint.objects.get(description="crm")
        [shown] = [m for m in messages_of(made) if "shown this once" in m]
        secret = shown.rsplit(" ", 1)[1]
        assert services.live_secrets(endpoint) == [("1", secret)] and secret not in endpoint.secrets.get().sealed
        change = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
        root.get(change)  # where the message with the secret may be shown, once
        page = root.get(change).content.decode()
        assert secret not in page and "Rotate secret" in page and "Resend" in page
        rotated = root.post(reverse("admin:webhooks_endpoint_rotate", args=[endpoint.pk]), follow=True)
        new = next(m for m in messages_of(rotated) if "shown this once" in m).split(": ", 1)[1]
        assert {s for _, s in services.live_secrets(endpoint)} == {secret, new}
        for amount in (1, 2):
            world.a.top_up(amount)
        worker.run(once=True)
        first = Delivery.objects.filter(endpoint=endpoint).order_by("sequence").first().sequence
        resent = root.post(
            reverse("admin:webhooks_endpoint_resend", args=[endpoint.pk]), {"first": first, "last": first + 1}
        )
        assert resent.status_code == 302
        worker.run(once=True)
    assert len(receiver.requests) == 4
    deliveries = root.get(reverse("admin:webhooks_delivery_changelist")).content.decode()
    assert "delivered" in deliveries
    for name in ("webhooks_endpoint_changelist", "events_event_changelist", "events_eventsettings_changelist"):
        assert root.get(reverse(f"admin:{name}")).status_code == 200
    assert secrets.unseal(endpoint.secrets.last().sealed).startswith("whsec_")


def test_a_created_webhook_s_secret_is_never_stored_with_its_idempotency_key(world, settings):
    """The create answer holds the signing secret; a database dump alone must not be able to sign, so
    the answer is not kept for replay (the key is ignored there, as for access tokens)."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    api = world.a.api(["billing:admin"])
    body = {"body": {"url": "http://127.0.0.1:9/hook", "description": "crm", "subscribed_events": []}}
    answer = api.post("/v1beta1/admin/webhooks", body, HTTP_IDEMPOTENCY_KEY="create-once")
    assert answer.status_code == 200, answer.content
    secret = answer.json()["webhook"]["secrets"][0]["value"]
    assert secret
    assert not any(secret in str(record.body) for record in IdempotencyRecord.objects.all())


def test_discount_events_carry_the_ref_as_the_discounts_family_answers_it(api):
    """Each discount event's data is the discounts family's own answer for the ref at that moment: the
    usages list's entry (with the receipt entry the change wrote), or for a given rule the rule's
    customers list entry too; later changes do not change an earlier event's data."""
    rules = "/v1/accounts/T00000001/discounts/rules"
    body = {"name": "Card", "reward": {"type": "discount_item_quantity", "value": 1}, "requirement": {"stamp": 2}}
    rule = api.post(rules, {**body, "private": True}).json()
    since = api.get("/v1beta1/events").json()["next_since"]

    def changed(response) -> dict:
        assert response.status_code in (200, 201), response.content
        nonlocal since
        answer = api.get(f"/v1beta1/events?since={since}").json()
        [event] = answer["events"]
        since = answer["next_since"]
        [ref] = api.get(f"{rules}/{rule['id']}/usages").json()
        assert event["data"]["discount_ref"] == ref
        return event

    given = changed(api.post(f"{rules}/{rule['id']}/customers", {"customers": ["c-1"]}))
    assert given["type"] == "discount.rule_given"
    [customer] = api.get(f"{rules}/{rule['id']}/customers").json()
    assert given["data"]["customer"] == customer and customer["customer_id"] == "c-1"
    receipt = {"customer_id": "c-1", "ref": "R-1", "ref_type": "receipt_add", "stamp": 3}
    recorded = changed(api.post(f"{rules}/{rule['id']}/usages", receipt))
    assert recorded["type"] == "discount.usage_recorded"
    assert recorded["data"]["usage"] == recorded["data"]["discount_ref"]["usage_refs"][-1]
    assert recorded["data"]["discount_ref"]["statistics"]["stamp"] == 3
    reverted = changed(api.post(f"{rules}/{rule['id']}/usages", {**receipt, "ref_type": "receipt_remove"}))
    assert reverted["type"] == "discount.usage_reverted"
    assert reverted["data"]["usage"]["stamp"] == -3
    assert [u["ref_type"] for u in reverted["data"]["discount_ref"]["usage_refs"]] == ["receipt_add", "receipt_remove"]
    # The earlier event still answers the ref as it was then.
    first = api.get("/v1beta1/events?since=0").json()["events"]
    [then] = [e for e in first if e["id"] == recorded["id"]]
    assert then["data"] == recorded["data"] and len(then["data"]["discount_ref"]["usage_refs"]) == 1
