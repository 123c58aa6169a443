"""Writes of the staff security app."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp import devices_for_user

from config.kernel.exceptions import InvalidInput, NotPossible

from .models import SecondFactorReset


@transaction.atomic
def second_factor_reset(*, user_id, reset_by, reason: str) -> SecondFactorReset:
    """Remove every second factor of another staff user (authenticator apps, backup codes, passkeys) and
    record who did it, when and why. Only a superuser may; nobody resets their own."""
    if not (reset_by.is_active and reset_by.is_superuser):
        raise NotPossible("Only a superuser may reset a second factor.", code="forbidden")
    user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotPossible("No such user.", code="not_found")
    if user.pk == reset_by.pk:
        raise NotPossible("You cannot reset your own second factor: sign in with a backup code.", code="own")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", "Say why (kept in the record).")
    devices = list(devices_for_user(user, confirmed=None))
    record = SecondFactorReset.objects.create(
        user=user,
        reset_by=reset_by,
        reason=reason,
        devices=[{"kind": type(device).__name__, "name": device.name} for device in devices],
    )
    for device in devices:
        device.delete()
    return record
