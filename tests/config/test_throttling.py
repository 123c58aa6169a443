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


@pytest.mark.skipif(not redis_running(), reason="needs Redis on 127.0.0.1:6379")
@override_settings(API_THROTTLE_RATE="2/minute", CACHES=REDIS)
def test_counters_live_in_redis_shared_by_every_process(api):
    import redis
    from django.core.cache import caches

    caches["default"].clear()
    assert api.get("/customers/coupons").status_code == 200
    keys = [k.decode() for k in redis.Redis.from_url("redis://127.0.0.1:6379/15").keys("*throttle*")]
    assert len(keys) == 1 and str(api.client.pk) in keys[0]
    # Another process counts against the same key: simulate its request by incrementing it directly.
    caches["default"].incr(keys[0].split(":", 2)[-1])
    assert api.get("/customers/coupons").status_code == 429
    caches["default"].clear()
