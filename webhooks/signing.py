"""The two signature schemes.

Frontier (raystack/frontier pkg/crypt, core/webhook): `X-Signature: <secret id>=<hex HMAC-SHA-512/256>`
of the raw body, keyed with the hex-decoded secret; Frontier's webhook.ParseAndValidateEvent(body, secret,
hex) verifies the part after `=`. Frontier itself signs with its first secret only and has no form for
two; during a rotation's overlap we send one such `X-Signature` field per live secret, the oldest first:
a receiver reading the header's first value (Go's Header.Get, as Frontier's own tests do) keeps verifying
with the secret it has, and one holding the new secret picks the field whose id is its secret's (Go's
Header.Values). Each field, alone, is exactly Frontier's. A comma-joined value would not be: Frontier's
receivers split the header at `=`.

Standard Webhooks (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA-256>` of
`{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64-decoded secret after `whsec_`; one
`v1,...` per live secret, space separated, so a receiver holding either secret verifies during a rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _sha512_256():
    return hashlib.new("sha512_256")


def frontier(body: bytes, *, key_id: str, secret_hex: str) -> str:
    mac = hmac.new(bytes.fromhex(secret_hex), body, _sha512_256).hexdigest()
    return f"{key_id}={mac}"


def standard(body: bytes, *, msg_id: str, timestamp: int, secrets: list[str]) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    signatures = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signatures.append("v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode())
    return " ".join(signatures)
