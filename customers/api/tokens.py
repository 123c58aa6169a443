"""Client-credentials access tokens (Dintero style): signed JWTs naming the client, its account and its
scopes, accepted as `Authorization: Bearer` on every family until they expire or the client is
deactivated. Signed with HS256 by the server's own key; any other algorithm, `none` included, is
refused.

Audience: a token names the audience it was asked for (`aud`; the issuer's name when none was). When
ACCESS_TOKEN_AUDIENCES is set, only those audiences (and the issuer's own name) are issued and
accepted: asking for another is refused (400 `invalid_audience`), and a token whose `aud` is not one of
them is refused. When it is unset, any audience is issued, and a token is accepted only with an `aud`
claim (every token this server issues has one)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from config.kernel.exceptions import InvalidInput
from customers import credentials
from customers.errors import CustomerError
from customers.models import ApiClient

ALGORITHM = "HS256"
ISSUER = "benefit-ledger"
BAD_TOKEN = "Invalid or expired access token."


def _audiences() -> list[str] | None:
    configured = list(settings.ACCESS_TOKEN_AUDIENCES)
    return [*configured, ISSUER] if configured else None


def issue(client: ApiClient, *, audience: str) -> tuple[str, int]:
    allowed = _audiences()
    if audience and allowed is not None and audience not in allowed:
        raise InvalidInput.single(
            "audience", "This audience is not served here.", code=CustomerError.TOKEN_AUDIENCE_NOT_SERVED
        )
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
    allowed = _audiences()
    try:
        claims = jwt.decode(
            token,
            settings.ACCESS_TOKEN_SIGNING_KEY,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=allowed,
            options={"require": ["exp", "iat", "sub", "aid", "aud"], "verify_aud": allowed is not None},
        )
    except jwt.PyJWTError:
        raise AuthenticationFailed(BAD_TOKEN) from None
    client = credentials.api_client_active(client_id=claims["sub"])
    if client is None or client.account_id != claims["aid"]:
        raise AuthenticationFailed(BAD_TOKEN)
    client.scopes = sorted(set(client.scopes) & set(str(claims.get("scope", "")).split()))
    return client
