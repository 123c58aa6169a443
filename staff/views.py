"""The staff security pages under /admin/security/: enrolment, the second-factor step of signing in,
backup codes, re-authentication, and a superuser's reset of another user's second factor."""

from __future__ import annotations

import base64
import functools

import segno
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from config.kernel.exceptions import DomainError, InvalidInput

from . import second_factor, services, sudo


class CodeForm(forms.Form):
    token = forms.CharField(
        label="Code", max_length=32, widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True})
    )


class PasswordForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True})
    )


class ResetForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("admin:index")


def _page(request, template: str, title: str, **context):
    context = {**admin.site.each_context(request), "title": title, "next": _next(request), **context}
    return TemplateResponse(request, f"staff/{template}", context)


def _signed_in_staff(view):
    """Signed in with a password as active staff; the second factor may still be missing."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def _verified(view):
    """A staff session that has passed its second factor (when one is required)."""

    @_signed_in_staff
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if second_factor.needs_second_factor(request.user):
            return second_factor_step(request)
        return view(request, *args, **kwargs)

    return wrapper


def second_factor_step(request):
    """Where a signed-in staff user without a verified second factor goes: enrolment or verification."""
    name = "staff:verify" if second_factor.is_enrolled(request.user) else "staff:setup"
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


def admin_login(original_login):
    """The admin's login view, with the second step: a staff user who has signed in with a password but
    not yet with a second factor is sent on to enrol or verify instead of being asked for a password
    again."""

    def login(request, extra_context=None):
        if second_factor.needs_second_factor(request.user):
            return second_factor_step(request)
        return original_login(request, extra_context)

    return login


def admin_has_permission(original):
    def has_permission(request):
        return original(request) and not second_factor.needs_second_factor(request.user)

    return has_permission


@_signed_in_staff
def setup(request):
    """Enrol: scan the QR code with an authenticator app and type a code (then the backup codes are
    shown once), or register a passkey."""
    user = request.user
    if second_factor.is_enrolled(user) and second_factor.needs_second_factor(user):
        return second_factor_step(request)
    device = second_factor.pending_app_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("token", "Too many wrong codes: wait a few seconds, then type the newest code.")
        elif device.verify_token("".join(form.cleaned_data["token"].split())):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            codes = second_factor.new_backup_codes(user)
            return _page(request, "backup_codes.html", "Your backup codes", codes=codes)
        else:
            form.add_error("token", "That code does not match: check the time on your phone and type the newest code.")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=False)
    return _page(
        request,
        "setup.html",
        "Set up your second factor",
        form=form,
        secret=secret,
        qr=mark_safe(qr),  # noqa: S308 (segno's own SVG markup of the otpauth URL)
        required=second_factor.required(),
    )


@sensitive_post_parameters("token")
@_signed_in_staff
def verify(request):
    """The second step of signing in: a code from the authenticator app, a backup code, or a passkey."""
    user = request.user
    if not second_factor.needs_second_factor(user):
        return HttpResponseRedirect(_next(request))
    if not second_factor.is_enrolled(user):
        return second_factor_step(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor.verified_device(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"You signed in with a backup code; {left} are left.")
            return HttpResponseRedirect(_next(request))
        form.add_error("token", "That code is not valid (after several wrong codes, wait a little before the next).")
    return _page(request, "verify.html", "Second factor", form=form)


@_verified
def overview(request):
    """The signed-in user's second factors: add a passkey, replace the backup codes."""
    devices = [
        (type(device).__name__, device.name, getattr(device, "token_set", None) and device.token_set.count())
        for device in devices_for_user(request.user, confirmed=True)
    ]
    return _page(request, "overview.html", "Sign-in security", devices=devices)


@_verified
@sudo.required
def backup_codes(request):
    if request.method != "POST":
        return HttpResponseRedirect(reverse("staff:security"))
    codes = second_factor.new_backup_codes(request.user)
    return _page(request, "backup_codes.html", "Your new backup codes", codes=codes)


@sensitive_post_parameters("password")
@_verified
def reauth(request):
    """Type the password again: the session may then do sensitive things for STAFF_REAUTH_SECONDS.
    Wrong passwords count towards the sign-in lockout like any other (django-axes)."""
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=request.user.get_username(), password=form.cleaned_data["password"])
        if user is not None and user.pk == request.user.pk:
            sudo.mark(request)
            return HttpResponseRedirect(_next(request))
        form.add_error("password", "That is not your password.")
    return _page(request, "reauth.html", "Confirm it is you", form=form)


@_verified
@sudo.required
def reset(request, user_id: int):
    """A superuser removes another user's second factors (a lost phone or key); recorded."""
    if not request.user.is_superuser:
        raise PermissionDenied
    target = get_object_or_404(get_user_model(), pk=user_id)
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.second_factor_reset(user_id=target.pk, reset_by=request.user, reason=form.cleaned_data["reason"])
        except InvalidInput as exc:
            for field, errors in exc.fields.items():
                form.add_error(field if field in form.fields else None, errors)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Reset the second factor of {target}: they enrol again at their next sign-in.")
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[target.pk]))
    devices = [(type(d).__name__, d.name) for d in devices_for_user(target, confirmed=None)]
    return _page(
        request, "reset.html", f"Reset the second factor of {target}", form=form, target=target, devices=devices
    )
