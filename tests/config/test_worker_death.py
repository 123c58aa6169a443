"""A gunicorn worker killed (SIGKILL) in the middle of a request sent with an Idempotency-Key: the retry
with the same key ends, within seconds, with exactly one effect and a 2xx; while the dying request is
still alive, a retry gets 409 (it never runs the effect a second time)."""

import os
import signal
import threading
import time

import pytest

from credits.models import CreditUse
from tests.conftest import credit_path
from tests.servers import call, free_port, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _wait_for_pid(path, seconds=15) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text().strip()):
            return int(text)
        time.sleep(0.05)
    raise AssertionError("the worker never reached the pause point")


@pytest.mark.parametrize(
    ("point", "replayed"),
    [
        ("after_effect", False),  # effect written, answer not stored yet, nothing committed
        ("after_answer", False),  # effect and answer written, COMMIT not sent yet
        ("after_commit", True),  # committed, the answer not sent yet
    ],
)
def test_a_retry_after_the_worker_died_runs_once(point, replayed, account, make_client, credit, tmp_path):
    _, secret = make_client(account)
    headers = {"X-API-KEY": secret, "Idempotency-Key": f"till-{point}"}
    url = credit_path(credit, "/redeem")
    pidfile = tmp_path / "paused.pid"
    env = {"BL_TEST_PAUSE_AT": point, "BL_TEST_PAUSE_PIDFILE": str(pidfile)}

    with gunicorn(free_port(), workers=2, extra_env=env) as base:
        first: dict = {}

        def send_first():
            try:
                first["answer"] = call("POST", base + url, headers=headers)
            except OSError as error:  # the worker died with the connection open
                first["error"] = error

        thread = threading.Thread(target=send_first)
        thread.start()
        pid = _wait_for_pid(pidfile)

        if not replayed:  # the holder is alive: a retry neither runs nor waits long
            status, response_headers, _, seconds = call("POST", base + url, headers=headers)
            assert status == 409 and response_headers["Retry-After"] == "1" and seconds < 3
            assert not CreditUse.objects.exists()

        os.kill(pid, signal.SIGKILL)
        thread.join(20)
        assert "error" in first, first  # the client saw its connection die without an answer

        started = time.monotonic()
        while True:
            status, response_headers, _, _ = call("POST", base + url, headers=headers)
            if status != 409:
                break
            assert time.monotonic() - started < 10, "the key stayed claimed after its holder died"
            time.sleep(0.2)
        assert status == 200, status
        assert (response_headers.get("Idempotent-Replayed") == "true") is replayed
        assert time.monotonic() - started < 10
        # and once more: the stored answer, no new effect
        status, response_headers, _, _ = call("POST", base + url, headers=headers)
        assert status == 200 and response_headers["Idempotent-Replayed"] == "true"

    credit.refresh_from_db()
    assert credit.uses == 1 and CreditUse.objects.count() == 1
