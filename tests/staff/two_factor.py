"""Signing staff in under the second factor, for tests: enrol an authenticator app for a user, compute
its current code as the phone would (django_otp.oath.totp), or mark a test client's session as verified
(what django_otp.login does after a good code). Production's enforcement is untouched: tests that want
it turn STAFF_2FA_REQUIRED on (the `two_factor` fixture)."""

from __future__ import annotations

import base64
import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import sudo


def enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code(key: bytes | TOTPDevice, *, offset: int = 0) -> str:
    """The six digits an authenticator app shows now (offset: that many 30 s steps later; a device accepts
    one step either side, and never the same step twice)."""
    if isinstance(key, TOTPDevice):
        key = key.bin_key
    return f"{totp(key, step=30, t0=0, digits=6, drift=offset):06d}"


def key_from_secret(secret: str) -> bytes:
    """The key behind the base32 secret the set-up page shows."""
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def verified_client(user, device: TOTPDevice | None = None) -> Client:
    """A test client signed in as `user` whose session has passed the second factor."""
    device = device or TOTPDevice.objects.filter(user=user, confirmed=True).first() or enrol(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def reauthenticated(client: Client) -> Client:
    """The client's session as right after typing the password again (staff/sudo.py)."""
    session = client.session
    session[sudo.SESSION_KEY] = time.time()
    session.save()
    return client
