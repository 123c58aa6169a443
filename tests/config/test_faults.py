"""Fault injection under a real gunicorn: PostgreSQL and Redis behind TCP proxies the test starts, taken
through the modes refuse, drop (a lost network: no RST, nothing passes) and slow. In every mode every
family answers 503 in its own dialect within 5 seconds (and /healthz too), no worker hangs, and service
resumes by itself when the proxy is back up. Redis stopped: the API keeps answering (throttling fails
open) and /healthz names Redis."""

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from credits.models import CreditUse
from tests.config.test_production_settings import database_cache, production_env  # noqa: F401 (a fixture)
from tests.servers import FlakyProxy, call, free_port, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _requests(customer, credit):
    """One request per family, and what its dialect's 503 body says."""
    return [
        ("GET", f"/customers/customers/{customer.pk}/credits", lambda b: b["message"].startswith("The service")),
        (
            "POST",
            f"/v1/customers/{customer.number}/benefits/massage/use",
            lambda b: b["errorCode"] == "server.unavailable",
        ),
        ("GET", "/v1/accounts/T00000001/discounts/rules", lambda b: b["error"]["code"] == "service_unavailable"),
        ("GET", f"/v1beta1/organizations/{customer.pk}/billing", lambda b: b["code"] == 14),
    ]


@pytest.mark.usefixtures("database_cache")
@pytest.mark.parametrize("mode", ["refuse", "drop", "slow"])
def test_database_faults_answer_503_in_every_dialect_within_5_seconds(mode, account, make_client, customer, credit):
    """Under the production settings (behind the TLS proxy: X-Forwarded-Proto), throttle counters in the
    database cache as when REDIS_URL is unset."""
    _, secret = make_client(account)
    key = {"X-API-KEY": secret, "X-Forwarded-Proto": "https"}
    database = FlakyProxy()
    requests = _requests(customer, credit)
    try:
        with gunicorn(free_port(), database_port=database.port, workers=2, extra_env=production_env()) as base:
            for method, path, _ in requests:  # warm: every worker holds a pooled connection (CONN_MAX_AGE)
                assert call(method, base + path, headers=key)[0] in (200, 204)
            uses_before = CreditUse.objects.count()

            database.set(mode)
            # Two at once, so both workers are caught with their pooled connection in the fault.
            with ThreadPoolExecutor(2) as pool:
                for method, path, says in requests:
                    answers = list(
                        pool.map(lambda _, m=method, p=path: call(m, base + p, headers=key, timeout=15), range(2))
                    )
                    for status, headers, body, seconds in answers:
                        assert status == 503 and seconds < 5, (mode, path, status, seconds)
                        assert headers["Content-Type"] == "application/json" and says(json.loads(body)), body
                        assert headers["Retry-After"] == "5"
            status, _, body, seconds = call("GET", base + "/healthz", timeout=15)
            assert status == 503 and seconds < 5 and json.loads(body)["database"] == "unreachable"

            assert CreditUse.objects.count() == uses_before  # the failed benefit uses wrote nothing

            database.set("up")
            # (The benefit is used up by the warm-up: 4xx, not 5xx. Each worker tries the database again once
            # its DB_UNAVAILABLE_RETRY_SECONDS are over.)
            deadline = time.monotonic() + 15
            for method, path, _ in [*requests, ("GET", "/healthz", None)]:
                while (status := call(method, base + path, headers=key)[0]) >= 500:
                    assert time.monotonic() < deadline, f"service did not resume after {mode}"
                    time.sleep(0.2)
            assert status == 200
    finally:
        database.close()


@pytest.fixture
def redis_server():
    """A Redis of the test's own, on its own port, that the test can stop."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while call_redis(port) is False:
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield port, process
    if process.poll() is None:
        process.kill()
        process.wait()


def call_redis(port: int) -> bool:
    import redis

    try:
        return redis.Redis(port=port, socket_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.mark.parametrize("mode", ["stopped", "drop", "slow"])
def test_redis_lost_the_api_keeps_answering_and_healthz_names_redis(
    mode, redis_server, account, make_client, customer, credit
):
    port, process = redis_server
    _, secret = make_client(account)
    key = {"X-API-KEY": secret}
    proxy = FlakyProxy(target=("127.0.0.1", port), delay=2.0)
    requests = _requests(customer, credit)
    env = {"REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0", "API_THROTTLE_RATE": "100/minute"}
    try:
        with gunicorn(free_port(), workers=2, extra_env=env) as base:
            for method, path, _ in requests:
                assert call(method, base + path, headers=key)[0] in (200, 204)
            health = json.loads(call("GET", base + "/healthz")[2])
            assert health["redis"] == "ok" and health["status"] == "ok"

            if mode == "stopped":
                process.kill()
                process.wait()
            else:
                proxy.set(mode)
            for _ in range(3):
                for method, path, _ in requests:
                    status, _, body, seconds = call(method, base + path, headers=key, timeout=15)
                    assert status < 500 and seconds < 1.5, (mode, path, status, seconds, body)
            status, _, body, seconds = call("GET", base + "/healthz", timeout=15)
            health = json.loads(body)
            assert status == 200 and seconds < 3, (status, seconds)
            assert health["status"] == "degraded" and health["redis"] == "unreachable"

            if mode != "stopped":  # back: the counters count again
                proxy.set("up")
                deadline = time.monotonic() + 15
                while json.loads(call("GET", base + "/healthz")[2])["redis"] != "ok":
                    assert time.monotonic() < deadline, "Redis not seen back"
                    time.sleep(0.2)
                time.sleep(6)  # REDIS_RETRY_SECONDS: each worker asks Redis again
                assert call(*requests[0][:1], base + requests[0][1], headers=key)[0] == 200
                import redis

                assert any(k.startswith(b"throttle:") for k in redis.Redis(port=port).keys("*"))
    finally:
        proxy.close()


@pytest.mark.usefixtures("database_cache")
def test_a_cut_database_link_under_load_answers_every_client_within_5_seconds(account, make_client, customer, credit):
    """More clients than workers (6 on 4) while the database link is cut: a request that waits for a busy
    worker must still have its 503, in its dialect, within 5 s as the client measures it, /healthz too."""
    _, secret = make_client(account)
    key = {"X-API-KEY": secret, "X-Forwarded-Proto": "https"}
    database = FlakyProxy()
    healthz = ("GET", "/healthz", lambda b: b["database"] == "unreachable")
    requests = [*_requests(customer, credit), healthz]
    clients, workers, rounds = 6, 4, 8
    try:
        with gunicorn(free_port(), database_port=database.port, workers=workers, extra_env=production_env()) as base:
            for method, path, _ in requests:
                assert call(method, base + path, headers=key)[0] in (200, 204)
            uses_before = CreditUse.objects.count()
            database.set("drop")

            def client(number):
                answers = []
                for turn in range(rounds):
                    method, path, says = requests[(number + turn) % len(requests)]
                    status, headers, body, seconds = call(method, base + path, headers=key, timeout=30)
                    in_dialect = says(json.loads(body)) and (path == "/healthz" or headers["Retry-After"] == "5")
                    answers.append((seconds, path, status, in_dialect))
                return answers

            with ThreadPoolExecutor(clients) as pool:
                answers = sorted(answer for answers in pool.map(client, range(clients)) for answer in answers)
            assert all(status == 503 and in_dialect for _, _, status, in_dialect in answers), answers
            assert answers[-1][0] < 5, answers[-3:]
            assert CreditUse.objects.count() == uses_before
    finally:
        database.close()
