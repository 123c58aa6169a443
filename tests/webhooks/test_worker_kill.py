"""`manage.py worker` SIGKILLed in the middle of a delivery (the receiver has the request, the worker has
not recorded the answer) loses nothing and marks nothing delivered; restarted, it delivers everything,
the interrupted event again (at least once, same id)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from billing import services as billing_services
from tests.servers import ROOT, database_url
from tests.world import SYSTEM
from webhooks import services
from webhooks.models import Delivery

from .receiver import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "BL_TEST_SERVER": "1",
        "WEBHOOK_POLL_SECONDS": "0.05",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_loses_nothing(account, customer):
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    with Receiver() as receiver:
        endpoint, _ = services.endpoint_create(account=account, url=receiver.url, actor=SYSTEM)
        for amount in (1, 2, 3):
            billing_services.billing_top_up(
                account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=amount, actor=SYSTEM
            )
        receiver.hold.clear()  # the first request waits for an answer
        worker = start_worker()
        try:
            assert receiver.arrived.wait(30), worker.stderr.read1().decode() if worker.poll() is not None else ""
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        mine = Delivery.objects.filter(endpoint=endpoint)
        assert list(mine.values_list("status", "attempts")) == [("pending", 0)] * 3
        receiver.hold.set()
        worker = start_worker()
        try:
            wait_for(lambda: mine.filter(status="delivered").count() == 3)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(20) == 0
    bodies = receiver.bodies()
    amounts = [b["data"]["transaction"]["amount"] for b in bodies]
    assert amounts == ["1", "1", "2", "3"]
    assert bodies[0]["id"] == bodies[1]["id"]
