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
