"""Staff two-factor sign-in on django-otp: an authenticator app (TOTP) with backup codes (a static
device), or passkeys (django-otp-webauthn). With STAFF_2FA_REQUIRED, the admin site lets a staff user in
only once their session is verified by one of them; until then every admin page sends them to enrol (no
device yet) or to verify (a device exists)."""

from __future__ import annotations

from django.conf import settings
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def required() -> bool:
    return settings.STAFF_2FA_REQUIRED


def needs_second_factor(user) -> bool:
    """A signed-in staff user whose session has not passed the second factor (when one is required)."""
    return (
        required()
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and not (hasattr(user, "is_verified") and user.is_verified())
    )


def is_enrolled(user) -> bool:
    """Has a confirmed authenticator app or passkey (backup codes alone do not make an enrolment)."""
    return any(not isinstance(device, StaticDevice) for device in devices_for_user(user, confirmed=True))


def pending_app_device(user) -> TOTPDevice:
    """The authenticator app being set up: one unconfirmed device, kept across page loads so that the
    secret shown stays the same until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def verified_device(user, token: str):
    """The device (authenticator app or backup codes) that accepts this code, or None. Each device
    throttles its own failures (django-otp: a growing delay after each wrong code)."""
    token = "".join(token.split())
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True):
        if not isinstance(device, TOTPDevice | StaticDevice):
            continue
        if device.verify_is_allowed()[0] and device.verify_token(token):
            return device
    return None


def new_backup_codes(user) -> list[str]:
    """Replace the user's backup codes with BACKUP_CODES fresh ones, each good once; shown once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
