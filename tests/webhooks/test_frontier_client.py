"""The published `@raystack/frontier` api-client manages webhook endpoints (create, list, update, delete)
against a live server, and the endpoint it made receives the account's events, Frontier-signed with the
secret the create answered."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest

from billing import services as billing_services
from tests.billing.test_frontier_client import CLIENT, install_client
from tests.servers import free_port, gunicorn
from tests.world import SYSTEM
from webhooks import worker
from webhooks.models import Endpoint

from .receiver import Receiver
from .test_delivery import frontier_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (.ci/run installs nodejs and npm)")
def test_the_published_frontier_client_manages_webhooks(account, make_client, customer):
    install_client()
    _, secret = make_client(account, scopes=["billing:admin"])
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    with Receiver() as receiver:
        with gunicorn(free_port(), workers=1) as base:
            done = subprocess.run(
                [shutil.which("node"), "webhooks.mjs"],
                cwd=CLIENT,
                env={"PATH": "/usr/bin:/bin", "BASE_URL": base, "API_KEY": secret, "HOOK_URL": receiver.url},
                capture_output=True,
                text=True,
                timeout=120,
            )
        report = json.loads(done.stdout)
        assert done.returncode == 0 and report["failures"] == [], json.dumps(report, indent=1)
        calls = {name: value["data"] for name, value in report["calls"].items()}
        created = calls["adminServiceCreateWebhook"]["webhook"]
        assert created["url"] == receiver.url and created["state"] == "enabled"
        assert created["subscribed_events"] == ["billing.transaction.created"]
        assert created["headers"] == {"X-Tenant": "spa"} and created["metadata"] == {"owner": "ops"}
        [signing] = created["secrets"]
        assert signing["id"] == "1" and len(bytes.fromhex(signing["value"])) == 32
        assert [w["id"] for w in calls["adminServiceListWebhooks"]["webhooks"]] == [
            created["id"],
            calls["adminServiceCreateWebhook (second)"]["webhook"]["id"],
        ]
        assert all(w["secrets"] == [] for w in calls["adminServiceListWebhooks"]["webhooks"])  # as Frontier lists
        assert calls["adminServiceUpdateWebhook"]["webhook"]["description"] == "booking system (updated)"
        assert calls["adminServiceDeleteWebhook"] == {}
        assert [w["id"] for w in calls["adminServiceListWebhooks (after delete)"]["webhooks"]] == [created["id"]]
        assert Endpoint.objects.get(pk=created["id"]).kind == "frontier"

        billing_services.billing_top_up(
            account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=7, actor=SYSTEM
        )
        worker.run(once=True)
    [request] = receiver.requests
    assert request["headers"]["X-Tenant"] == "spa"
    event = frontier_verify(request["body"], request["headers"]["X-Signature"], signing["value"])
    assert event["action"] == "billing.transaction.created" and event["data"]["transaction"]["amount"] == "7"
