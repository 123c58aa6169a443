"""Access tokens: never stored at rest (not in the idempotency table, not in a cache: `no-store`), and
their `aud` claim verified when the server is configured with the audiences it serves."""

import base64

import jwt
import pytest
from django.conf import settings
from django.test import override_settings

from config.models import IdempotencyRecord
from tests.conftest import Api

pytestmark = pytest.mark.django_db

TOKEN = "/v1/accounts/T00000001/auth/token"


def ask(client, secret, audience="pos", **extra):
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    body = {"grant_type": "client_credentials", "audience": audience}
    return Api(None).post(TOKEN, body, HTTP_AUTHORIZATION=f"Basic {basic}", **extra)


def test_a_token_answer_is_no_store_and_never_in_the_idempotency_table(account, make_client):
    client, secret = make_client(account)
    first = ask(client, secret, HTTP_IDEMPOTENCY_KEY="token-1")
    again = ask(client, secret, HTTP_IDEMPOTENCY_KEY="token-1")
    assert first.status_code == again.status_code == 200
    assert first["Cache-Control"] == "no-store" and first["Pragma"] == "no-cache"
    assert not IdempotencyRecord.objects.exists()
    assert "Idempotent-Replayed" not in again and again.json()["access_token"] != first.json()["access_token"]


@override_settings(ACCESS_TOKEN_AUDIENCES=["https://api.example.com/v1/accounts/T00000001"])
def test_configured_audiences_are_the_only_ones_issued_and_accepted(account, make_client, credit):
    client, secret = make_client(account)
    refused = ask(client, secret, audience="https://elsewhere.example.com")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_audience"

    good = ask(client, secret, audience="https://api.example.com/v1/accounts/T00000001").json()["access_token"]
    assert Api(good, form="bearer").get("/v1/accounts/T00000001/discounts/rules").status_code == 200
    default = ask(client, secret, audience="").json()["access_token"]  # none asked for: the issuer's name
    assert Api(default, form="bearer").get("/v1/accounts/T00000001/discounts/rules").status_code == 200

    # A token (validly signed) for another audience is refused.
    claims = jwt.decode(good, options={"verify_signature": False})
    claims["aud"] = "https://elsewhere.example.com"
    forged = jwt.encode(claims, settings.ACCESS_TOKEN_SIGNING_KEY, algorithm="HS256")
    assert Api(forged, form="bearer").get("/v1/accounts/T00000001/discounts/rules").status_code == 401
    del claims["aud"]
    no_audience = jwt.encode(claims, settings.ACCESS_TOKEN_SIGNING_KEY, algorithm="HS256")
    assert Api(no_audience, form="bearer").get("/v1/accounts/T00000001/discounts/rules").status_code == 401


def test_without_configured_audiences_a_token_still_needs_an_aud_claim(account, make_client):
    client, secret = make_client(account)
    token = ask(client, secret).json()["access_token"]
    assert Api(token, form="bearer").get("/v1/accounts/T00000001/discounts/rules").status_code == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["aud"]
    bare = jwt.encode(claims, settings.ACCESS_TOKEN_SIGNING_KEY, algorithm="HS256")
    assert Api(bare, form="bearer").get("/v1/accounts/T00000001/discounts/rules").status_code == 401
