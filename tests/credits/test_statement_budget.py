"""A redeem or a benefit use costs at most 6 SQL statements including BEGIN and COMMIT.

On PostgreSQL the write is one statement (credits/services/redeem.py), which is its own transaction (no BEGIN
or COMMIT is sent for it), and an authenticated API client is kept by the server process for
API_CLIENT_CACHE_SECONDS (customers/selectors.py): a redeem is that one statement; 2 with the client's
row read (a cold cache). The transactional tests below would see a BEGIN and COMMIT (Django logs them);
in the other tests the test's own transaction turns them into SAVEPOINT/RELEASE, which are left out. On SQLite (and on PostgreSQL with the one-statement path
switched off) the locked ORM path writes the same rows in seven statements: five, then the account's event
sequence number and the ledger event (events.services), which the one-statement path writes inside its
one statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credits.models import CreditEvent, CreditUse
from credits.services import redeem
from tests.conftest import ON_POSTGRES, credit_path


def statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def _one_use_written(credit, reference=None):
    credit.refresh_from_db()
    use = CreditUse.objects.get(credit=credit)
    assert credit.uses == 1 and use.reference == reference
    assert CreditEvent.objects.filter(credit=credit, action="used", use=use).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_credit_redeem_is_one_statement(api, credit):
    api.get("/customers/coupons")  # authenticates the client (and records last_used_at) once
    sql = statements(lambda: api.post(credit_path(credit, "/redeem"), {"reference": "till-1"}))
    assert len(sql) == 1 and sql[0].startswith("WITH locked AS"), sql
    _one_use_written(credit, "till-1")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_benefit_use_is_one_statement(api, credit):
    api.get("/customers/coupons")
    sql = statements(lambda: api.post(f"/v1/customers/{credit.customer.number}/benefits/massage/use"))
    assert len(sql) == 1 and sql[0].startswith("WITH locked AS"), sql
    _one_use_written(credit)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_client_cache_a_redeem_takes_two(api, credit, settings):
    settings.API_CLIENT_CACHE_SECONDS = 0
    api.get("/customers/coupons")
    sql = statements(lambda: api.post(credit_path(credit, "/redeem")))
    assert len(sql) == 2 and sql[0].startswith('SELECT "customers_apiclient"'), sql


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_redeem_runs_the_locked_path_in_a_transaction(api, credit):
    api.get("/customers/coupons")
    assert api.post(credit_path(credit, "/redeem")).status_code == 200
    sql = statements(lambda: api.post(credit_path(credit, "/redeem")))
    assert sql[0].startswith("WITH locked AS") and sql[1] == "BEGIN" and sql[-1] == "ROLLBACK", sql


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_redeem_and_a_benefit_use_compile_no_orm_query(api, credit, make_coupon, make_credit, monkeypatch):
    """The write's SQL is built once per process, so a request compiles no ORM query (authentication
    cached)."""
    from django.db.models.sql import compiler

    pack = make_coupon(credit.account, name="Sauna 3-pack", benefit_key="sauna", multi_use=True, max_uses=3)
    sauna = make_credit(credit.customer, pack)
    api.get("/customers/coupons")
    api.post(credit_path(sauna, "/redeem"), {"reference": "warm"})  # the first request builds the SQL text
    compiled = []
    for klass in (compiler.SQLCompiler, compiler.SQLInsertCompiler, compiler.SQLUpdateCompiler):
        monkeypatch.setattr(klass, "as_sql", _counting(klass.as_sql, compiled))
    assert api.post(credit_path(sauna, "/redeem"), {"reference": "till-2"}).status_code == 200
    assert api.post(f"/v1/customers/{credit.customer.number}/benefits/sauna/use").status_code == 204
    assert compiled == []
    sauna.refresh_from_db()
    assert sauna.uses == 3
    api.get("/customers/coupons")
    assert compiled, "the counting wrapper sees ORM queries"


def _counting(as_sql, compiled):
    def counting(self, *args, **kwargs):
        compiled.append(type(self).__name__)
        return as_sql(self, *args, **kwargs)

    return counting


@pytest.mark.django_db
def test_the_orm_path_takes_seven_statements(api, credit, monkeypatch):
    """SQLite's path (and PostgreSQL's when the one-statement path is off): the locked read, the
    reference check, the use, the counters, the history event, the sequence number, the ledger event.
    On PostgreSQL the sequence number takes two: the account's counter is locked first, then the
    account's events still without a number (the one-statement path's) are numbered before this one."""
    monkeypatch.setattr(redeem, "FAST_PATH", False)
    api.get("/customers/coupons")
    sql = statements(lambda: api.post(credit_path(credit, "/redeem"), {"reference": "till-1"}))
    assert len(sql) == (8 if ON_POSTGRES else 7), sql
    _one_use_written(credit, "till-1")


@pytest.mark.django_db
def test_a_redeem_takes_one_statement_on_postgresql_and_seven_elsewhere(api, credit):
    """PostgreSQL (production): one statement. SQLite (`make run`): the ORM path's seven."""
    api.get("/customers/coupons")
    sql = statements(lambda: api.post(credit_path(credit, "/redeem"), {"reference": "till-1"}))
    assert len(sql) == (1 if ON_POSTGRES else 7), sql
    _one_use_written(credit, "till-1")
