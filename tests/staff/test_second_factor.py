"""Two-factor sign-in for staff (django-otp): with STAFF_2FA_REQUIRED a password alone opens no admin
page; the first sign-in enrols an authenticator app (then shows backup codes once), later ones ask for a
code, a backup code works once, and a superuser's reset of a lost device is recorded."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.models import SecondFactorReset
from tests.staff.two_factor import code, enrol, key_from_secret, reauthenticated, verified_client

PASSWORD = "a-long-test-password-1"


@pytest.fixture
def two_factor(settings):
    settings.STAFF_2FA_REQUIRED = True


@pytest.fixture
def desk(db):
    return get_user_model().objects.create_user("desk", password=PASSWORD, is_staff=True)


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def password_sign_in(username: str) -> tuple[Client, str]:
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD}, follow=True)
    return client, response.redirect_chain[-1][0] if response.redirect_chain else ""


def test_a_password_alone_opens_nothing_and_the_first_sign_in_enrols(two_factor, desk):
    client, landed = password_sign_in("desk")
    assert landed.startswith("/admin/security/setup/")
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/customers/customer/").status_code == 302
    page = client.get(landed).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    key = key_from_secret(secret)
    wrong = client.post(landed, {"token": "000000" if code(key) != "000000" else "111111"})
    assert "does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.get(user=desk).confirmed
    assert "Too many wrong codes" in client.post(landed, {"token": code(key)}).content.decode()  # throttled: 1 s
    time.sleep(1.1)
    done = client.post(landed, {"token": code(key)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and StaticToken.objects.filter(device__user=desk).count() == 10
    assert TOTPDevice.objects.get(user=desk).confirmed
    assert client.get("/admin/").status_code == 200


def test_later_sign_ins_ask_for_a_code_and_a_backup_code_works_once(two_factor, desk):
    device = enrol(desk)
    client, landed = password_sign_in("desk")
    assert landed.startswith("/admin/security/verify/")
    assert client.get("/admin/").status_code == 302
    assert "not valid" in client.post(landed, {"token": "12345"}).content.decode()
    time.sleep(1.1)  # django-otp's throttle after a wrong code
    assert client.post(landed, {"token": code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200

    backup = StaticToken.objects.create(device=_backup_device(desk), token="backup123")
    for expected in (302, 200):
        other, landed = password_sign_in("desk")
        response = other.post(landed, {"token": backup.token})
        assert response.status_code == expected  # the second time the code is spent: the form again
    assert not StaticToken.objects.filter(pk=backup.pk).exists()


def _backup_device(user):
    from django_otp.plugins.otp_static.models import StaticDevice

    return StaticDevice.objects.create(user=user, name="Backup codes")


def test_without_the_requirement_a_password_is_enough(desk):
    client, landed = password_sign_in("desk")
    assert landed == "/admin/" and client.get("/admin/").status_code == 200


def test_a_superuser_resets_a_lost_device_after_reauthenticating_and_it_is_recorded(two_factor, desk, root):
    enrol(desk)
    admin = verified_client(root)
    url = f"/admin/security/reset/{desk.pk}/"
    response = admin.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/security/reauth/")
    assert admin.post("/admin/security/reauth/", {"password": "wrong", "next": url}).status_code == 200
    assert admin.post("/admin/security/reauth/", {"password": PASSWORD, "next": url})["Location"] == url
    assert admin.post(url, {"reason": ""}).status_code == 200 and TOTPDevice.objects.filter(user=desk).exists()
    assert admin.post(url, {"reason": "lost phone"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=desk).exists()
    record = SecondFactorReset.objects.get()
    assert (record.user, record.reset_by, record.reason) == (desk, root, "lost phone")
    assert record.devices == [{"kind": "TOTPDevice", "name": "Authenticator app"}]
    _, landed = password_sign_in("desk")
    assert landed.startswith("/admin/security/setup/")


def test_only_a_superuser_resets_and_never_their_own(two_factor, desk, root):
    device = enrol(root)
    desk.is_superuser = False
    desk.save()
    staff = reauthenticated(verified_client(desk))
    assert staff.post(f"/admin/security/reset/{root.pk}/", {"reason": "x"}).status_code == 403
    admin = reauthenticated(verified_client(root, device))
    response = admin.post(f"/admin/security/reset/{root.pk}/", {"reason": "mine"})
    assert "cannot reset your own" in response.content.decode()
    assert TOTPDevice.objects.filter(user=root).exists() and not SecondFactorReset.objects.exists()
