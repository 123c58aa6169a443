"""Who an API credential belongs to: secrets are kept as SHA-256 digests (a prefix finds the candidates, a
constant-time comparison decides), and each server process remembers the clients it authenticated for a
few seconds. Reads only: recording a client's last use is a service (api_client_mark_used)."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings

from .models import ApiClient

SECRET_PREFIX_LENGTH = 12


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _matching(candidates, secret: str) -> ApiClient | None:
    digest = secret_digest(secret)
    found = None
    for client in candidates:
        # Compare every candidate, in constant time, so timing tells nothing.
        if hmac.compare_digest(client.secret_hash, digest):
            found = client
    return found


# --- the per-process cache of authenticated clients ----------------------------------------------------
# Reading the client row (and compiling that query) was a fifth of an API request's CPU. Each server
# process therefore keeps the clients it authenticated for API_CLIENT_CACHE_SECONDS, keyed by the SHA-256
# digest of the credential as presented (secret, or client_id and secret), so a cache hit is exactly as
# strict as the lookup: the same digest, the same client. A change to a client (deactivation, new
# scopes, new name) applies at once in the process that saved it (the services that write a client call
# forget_api_client) and within
# API_CLIENT_CACHE_SECONDS in every other process; 0 turns the cache off. Failed lookups are never
# cached. The cached object is shared by the requests of the process: nothing may modify it (the access
# token path builds its own).
_cache: dict[tuple, tuple[float, ApiClient]] = {}
_CACHE_MAX = 4096


def _cached(key: tuple) -> ApiClient | None:
    entry = _cache.get(key)
    if entry is None:
        return None
    if entry[0] <= time.monotonic():
        _cache.pop(key, None)
        return None
    return entry[1]


def _remember(key: tuple, client: ApiClient) -> None:
    seconds = settings.API_CLIENT_CACHE_SECONDS
    if seconds <= 0:
        return
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[key] = (time.monotonic() + seconds, client)


def forget_api_client(client_pk) -> None:
    """Drop a client from this process's cache (every service that writes a client calls it)."""
    for key, (_, client) in list(_cache.items()):
        if client.pk == client_pk:
            _cache.pop(key, None)


def _authenticated(key: tuple, lookup) -> ApiClient | None:
    client = _cached(key)
    if client is None:
        client = lookup()
        if client is None:
            return None
        _remember(key, client)
    return client


def api_client_for_secret(*, secret: str) -> ApiClient | None:
    # No credential holds a NUL, and PostgreSQL cannot compare one: no match, not a DataError.
    if len(secret) < SECRET_PREFIX_LENGTH or len(secret) > 200 or "\x00" in secret:
        return None

    def lookup() -> ApiClient | None:
        candidates = ApiClient.objects.select_related("account").filter(
            secret_prefix=secret[:SECRET_PREFIX_LENGTH], is_active=True
        )
        return _matching(candidates, secret)

    return _authenticated(("secret", secret_digest(secret)), lookup)


def api_client_for_credentials(*, client_id: str, secret: str) -> ApiClient | None:
    if not client_id or len(client_id) > 40 or len(secret) > 200 or "\x00" in client_id:
        return None

    def lookup() -> ApiClient | None:
        candidates = ApiClient.objects.select_related("account").filter(client_id=client_id, is_active=True)
        return _matching(candidates, secret)

    return _authenticated(("credentials", client_id, secret_digest(secret)), lookup)


def api_client_active(*, client_id: str) -> ApiClient | None:
    """The active client with this id (an access token's subject), fresh from the database: the token path
    narrows its scopes, so it never shares the cached object."""
    return ApiClient.objects.select_related("account").filter(client_id=client_id, is_active=True).first()
