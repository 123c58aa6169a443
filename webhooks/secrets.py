"""Signing secrets at rest: encrypted with Fernet under a key derived (HKDF-SHA256) from
WEBHOOK_SECRETS_KEY, or DJANGO_SECRET_KEY when that is not set, so the rows alone cannot sign."""

from __future__ import annotations

import base64
import secrets as random
from functools import cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@cache
def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"benefit-ledger webhook secrets").derive(
        key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _key() -> str:
    return settings.WEBHOOK_SECRETS_KEY or settings.SECRET_KEY


def seal(value: str) -> str:
    return _fernet(_key()).encrypt(value.encode()).decode()


def unseal(token: str) -> str:
    return _fernet(_key()).decrypt(token.encode()).decode()


def new_frontier_secret() -> str:
    """As Frontier's crypt.NewEncryptionKeyInHex: 32 random bytes, hex."""
    return random.token_hex(32)


def new_standard_secret() -> str:
    """Standard Webhooks: `whsec_` and the base64 of 24 to 64 random bytes."""
    return "whsec_" + base64.b64encode(random.token_bytes(32)).decode()
