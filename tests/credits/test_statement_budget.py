"""A redeem costs at most 6 SQL statements including authentication (spec/quality.md). The test's own
transaction turns the service's BEGIN/COMMIT into SAVEPOINT/RELEASE, which are not counted (in
production BEGIN and COMMIT are not statements Django sends either)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import credit_path

pytestmark = pytest.mark.django_db


def statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_credit_redeem_with_a_reference_takes_six_statements(api, credit):
    api.get("/customers/coupons")  # the first request of a client records last_used_at
    sql = statements(lambda: api.post(credit_path(credit, "/redeem"), {"reference": "till-1"}))
    assert len(sql) == 6, sql
    assert credit.use_records.count() == 1


def test_credit_redeem_without_a_reference_takes_five(api, credit):
    api.get("/customers/coupons")
    assert len(statements(lambda: api.post(credit_path(credit, "/redeem")))) == 5


def test_benefit_use_takes_five_statements(api, credit):
    api.get("/customers/coupons")
    sql = statements(lambda: api.post(f"/v1/customers/{credit.customer.number}/benefits/massage/use"))
    assert len(sql) == 5, sql
    assert credit.use_records.count() == 1
