"""API client authentication, in every form the four vendors use, accepted on every family:

1. `X-API-KEY: <secret>` (Magicline)
2. `Authorization: Bearer <secret>` (Trybe personal token)
3. `Authorization: Basic base64(client_id:secret)` (Frontier service users)
4. `Authorization: Bearer <access token>` from `POST /v1/accounts/{aid}/auth/token` (Dintero)

A secret never contains a dot and an access token (a JWT) always does, so the two Bearer forms are
told apart without guessing."""

from __future__ import annotations

import base64
import binascii

from django.utils.module_loading import import_string
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from customers import credentials as client_credentials
from customers import services
from customers.models import ApiClient

BAD_CREDENTIALS = "Invalid or missing credentials."

# Verifies a Bearer access token and returns its ApiClient, or raises AuthenticationFailed. Set by the
# module that issues the tokens (the discounts family's client-credentials endpoint).
ACCESS_TOKEN_VERIFIER = "customers.api.tokens.client_for_access_token"


class ApiClientAuthentication(BaseAuthentication):
    def authenticate(self, request) -> tuple[ApiClient, None] | None:
        api_key = request.META.get("HTTP_X_API_KEY")
        if api_key is not None:
            return self._secret(api_key.strip())
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        scheme = scheme.lower()
        if scheme == "bearer":
            if "." in credentials:
                return self._access_token(credentials)
            return self._secret(credentials)
        if scheme == "basic":
            return self._basic(credentials)
        raise AuthenticationFailed(BAD_CREDENTIALS)

    def authenticate_header(self, request) -> str:
        # Without it DRF would turn every 401 into a 403.
        return 'Bearer realm="api"'

    def _secret(self, secret: str) -> tuple[ApiClient, None]:
        client = client_credentials.api_client_for_secret(secret=secret)
        if client is None:
            raise AuthenticationFailed(BAD_CREDENTIALS)
        services.api_client_mark_used(api_client=client)
        return client, None

    def _basic(self, credentials: str) -> tuple[ApiClient, None]:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise AuthenticationFailed(BAD_CREDENTIALS) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise AuthenticationFailed(BAD_CREDENTIALS)
        client = client_credentials.api_client_for_credentials(client_id=client_id, secret=secret)
        if client is None:
            raise AuthenticationFailed(BAD_CREDENTIALS)
        services.api_client_mark_used(api_client=client)
        return client, None

    def _access_token(self, token: str) -> tuple[ApiClient, None]:
        try:
            verify = import_string(ACCESS_TOKEN_VERIFIER)
        except ImportError:
            raise AuthenticationFailed(BAD_CREDENTIALS) from None
        return verify(token), None
