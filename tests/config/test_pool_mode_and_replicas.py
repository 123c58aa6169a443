"""DATABASE_POOL_MODE and DATABASE_REPLICA_URLS: the settings they produce, the statements a connection
behind a transaction pooler sends, and how a request's reads choose a replica. The same properties on a
real PgBouncer and a real streaming replica: tests/rehearsal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.db import connection

from config import replicas
from config.postgresql.base import DatabaseWrapper
from tests.conftest import ON_POSTGRES


def settings_of(**env) -> dict:
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'databases': s.DATABASES, 'routers': s.DATABASE_ROUTERS, "
        "'middleware': s.MIDDLEWARE, 'prepared': s.DB_PREPARED_STATEMENTS}, default=str))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


def test_transaction_pooling_sends_no_startup_options_and_prepares_nothing():
    session = settings_of()["databases"]["default"]
    assert "statement_timeout=4000" in session["OPTIONS"]["options"] and session["OPTIONS"]["prepare_threshold"] == 5
    pooled = settings_of(DATABASE_POOL_MODE="transaction")
    default = pooled["databases"]["default"]
    assert "options" not in default["OPTIONS"] and default["OPTIONS"]["prepare_threshold"] is None
    assert default["POOL_MODE"] == "transaction" and pooled["prepared"] is False
    assert default["LOCAL_SETTINGS"] == {"statement_timeout": 4000, "idle_in_transaction_session_timeout": 10000}


def test_replica_urls_add_directly_read_replicas_a_router_and_the_middleware():
    none = settings_of()
    assert list(none["databases"]) == ["default"] and none["routers"] == []
    assert "config.replicas.ReplicaMiddleware" not in none["middleware"]
    two = settings_of(
        DATABASE_POOL_MODE="transaction",
        DATABASE_REPLICA_URLS="postgres://u@r1:5432/x, postgres://u@r2:5433/x",
    )
    assert list(two["databases"]) == ["default", "replica1", "replica2"]
    replica = two["databases"]["replica2"]
    assert (replica["HOST"], replica["PORT"], replica["POOL_MODE"]) == ("r2", 5433, "session")
    assert "statement_timeout" in replica["OPTIONS"]["options"]  # not behind the pooler
    assert (
        two["routers"] == ["config.replicas.ReplicaRouter"] and "config.replicas.ReplicaMiddleware" in two["middleware"]
    )


# --- the statements behind a transaction pooler (on the test database, without a pooler) ------------


@pytest.fixture
def pooled(db):
    if not ON_POSTGRES:
        pytest.skip("PostgreSQL only")
    settings = {**connection.settings_dict, "POOL_MODE": "transaction"}
    settings["OPTIONS"] = {key: value for key, value in settings["OPTIONS"].items() if key != "options"}
    settings["LOCAL_SETTINGS"] = {"statement_timeout": 1234, "idle_in_transaction_session_timeout": 5678}
    wrapper = DatabaseWrapper(settings, alias="pooled")
    yield wrapper
    wrapper.close()


def current(wrapper, *names) -> tuple:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
        return cursor.fetchone()


@pytest.mark.postgres
def test_statements_carry_their_timeouts_and_leave_nothing_on_the_session(pooled):
    assert current(pooled, "statement_timeout") == ("1234ms",)  # outside a transaction: per statement
    pooled.set_autocommit(False)
    assert current(pooled, "statement_timeout", "idle_in_transaction_session_timeout") == ("1234ms", "5678ms")
    assert current(pooled, "statement_timeout") == ("1234ms",)  # still, later in the transaction
    pooled.commit()
    pooled.set_autocommit(True)
    with pooled.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")  # not prefixable: sent alone, as is
        assert cursor.fetchone() != ("1234ms",)  # the session kept nothing


@pytest.mark.postgres
def test_no_server_side_cursor_outside_a_transaction_and_a_plain_one_inside(pooled):
    import psycopg

    with pooled.chunked_cursor() as cursor:
        assert not isinstance(cursor.cursor, psycopg.ServerCursor)
        cursor.execute("SELECT 1")
        with pooled.cursor() as other:
            other.execute("SELECT count(*) FROM pg_cursors")
            assert other.fetchone() == (0,)
    pooled.set_autocommit(False)
    with pooled.chunked_cursor() as cursor:
        cursor.execute("SELECT generate_series(1, 3)")
        cursor.fetchmany(1)
        with pooled.cursor() as other:
            other.execute("SELECT count(*), bool_or(is_holdable) FROM pg_cursors")
            assert other.fetchone() == (1, False)  # ends with the transaction
    pooled.rollback()
    pooled.set_autocommit(True)


@pytest.mark.postgres
def test_the_redeem_statement_is_bound_on_the_client_behind_a_pooler(pooled):
    import psycopg

    with pooled.prepared_cursor() as cursor:
        assert isinstance(cursor.cursor, psycopg.ClientCursor)
        cursor.execute("SELECT %(a)s::int + 1", {"a": 1})
        assert cursor.fetchone() == (2,)
    with pooled.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)


# --- which database a request reads from --------------------------------------------------------------


@pytest.fixture
def two_replicas(settings, monkeypatch):
    monkeypatch.setattr(replicas, "replica_aliases", lambda: ["replica1", "replica2"])
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    status = {"replica1": (replicas.lsn("0/3000"), 0.1), "replica2": (replicas.lsn("0/5000"), 0.2)}
    monkeypatch.setattr(replicas, "replica_status", lambda alias, fresh=False: status[alias])
    monkeypatch.setattr(replicas.random, "shuffle", lambda aliases: aliases.sort())
    return status


def choose(keys, *, reads=True, wrote=False) -> str:
    state = replicas._Request(reads=reads, keys=keys, wrote=wrote)
    token = replicas._state.set(state)
    try:
        return replicas.read_alias()
    finally:
        replicas._state.reset(token)


def test_a_client_that_wrote_reads_only_from_a_replica_that_has_replayed_its_write(two_replicas, settings):
    from django.core.cache import cache

    cache.set(replicas._CACHE_PREFIX + "writer", "0/4000")
    assert choose([]) == "replica1"  # nothing written: the first replica
    assert choose(["writer"]) == "replica2"  # replica1 (0/3000) has not replayed 0/4000
    cache.set(replicas._CACHE_PREFIX + "writer", "0/6000")
    assert choose(["writer"]) == "default"  # no replica has it yet
    assert choose([], reads=False) == "default"  # a request that may write
    assert choose([], wrote=True) == "default"  # a GET that wrote (the liability page's refresh) reads it back


def test_a_lagging_or_unreachable_replica_is_skipped(two_replicas, monkeypatch):
    two_replicas["replica1"] = (replicas.lsn("0/9000"), 6.0)  # further behind than 5 s
    assert choose([]) == "replica2"
    two_replicas["replica2"] = None  # unreachable
    assert choose([]) == "default"


def test_an_unreachable_cache_sends_a_writer_to_the_primary(two_replicas, monkeypatch):
    def broken(keys):
        raise ConnectionError("redis down")

    monkeypatch.setattr(replicas.cache, "get_many", broken)
    monkeypatch.setattr(replicas, "_down_until", {})
    assert choose(["writer"]) == "default"
    assert choose([]) == "replica1"  # no credential: no write of its own to wait for


@pytest.mark.django_db
def test_a_write_position_the_cache_could_not_keep_sends_the_writer_to_the_primary_for_the_lag_window(
    two_replicas, monkeypatch, settings
):
    """The cache fails the write of a writer's position: the writer's reads use the primary until any
    replica allowed to serve (at most DATABASE_REPLICA_MAX_LAG_SECONDS behind) has its write, even once the
    cache answers again with the writer's older position; other clients are not pinned."""
    from django.core.cache import cache

    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 30
    clock = [1000.0]
    monkeypatch.setattr(replicas, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(replicas, "_down_until", {})
    monkeypatch.setattr(replicas, "_pinned", {}, raising=False)
    cache.set(replicas._CACHE_PREFIX + "writer", "0/1000")  # an older write, which every replica has
    assert choose(["writer"]) == "replica1"

    def broken(values, timeout=None):
        raise ConnectionError("redis down")

    with monkeypatch.context() as failing:
        failing.setattr(replicas.cache, "set_many", broken)
        replicas.remember_write(["writer"])
    assert cache.get(replicas._CACHE_PREFIX + "writer") == "0/1000"  # the position was not kept
    assert choose(["writer"]) == "default"
    clock[0] += replicas.RETRY_SECONDS + 0.1  # the cache is asked again (and answers the old position)
    assert choose(["other"]) == "replica1"
    assert choose(["writer"]) == "default"  # still pinned: the lag window has not passed
    clock[0] = 1000.0 + 30 + 0.1  # DATABASE_REPLICA_MAX_LAG_SECONDS after the write
    assert choose(["writer"]) == "replica1"


def test_log_positions_compare_as_numbers():
    assert replicas.lsn("0/FFFFFFFF") < replicas.lsn("1/0") < replicas.lsn("1/10") < replicas.lsn("A/0")


def test_a_read_that_failed_on_a_replica_gone_since_is_served_again_by_the_primary(two_replicas, rf):
    from django.http import HttpResponse

    served_by = []

    def view(request):
        served_by.append(replicas.read_alias())
        if served_by[-1] == "replica1":
            two_replicas["replica1"] = None  # the replica stops under the request
            return HttpResponse(status=503)
        return HttpResponse(status=200)

    middleware = replicas.ReplicaMiddleware(view)
    assert middleware(rf.get("/customers/customers")).status_code == 200
    assert served_by == ["replica1", "default"]
    served_by.clear()
    assert middleware(rf.get("/customers/customers")).status_code == 200
    assert served_by == ["replica2"]  # the next request picks a replica that answers


def test_a_failed_read_is_not_run_again_while_its_replica_answers(two_replicas, rf):
    from django.http import HttpResponse

    calls = []

    def view(request):
        calls.append(replicas.read_alias())
        return HttpResponse(status=500)  # the view's own failure, not the replica's

    assert replicas.ReplicaMiddleware(view)(rf.get("/customers/customers")).status_code == 500
    assert calls == ["replica1"]
