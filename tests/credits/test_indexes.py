"""The indexes of the three tables every issue, use and bulk grant writes (credits/migrations/0009): no
foreign key index that another index already leads with, and partial indexes for mostly-NULL keys. An
index added here costs every bulk grant a write per row: this test makes adding one a decision."""

import pytest
from django.db import connection

from credits.models import CreditEvent, CreditUse, CustomerCredit

pytestmark = pytest.mark.django_db

EXPECTED = {
    CustomerCredit: {
        "credit_account_expiry",
        "credit_account_newest",
        "credit_account_revoked",
        "credit_customer_newest",
        "credit_issued_by_client",
        "credit_issued_by_user",
        "credit_membership",
        "credit_once_per_batch",
        "credit_once_per_rule_period",
        "credits_customercredit_coupon_id_a1857462",
    },
    CreditUse: {
        "credit_use_reference_once",
        "credit_use_reversed_at",
        "credit_use_used_at",
        "credit_use_used_by_client",
        "credit_use_used_by_user",
        "credits_credituse_credit_id_c346cffc",
    },
    CreditEvent: {"credit_event_api_client", "credit_event_credit_time", "credit_event_use", "credit_event_user"},
}


@pytest.mark.parametrize("model", list(EXPECTED), ids=lambda model: model.__name__)
def test_each_written_table_has_exactly_its_indexes(model):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    indexes = {
        name
        for name, info in constraints.items()
        if info["index"] and not info["primary_key"] and not name.startswith("sqlite_autoindex")
    }
    assert indexes == EXPECTED[model]


@pytest.mark.parametrize("model", list(EXPECTED), ids=lambda model: model.__name__)
def test_every_foreign_key_is_still_indexed(model):
    """Each foreign key leads some index (a PROTECT check or a lookup by it never scans the table)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    leading = {info["columns"][0] for info in constraints.values() if info["index"] or info["unique"]}
    foreign_keys = {field.column for field in model._meta.concrete_fields if field.is_relation}
    assert foreign_keys <= leading, foreign_keys - leading
