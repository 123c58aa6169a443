"""Client-credentials access tokens (Dintero style): signed JWTs naming the client, its account and its
scopes, accepted as `Authorization: Bearer` on every family until they expire or the client is
deactivated. Signed with HS256 by the server's own key; any other algorithm, `none` included, is
refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from customers.models import ApiClient

ALGORITHM = "HS256"
ISSUER = "benefit-ledger"
BAD_TOKEN = "Invalid or expired access token."


def issue(client: ApiClient, *, audience: str) -> tuple[str, int]:
    now = timezone.now()
    lifetime = settings.ACCESS_TOKEN_LIFETIME
    claims = {
        "iss": ISSUER,
        "sub": client.client_id,
        "aid": client.account_id,
        "scope": " ".join(client.scopes),
        "aud": audience or ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=lifetime),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.ACCESS_TOKEN_SIGNING_KEY, algorithm=ALGORITHM), lifetime


def client_for_access_token(token: str) -> ApiClient:
    """The active client a token names, holding only the scopes both the token and the client still have."""
    try:
        claims = jwt.decode(
            token,
            settings.ACCESS_TOKEN_SIGNING_KEY,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aid"], "verify_aud": False},
        )
    except jwt.PyJWTError:
        raise AuthenticationFailed(BAD_TOKEN) from None
    client = ApiClient.objects.select_related("account").filter(client_id=claims["sub"], is_active=True).first()
    if client is None or client.account_id != claims["aid"]:
        raise AuthenticationFailed(BAD_TOKEN)
    client.scopes = sorted(set(client.scopes) & set(str(claims.get("scope", "")).split()))
    return client
