"""Webhook deliveries to a real HTTP server on loopback: every catalogue event arrives, signed so that
Standard Webhooks' own library and Frontier's algorithm (pkg/crypt, ParseAndValidateEvent) verify it;
each account's endpoints get only its events; a receiver that was down gets everything, in order, once it
is back; 410 disables the endpoint; redirects are not followed; private targets are refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks
from cryptography.fernet import InvalidToken
from django.urls import reverse
from django.utils import timezone

from billing import services as billing_services
from config.kernel.exceptions import InvalidInput
from credits import services as credit_services
from credits.models import CustomerCredit
from discounts import services as discount_services
from events import catalogue
from events import services as event_services
from events.models import Event
from events.services import events_sequence
from tests.world import SYSTEM
from webhooks import services, targets, worker
from webhooks.models import Delivery, Endpoint

from .receiver import Receiver

pytestmark = pytest.mark.django_db


def frontier_verify(body: bytes, header: str, secret_hex: str, key_id: str = "1") -> dict:
    """What a Frontier receiver does with an `X-Signature` value (Frontier's own e2e test: split at `=`,
    the MAC is part 1) and what webhook.ParseAndValidateEvent then checks: the HMAC-SHA-512/256 of the body
    under the hex-decoded key (pkg/crypt.VerifyHMACFromHex), the WebhookEvent message's fields only, and
    created_at within 10 minutes."""
    parts = header.split("=")
    mac = bytes.fromhex(parts[1])  # hex.DecodeString: a value that is not one hex MAC fails here
    expected = hmac.new(bytes.fromhex(secret_hex), body, lambda: hashlib.new("sha512_256")).digest()
    assert parts[0] == key_id and hmac.compare_digest(mac, expected)
    event = json.loads(body)
    assert set(event) == {"id", "action", "data", "created_at"}
    created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00"))
    assert created > datetime.now(UTC) - timedelta(minutes=10)
    return event


def deliver() -> None:
    worker.run(once=True)


def every_change(tenant) -> None:
    """One change of each kind in the catalogue, in `tenant`'s account."""
    a = tenant
    customer = a.customer
    event_services.event_settings_update(account_id=a.account.pk, expiring_soon_days=[7])
    soon = credit_services.credit_issue(
        customer=customer,
        coupon=a.coupon,
        actor=SYSTEM,
        source="manual",
        expiry_date=timezone.now() + timedelta(days=2),
    )
    credit_services.credit_redeem(account=a.account, customer_id=customer.pk, credit_id=soon.pk, actor=SYSTEM)
    credit_services.benefit_use(
        account=a.account, customer_lookup={"number": customer.number}, benefit_key="massage", actor=SYSTEM
    )
    credit_services.credit_use_reverse(
        account=a.account, customer_id=customer.pk, credit_id=a.used_credit.pk, use_id=a.use.pk, actor=SYSTEM
    )
    unused = CustomerCredit.objects.filter(customer=customer, uses=0, revoked_at=None).first()
    credit_services.credit_revoke(account=a.account, customer_id=customer.pk, credit_id=unused.pk, actor=SYSTEM)
    credit_services.credit_issue(
        customer=customer,
        coupon=a.coupon,
        actor=SYSTEM,
        source="manual",
        expiry_date=timezone.now() + timedelta(days=1),
    )
    for _ in range(2):  # nothing twice
        worker.run_scans(now=timezone.now())  # the 1-day credit expires soon
        worker.run_scans(now=timezone.now() + timedelta(days=3))  # ... and then has expired
    discount_services.discount_usage_record(
        rule=a.discount,
        receipt=discount_services.Receipt(customer_id=customer.pk, ref="R-2", ref_type="receipt_add"),
        actor=SYSTEM,
    )
    discount_services.discount_usage_record(
        rule=a.discount,
        receipt=discount_services.Receipt(customer_id=customer.pk, ref="R-2", ref_type="receipt_remove"),
        actor=SYSTEM,
    )
    other = discount_services.discount_rule_create(
        account=a.account, actor=SYSTEM, name="VIP", reward_type="discount_amount", reward_value=9, private=True
    )
    discount_services.discount_rule_give(rule=other, customer_ids=[customer.pk], actor=SYSTEM)
    wallet = a.wallet
    wallet.balance_low_threshold = 100
    wallet.save(update_fields=["balance_low_threshold"])
    billing_services.billing_usage_report(
        account=a.account,
        billing_account_id=wallet.pk,
        actor=SYSTEM,
        usages=[billing_services.Usage(id=uuid.uuid4(), type="credit", amount=495)],
    )
    billing_services.billing_usage_revert(
        account=a.account, org_id=customer.pk, usage_id=a.debit, amount=5, actor=SYSTEM
    )


def test_every_catalogue_event_arrives_signed_in_both_schemes_and_only_to_its_account(world):
    with Receiver() as standard, Receiver() as frontier, Receiver() as other:
        s_endpoint, s_secret = services.endpoint_create(account=world.a.account, url=standard.url, actor=SYSTEM)
        f_endpoint, f_secret = services.endpoint_create(
            account=world.a.account, url=frontier.url, actor=SYSTEM, kind=Endpoint.Kind.FRONTIER
        )
        services.endpoint_create(account=world.b.account, url=other.url, actor=SYSTEM)
        every_change(world.a)
        events_sequence()
        expected = list(
            Event.objects.filter(account=world.a.account, sequence__gt=s_endpoint.cursor)
            .order_by("sequence")
            .values_list("type", flat=True)
        )
        deliver()

    assert set(expected) == set(catalogue.CATALOGUE)
    assert expected.count(catalogue.CREDIT_EXPIRING_SOON) == expected.count(catalogue.CREDIT_EXPIRED) == 1
    verifier = standardwebhooks.Webhook(s_secret)
    received = [verifier.verify(r["body"], r["headers"]) for r in standard.requests]
    assert [r["type"] for r in received] == expected  # in order, each once
    assert [r["sequence"] for r in received] == sorted(r["sequence"] for r in received)
    assert {r["headers"]["webhook-id"] for r in standard.requests} == {r["id"] for r in received}
    redeemed = next(r for r in received if r["type"] == catalogue.CREDIT_REDEEMED)
    assert redeemed["data"]["credit"]["uses"] == 1 and redeemed["data"]["use"]["revenue"] == 4500
    frontier_events = [frontier_verify(r["body"], r["headers"]["X-Signature"], f_secret) for r in frontier.requests]
    assert [e["action"] for e in frontier_events] == expected
    assert other.requests == []  # account b changed nothing: its endpoint got nothing of a's
    assert set(Delivery.objects.filter(endpoint__in=[s_endpoint, f_endpoint]).values_list("status", flat=True)) == {
        "delivered"
    }


def _credit_expiring_in(tenant, days: int) -> CustomerCredit:
    return credit_services.credit_issue(
        customer=tenant.customer,
        coupon=tenant.coupon,
        actor=SYSTEM,
        source="manual",
        expiry_date=timezone.now() + timedelta(days=days),
    )


def test_expired_credits_are_announced_once(world):
    a = world.a
    credit = _credit_expiring_in(a, 1)
    event_services.event_settings_update(account_id=a.account.pk, expiring_soon_days=[7, 30])
    later = timezone.now() + timedelta(days=2)
    for _ in range(2):
        worker.run_scans(now=timezone.now())
        worker.run_scans(now=later)
    kinds = list(Event.objects.filter(resource_id=str(credit.pk)).values_list("type", flat=True))
    # expiring soon once per threshold (7 and 30 days), expired once
    assert sorted(kinds) == sorted(
        [
            catalogue.CREDIT_ISSUED,
            catalogue.CREDIT_EXPIRING_SOON,
            catalogue.CREDIT_EXPIRING_SOON,
            catalogue.CREDIT_EXPIRED,
        ]
    )


def test_expiring_soon_thresholds_per_endpoint_each_credit_once_per_threshold_per_endpoint(world, root):
    """The account asks for 30 days; one endpoint (admin) for 7 and 1, another (Frontier admin API,
    `metadata.expiring_soon_days`) for 3 and 7, a third has none of its own (the account's). Scans before
    and after each threshold, each twice: one event per threshold, and each endpoint gets exactly its
    thresholds, once each."""
    a = world.a
    admin_api = a.api(["billing:admin"])
    event_services.event_settings_update(account_id=a.account.pk, expiring_soon_days=[30])
    credit = _credit_expiring_in(a, 10)
    with Receiver() as receiver:
        form = {
            "account": a.account.pk,
            "kind": "standard",
            "url": receiver.url + "?own",
            "description": "own",
            "subscribed_events": '["credit.expiring_soon"]',
            "expiring_soon_days": "[7, 1]",
            "headers": "{}",
            "metadata": "{}",
            "state": "enabled",
        }
        root.post(reverse("admin:webhooks_endpoint_add"), form)
        assert Endpoint.objects.get(description="own").expiring_soon_days == [1, 7]
        body = {"url": receiver.url + "?frontier", "subscribed_events": ["credit.expiring_soon"]}
        refused = admin_api.post("/v1beta1/admin/webhooks", {"body": {**body, "metadata": {"expiring_soon_days": [0]}}})
        assert refused.status_code == 400 and not Endpoint.objects.filter(url=body["url"]).exists()
        made = admin_api.post("/v1beta1/admin/webhooks", {"body": {**body, "metadata": {"expiring_soon_days": [7, 3]}}})
        assert made.status_code == 200, made.content
        assert made.json()["webhook"]["metadata"] == {"expiring_soon_days": [7, 3]}
        services.endpoint_create(
            account=a.account, url=receiver.url + "?account", actor=SYSTEM, subscribed_events=["credit.expiring_soon"]
        )
        for days_left in (11, 9.5, 6, 2.5, 0.5):
            for _ in range(2):
                worker.run_scans(now=credit.expiry_date - timedelta(days=days_left))
        deliver()
    fired = Event.objects.filter(type=catalogue.CREDIT_EXPIRING_SOON, resource_id=str(credit.pk))
    assert sorted(e.data["days_before"] for e in fired) == [1, 3, 7, 30]
    got: dict[str, list[int]] = {}
    for request in receiver.requests:
        event = json.loads(request["body"])
        data = event["data"]
        assert data["credit"]["id"] == str(credit.pk)
        got.setdefault(request["path"].split("?")[1], []).append(data["days_before"])
    assert got == {"own": [7, 1], "frontier": [7, 3], "account": [30]}


def test_a_receiver_down_for_a_while_gets_everything_in_order_when_it_is_back(world):
    a = world.a
    with Receiver(status=503) as receiver:
        endpoint, secret = services.endpoint_create(account=a.account, url=receiver.url, actor=SYSTEM)
        for amount in (1, 2, 3):
            a.top_up(amount)
        deliver()
        # Only the first was tried (in order: the later ones wait behind it), and it waits its backoff.
        assert len(receiver.requests) == 1
        head = Delivery.objects.get(endpoint=endpoint, attempts=1)
        assert head.status == "pending" and head.response_status == 503 and head.response_excerpt == "ok"
        assert timedelta(seconds=4) < head.next_attempt_at - head.last_attempt_at < timedelta(seconds=6)
        Endpoint.objects.filter(pk=endpoint.pk).update()  # nothing else changed
        assert Endpoint.objects.get(pk=endpoint.pk).failing_since is not None
        receiver.status = 200
        Delivery.objects.filter(endpoint=endpoint).update(next_attempt_at=timezone.now())  # the backoff passes
        deliver()
    verifier = standardwebhooks.Webhook(secret)
    amounts = [verifier.verify(r["body"], r["headers"])["data"]["transaction"]["amount"] for r in receiver.requests]
    assert amounts == ["1", "1", "2", "3"]  # the first twice (at least once), then the rest in order
    assert Endpoint.objects.get(pk=endpoint.pk).failing_since is None
    assert list(Delivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == ["delivered"] * 3


def test_410_disables_the_endpoint_and_three_days_of_failure_too(world, settings):
    a = world.a
    with Receiver(status=410) as gone, Receiver(status=500) as failing:
        gone_endpoint, _ = services.endpoint_create(account=a.account, url=gone.url, actor=SYSTEM)
        failing_endpoint, _ = services.endpoint_create(account=a.account, url=failing.url, actor=SYSTEM)
        a.top_up(1)
        deliver()
        Endpoint.objects.filter(pk=failing_endpoint.pk).update(failing_since=timezone.now() - timedelta(days=3))
        Delivery.objects.filter(endpoint=failing_endpoint).update(next_attempt_at=timezone.now())
        deliver()
        deliver()
    gone_endpoint.refresh_from_db()
    failing_endpoint.refresh_from_db()
    assert gone_endpoint.state == "disabled" and gone_endpoint.disabled_reason.startswith("410")
    assert len(gone.requests) == 1
    assert failing_endpoint.state == "disabled" and failing_endpoint.disabled_reason.startswith("failing since")
    assert len(failing.requests) == 2
    # Nothing was marked delivered, and re-enabling resumes it.
    assert not Delivery.objects.filter(status="delivered").exists()


def test_redirects_are_not_followed(world):
    with Receiver(status=302) as receiver:
        endpoint, _ = services.endpoint_create(account=world.a.account, url=receiver.url, actor=SYSTEM)
        world.a.top_up(1)
        deliver()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == "pending" and delivery.response_status == 302 and len(receiver.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
        "ftp://example.com/hook",
        "http://192.168.0.1/",
    ],
)
def test_private_targets_are_refused_at_creation(world, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(InvalidInput):
        services.endpoint_create(account=world.a.account, url=url, actor=SYSTEM)
    assert not Endpoint.objects.filter(url=url).exists()


@pytest.mark.parametrize(
    "address",
    [
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 (well-known prefix) of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::808:808",  # NAT64 local-use prefix (even of a public address)
        "64:ff9b:1:ffff::a00:1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::10.0.0.1",  # IPv4-compatible
        "::8.8.8.8",  # IPv4-compatible: deprecated, reaches no public host
        "::ffff:0:10.0.0.1",  # IPv4-translated
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
        "2001:0:a00:1:8000:63bf:3fff:fdd2",  # Teredo, server 10.0.0.1
    ],
)
def test_ipv6_forms_carrying_a_private_ipv4_address_are_refused(settings, address):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(targets.TargetRefused):
        targets.resolve(f"http://[{address}]/hook")


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8", "2606:4700::1111"])
def test_ipv6_forms_carrying_a_public_ipv4_address_are_allowed(settings, address):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert targets.resolve(f"http://[{address}]/hook")[2] == address


def test_private_targets_are_refused_at_delivery(world, settings):
    with Receiver() as receiver:
        endpoint, _ = services.endpoint_create(account=world.a.account, url=receiver.url, actor=SYSTEM)
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # as if the name now resolved to loopback
        world.a.top_up(1)
        deliver()
    assert receiver.requests == []
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == "pending" and "non-public" in delivery.error


def _rotated_and_delivered_twice(world, kind: str) -> tuple[str, str, dict, dict]:
    """(old secret, new secret, a request during the rotation's overlap, one after it)."""
    with Receiver() as receiver:
        endpoint, old = services.endpoint_create(account=world.a.account, url=receiver.url, actor=SYSTEM, kind=kind)
        new = services.endpoint_secret_rotate(endpoint=endpoint, actor=SYSTEM, overlap=timedelta(hours=1))
        world.a.top_up(1)
        deliver()
        endpoint.secrets.exclude(key_id="2").update(expires_at=timezone.now())  # the overlap ends
        world.a.top_up(2)
        deliver()
    first, second = receiver.requests
    return old, new, first, second


def test_a_rotated_secret_signs_beside_the_new_one_during_the_overlap(world):
    old, new, first, second = _rotated_and_delivered_twice(world, Endpoint.Kind.STANDARD)
    for secret in (old, new):
        standardwebhooks.Webhook(secret).verify(first["body"], first["headers"])
    standardwebhooks.Webhook(new).verify(second["body"], second["headers"])
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(second["body"], second["headers"])
    assert old != new and "whsec_" in new


def test_a_rotated_frontier_secret_signs_beside_the_new_one_during_the_overlap(world):
    """One `X-Signature: <id>=<hex>` field per live secret, the oldest first: a Frontier receiver reading
    the first value (Go's Header.Get) verifies with the old secret, one holding the new secret verifies the
    field with its id; after the overlap only the new secret signs."""
    old, new, first, second = _rotated_and_delivered_twice(world, Endpoint.Kind.FRONTIER)
    assert [v.partition("=")[0] for v in first["signatures"]] == ["1", "2"]
    frontier_verify(first["body"], first["signatures"][0], old, key_id="1")  # Header.Get: the first field
    [with_new] = [v for v in first["signatures"] if v.startswith("2=")]
    frontier_verify(first["body"], with_new, new, key_id="2")
    with pytest.raises(AssertionError):
        frontier_verify(first["body"], first["signatures"][0], new, key_id="1")
    assert [v.partition("=")[0] for v in second["signatures"]] == ["2"]
    frontier_verify(second["body"], second["signatures"][0], new, key_id="2")
    with pytest.raises(AssertionError):
        frontier_verify(second["body"], second["signatures"][0], old, key_id="2")
    assert old != new and len(new) == 64


def test_secrets_at_rest_cannot_sign(world, settings):
    endpoint, secret = services.endpoint_create(account=world.a.account, url="http://127.0.0.1:9/x", actor=SYSTEM)
    sealed = endpoint.secrets.get().sealed
    assert secret not in sealed and secret.removeprefix("whsec_") not in sealed
    settings.SECRET_KEY = "another key"
    with pytest.raises(InvalidToken):
        services.live_secrets(endpoint)


def test_resend_a_range(world):
    with Receiver() as receiver:
        endpoint, _ = services.endpoint_create(account=world.a.account, url=receiver.url, actor=SYSTEM)
        for amount in (1, 2, 3):
            world.a.top_up(amount)
        deliver()
        first = endpoint.cursor + 2
        assert services.deliveries_resend(endpoint=endpoint, actor=SYSTEM, first=first, last=first + 1) == 2
        deliver()
    assert len(receiver.requests) == 5
    assert [b["sequence"] for b in receiver.bodies()][3:] == [first, first + 1]
