"""The database taken away under a real gunicorn: 503 in the family's dialect within 5 seconds, /healthz
says so, no worker hangs, and service resumes by itself when the database is back."""

import json
import time

import pytest

from tests.servers import FlakyProxy, call, free_port, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_outage_answers_503_fast_and_service_resumes(account, make_client, credit):
    _, secret = make_client(account)
    key = {"X-API-KEY": secret}
    proxy = FlakyProxy()
    credits_url = f"/customers/customers/{credit.customer_id}/credits"
    try:
        with gunicorn(free_port(), database_port=proxy.port) as base:
            assert call("GET", base + credits_url, headers=key)[0] == 200

            for mode in ("down", "blackhole"):
                proxy.set(mode)
                status, headers, body, seconds = call("GET", base + credits_url, headers=key)
                assert status == 503 and seconds < 5, (mode, status, seconds)
                assert json.loads(body) == {"message": "The service is temporarily unavailable; try again shortly."}
                assert headers["Retry-After"] == "5"
                status, _, body, seconds = call(
                    "POST", base + f"/v1/customers/{credit.customer.number}/benefits/massage/use", headers=key
                )
                assert status == 503 and seconds < 5 and json.loads(body)["errorCode"] == "server.unavailable"
                status, _, body, seconds = call("GET", base + "/healthz")
                assert status == 503 and seconds < 5 and json.loads(body)["status"] == "unavailable"

            proxy.set("up")
            # Each worker tries the database again once its DB_UNAVAILABLE_RETRY_SECONDS are over.
            deadline = time.monotonic() + 15
            use = f"/v1/customers/{credit.customer.number}/benefits/massage/use"
            for method, path, expected in (("GET", credits_url, 200), ("GET", "/healthz", 200), ("POST", use, 204)):
                while (status := call(method, base + path, headers=key)[0]) >= 500:
                    assert time.monotonic() < deadline, f"service did not resume: {method} {path}"
                    time.sleep(0.2)
                assert status == expected
    finally:
        proxy.close()
    credit.refresh_from_db()
    assert credit.uses == 1  # nothing was written during the outage, the one use after it was
