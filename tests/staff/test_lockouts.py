"""Sign-in throttling (django-axes): failures per username and per client address lock out, the cool-off
grows with each failure during a lockout and then passes, the answer says so plainly and is the same
whether the username exists or not, and staff with the permission see and lift lockouts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

PASSWORD = "a-long-test-password-1"
LIMIT = 5


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.STAFF_LOCKOUT_SECONDS = 60


@pytest.fixture
def desk(db):
    return get_user_model().objects.create_user("desk", password=PASSWORD, is_staff=True)


def sign_in(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/admin/login/", {"username": username, "password": password})


def text(response) -> str:
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'value="[^"]*"', "", body)


def test_failures_for_a_username_lock_it_out_whether_or_not_it_exists(desk):
    wrong = [sign_in("desk", "nope", f"10.0.1.{i}") for i in range(LIMIT - 1)]
    ghost = [sign_in("ghost", "nope", f"10.0.2.{i}") for i in range(LIMIT - 1)]
    assert {r.status_code for r in wrong + ghost} == {200}
    assert text(wrong[0]) == text(ghost[0])  # the same "enter a correct username and password"
    locked, ghost_locked = sign_in("desk", "nope", "10.0.1.9"), sign_in("ghost", "nope", "10.0.2.9")
    assert locked.status_code == ghost_locked.status_code == 429
    assert locked.content == ghost_locked.content
    assert "Too many failed sign-ins. Try again in 60 seconds." in locked.content.decode()
    assert locked["Retry-After"] == "60"
    # Locked out: even the right password from a fresh address is refused, and nothing is signed in.
    right = sign_in("desk", PASSWORD, "10.0.3.1")
    assert right.status_code == 429 and "_auth_user_id" not in right.client.session


def test_failures_from_one_address_lock_that_address_out(desk):
    for i in range(LIMIT):
        sign_in(f"someone{i}", "nope", "10.0.0.7")
    assert sign_in("desk", PASSWORD, "10.0.0.7").status_code == 429
    assert sign_in("desk", PASSWORD, "10.0.0.8").status_code == 302  # desk itself had no failure


def test_the_cool_off_grows_during_a_lockout_and_then_passes(desk):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(LIMIT):
            sign_in("desk", "nope")
        assert sign_in("desk", "nope")["Retry-After"] == "120"  # one more failure while locked out: doubled
        assert sign_in("desk", "nope")["Retry-After"] == "240"
        # (Any try while locked out, the right password too, counts as one more failure.)
        clock.move_to(start + timedelta(seconds=241))
        assert sign_in("desk", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="desk").exists()  # a success forgets the failures


def test_staff_with_the_permission_see_and_lift_lockouts(desk):
    for _ in range(LIMIT):
        sign_in("desk", "nope")
    assert sign_in("desk", PASSWORD).status_code == 429
    guard = get_user_model().objects.create_user("guard", password=PASSWORD, is_staff=True)
    client = Client()
    client.force_login(guard)
    assert client.get("/admin/axes/accessattempt/").status_code == 403
    guard.user_permissions.add(*Permission.objects.filter(codename__in=["view_accessattempt", "delete_accessattempt"]))
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "desk" in page.content.decode()
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    client.post("/admin/axes/accessattempt/", {"action": "lift_selected", "_selected_action": ids})
    assert not AccessAttempt.objects.exists()
    assert sign_in("desk", PASSWORD).status_code == 302
