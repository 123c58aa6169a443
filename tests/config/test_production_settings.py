"""The production settings pass `manage.py check --deploy` (HSTS preload is the one opt-in left to the
operator), and under gunicorn with them: HTTP is redirected to HTTPS except /healthz, HTTPS (as told by
the proxy's X-Forwarded-Proto) gets HSTS."""

import secrets
import subprocess
import sys

import pytest

from tests.servers import ROOT, call, free_port, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def production_env(**extra):
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        **extra,
    }


def test_check_deploy_is_clean():
    import os

    from tests.servers import database_url

    env = {**os.environ, **production_env(DATABASE_URL=database_url())}
    default = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert default.returncode == 0
    assert "security.W021" in default.stderr and "W004" not in default.stderr and "W008" not in default.stderr
    env["DJANGO_SECURE_HSTS_PRELOAD"] = "true"
    preload = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert preload.returncode == 0, preload.stderr


@pytest.fixture
def database_cache():
    """The production settings count throttles in the database cache (created by migrate under them)."""
    from django.core.management import call_command
    from django.test import override_settings

    cache = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "benefit_ledger_cache"}}
    with override_settings(CACHES=cache):
        call_command("createcachetable", verbosity=0)


def test_https_behind_the_proxy(account, make_client, customer, database_cache):
    _, secret = make_client(account)
    with gunicorn(free_port(), extra_env=production_env()) as base:
        url = f"{base}/customers/customers/{customer.pk}/credits"
        status, headers, _, _ = call("GET", url, headers={"X-API-KEY": secret})
        assert status == 301 and headers["Location"].startswith("https://")
        status, headers, _, _ = call("GET", url, headers={"X-API-KEY": secret, "X-Forwarded-Proto": "https"})
        assert status == 200 and headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert call("GET", base + "/healthz")[0] == 200  # the load balancer's check over HTTP
        # The staff pages' answers carry a strict Content-Security-Policy (no inline script). (The admin's own
        # pages need collectstatic's manifest under these settings: tests/staff/test_browser.py shows them.)
        status, headers, _, _ = call("GET", base + "/no-such-page", headers={"X-Forwarded-Proto": "https"})
        directives = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
        assert status == 404 and directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
        # The API's answers carry no staff-page header.
        _, headers, _, _ = call("GET", url, headers={"X-API-KEY": secret, "X-Forwarded-Proto": "https"})
        assert "Content-Security-Policy" not in headers and "Set-Cookie" not in headers


def test_production_enforces_the_staff_controls():
    """Second factor on, sessions that end when idle, re-authentication that lasts minutes, cookies that
    go over HTTPS only and that scripts cannot read."""
    import os

    from tests.servers import database_url

    env = {**os.environ, **production_env(DATABASE_URL=database_url())}
    code = (
        "from django.conf import settings as s; "
        "print(s.STAFF_2FA_REQUIRED, s.SESSION_COOKIE_AGE, s.STAFF_REAUTH_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY)"
    )
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert shown.stdout.splitlines()[-1].split() == ["True", "1800", "300", *["True"] * 4], shown.stderr
