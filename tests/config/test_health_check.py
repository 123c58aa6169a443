"""config/postgresql: the per-request health check of a reused connection needs no round trip while the
server has said nothing, and still replaces a connection whose session the server ended."""

import time

import psycopg
import pytest
from django.db import connections
from django.db.backends.postgresql import base as django_postgresql

from tests.conftest import ON_POSTGRES

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL backend's health check"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def wrapper():
    """A connection of its own (the test's is inside the test's transaction), as a server process holds one."""
    own = connections.create_connection("default")
    own.ensure_connection()
    yield own
    own.close()


def _pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(wrapper, pid: int) -> None:
    params = wrapper.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's last message reaches the socket


def test_a_live_idle_connection_is_judged_without_a_query(wrapper, monkeypatch):
    _pid(wrapper)

    def refuse(self):
        raise AssertionError("SELECT 1 sent to a connection the server had said nothing on")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", refuse)
    assert wrapper.is_usable() is True


def test_a_session_the_server_ended_is_seen_and_replaced_before_the_query(wrapper):
    first = _pid(wrapper)
    _terminate(wrapper, first)
    assert wrapper.is_usable() is False
    # As at the start of a request with CONN_HEALTH_CHECKS: the check closes it, the query reconnects.
    wrapper.health_check_enabled, wrapper.health_check_done = True, False
    second = _pid(wrapper)
    assert second != first


def test_inside_a_transaction_django_judges(wrapper, monkeypatch):
    asked = []
    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", lambda self: asked.append(1) or True)
    wrapper.set_autocommit(False)
    _pid(wrapper)
    assert wrapper.is_usable() is True and asked == [1]
    wrapper.rollback()
    wrapper.set_autocommit(True)
