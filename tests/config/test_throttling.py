"""Per-API-client throttling: 429 with Retry-After in the family's dialect, counters in the shared cache."""

import socket

import pytest
from django.core.cache import cache
from django.test import override_settings

from credits.models import CreditUse
from tests.conftest import credit_path

pytestmark = pytest.mark.django_db

REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/15"}}


def redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@override_settings(API_THROTTLE_RATE="3/minute")
def test_over_the_limit_is_429_with_retry_after_and_nothing_runs(api, credit):
    for _ in range(3):
        assert api.get("/customers/coupons").status_code == 200
    response = api.post(credit_path(credit, "/redeem"))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert set(response.json()) == {"message"}
    assert not CreditUse.objects.exists()


@override_settings(API_THROTTLE_RATE="2/minute")
def test_each_family_answers_429_in_its_dialect(api, customer):
    api.get("/customers/coupons")
    api.get("/customers/coupons")
    assert api.get(f"/v1/customers/{customer.number}/benefits").json()["errorCode"] == "request.throttled"
    assert api.get("/v1/accounts/T00000001/discounts/rules").json()["error"]["code"] == "too_many_requests"
    billing = api.get(f"/v1beta1/organizations/{customer.pk}/billing")
    assert billing.status_code == 429 and billing.json()["code"] == 8


@override_settings(API_THROTTLE_RATE="2/minute")
def test_limits_are_per_client(account, make_api):
    first, second = make_api(account, name="a"), make_api(account, name="b")
    for _ in range(2):
        first.get("/customers/coupons")
    assert first.get("/customers/coupons").status_code == 429
    assert second.get("/customers/coupons").status_code == 200


REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.mark.skipif(not redis_running(), reason="needs Redis on 127.0.0.1:6379")
@override_settings(API_THROTTLE_RATE="2/minute", REDIS_URL=REDIS_URL)
def test_counters_live_in_redis_shared_by_every_process(api):
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    server.delete(*server.keys("throttle:*") or ["none"])
    assert api.get("/customers/coupons").status_code == 200
    keys = [k.decode() for k in server.keys("throttle:*")]
    assert len(keys) == 1 and str(api.client.pk) in keys[0]
    assert 60 < server.ttl(keys[0]) <= 65
    # Another process counts against the same key: simulate its request by incrementing it directly.
    server.incr(keys[0])
    assert api.get("/customers/coupons").status_code == 429
    server.delete(*keys)


@pytest.mark.skipif(not redis_running(), reason="needs Redis on 127.0.0.1:6379")
@override_settings(API_THROTTLE_RATE="2/minute", REDIS_URL=REDIS_URL)
def test_one_command_per_request_on_a_connection_reused_across_requests(api, monkeypatch):
    """The throttle's whole cost in Redis is one EVAL per request (INCR, and EXPIRE only when the
    window's key is new), sent on the thread's own connection, the same one request after request."""
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    server.delete(*server.keys("throttle:*") or ["none"])
    sent = []
    original = redis.Connection.send_command
    monkeypatch.setattr(
        redis.Connection, "send_command", lambda self, *a, **k: sent.append((self, a[0])) or original(self, *a, **k)
    )
    for _ in range(3):
        api.get("/customers/coupons")
    assert [name for _, name in sent] == ["EVAL"] * 3
    assert sent[0][0] is sent[1][0] is sent[2][0]
    [key] = server.keys("throttle:*")
    assert int(server.get(key)) == 3 and 60 < server.ttl(key) <= 65
    server.delete(key)


@override_settings(API_THROTTLE_RATE="1/minute", REDIS_URL="redis://127.0.0.1:1/0", REDIS_RETRY_SECONDS=60)
def test_redis_unreachable_fails_open_with_a_log_line_and_a_counter(api, credit, caplog):
    """Degraded mode: nothing is throttled, every answer is the normal one, a warning is logged once and
    /healthz names Redis as unreachable (status "degraded", still 200: the API works)."""
    from config.api import throttling

    throttling.redis_state.client = None
    before = throttling.redis_state.fail_open_total
    with caplog.at_level("WARNING", logger="config.api.throttling"):
        for _ in range(3):  # over the limit of 1/minute, yet never 429 and never 500
            assert api.get("/customers/coupons").status_code == 200
        assert api.post(credit_path(credit, "/redeem")).status_code == 200
    assert throttling.redis_state.fail_open_total - before == 4
    assert [r.getMessage() for r in caplog.records if "Redis unreachable" in r.getMessage()].__len__() == 1
    health = api.http.get("/healthz")
    assert health.status_code == 200
    assert health.json()["redis"] == "unreachable" and health.json()["status"] == "degraded"
    assert health.json()["throttle_fail_open_total"] >= 4
    throttling.redis_state.client = None


def test_healthz_without_redis_says_not_configured(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "not_configured"
