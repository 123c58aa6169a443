"""A staff session ends after SESSION_IDLE_TIMEOUT_SECONDS without a request; each request starts the
count again."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from config.api.middleware import SessionMiddleware
from staff import sudo


def test_an_idle_session_ends_and_an_active_one_does_not(db):
    idle = settings.SESSION_IDLE_TIMEOUT_SECONDS
    user = get_user_model().objects.create_user("desk", password="unused-password-1", is_staff=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(user)
        for step in (1, 2, 3):  # active, a request just before each end: the session goes on
            clock.move_to(start + timedelta(seconds=(idle - 5) * step))
            assert client.get("/admin/").status_code == 200
        clock.move_to(start + timedelta(seconds=(idle - 5) * 3 + idle + 1))
        response = client.get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_request_that_only_reads_the_session_never_puts_old_data_back(db, rf):
    """One request reads the session while another (signing in a second factor, re-authenticating) writes
    it: the reader moves the expiry on and leaves the data as the writer left it."""
    user = get_user_model().objects.create_user("desk", password="unused-password-1", is_staff=True)
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    reader = rf.get("/admin/")
    reader.session = SessionStore(key)
    assert reader.session.get("_auth_user_id") == str(user.pk)  # read before the write below
    writer = client.session
    writer[sudo.SESSION_KEY] = 123.0
    writer.save()
    response = SessionMiddleware(lambda request: None).process_response(reader, HttpResponse())
    assert SessionStore(key).get(sudo.SESSION_KEY) == 123.0
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_IDLE_TIMEOUT_SECONDS
