"""The per-process cache of authenticated API clients (customers/credentials.py): a change saved in this
process (through a service) applies at once; a change made elsewhere (another server process, here a
plain UPDATE) applies within API_CLIENT_CACHE_SECONDS; only the exact credential hits the cache."""

import pytest

from customers import credentials, services
from customers.models import ApiClient
from tests.conftest import Api
from tests.world import SYSTEM

pytestmark = pytest.mark.django_db

PATH = "/customers/customers"


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(credentials.time, "monotonic", lambda: now[0])
    return now


def test_a_deactivation_elsewhere_applies_within_the_cache_seconds(account, make_client, clock, settings):
    settings.API_CLIENT_CACHE_SECONDS = 5
    client, secret = make_client(account)
    api = Api(secret)
    assert api.get(PATH).status_code == 200
    ApiClient.objects.filter(pk=client.pk).update(is_active=False)  # as another process would
    clock[0] += 4.9
    assert api.get(PATH).status_code == 200  # still cached here
    clock[0] += 0.2
    assert api.get(PATH).status_code == 401
    assert api.get(PATH).status_code == 401  # a failed lookup is not cached either way


def test_a_scope_change_saved_here_applies_at_once(account, make_client, settings):
    settings.API_CLIENT_CACHE_SECONDS = 60
    client, secret = make_client(account)
    api = Api(secret)
    assert api.get(PATH).status_code == 200
    services.api_client_update(api_client=client, scopes=["coupons:write"], actor=SYSTEM)
    assert api.get(PATH).status_code == 403


def test_only_the_exact_credential_hits_the_cache(account, make_client, settings):
    settings.API_CLIENT_CACHE_SECONDS = 60
    client, secret = make_client(account)
    assert Api(secret).get(PATH).status_code == 200
    assert Api(secret[:-1] + ("A" if secret[-1] != "A" else "B")).get(PATH).status_code == 401
    assert Api(secret, client_id=client.client_id, form="basic").get(PATH).status_code == 200
    assert Api("x" + secret[1:], client_id=client.client_id, form="basic").get(PATH).status_code == 401


def test_with_zero_seconds_every_request_reads_the_client(account, make_client, settings):
    settings.API_CLIENT_CACHE_SECONDS = 0
    client, secret = make_client(account)
    api = Api(secret)
    assert api.get(PATH).status_code == 200
    ApiClient.objects.filter(pk=client.pk).update(is_active=False)
    assert api.get(PATH).status_code == 401
