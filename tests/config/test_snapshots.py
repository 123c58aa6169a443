"""The snapshot helper (tests/snapshots.py) sees every row and column of every model of the project,
and the world (tests/world.py) has a row of every model, so a test comparing snapshots compares
something in every table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from tests.snapshots import BOOKKEEPING_FIELDS, label, project_apps, project_models, rows, snapshot

pytestmark = pytest.mark.django_db

APPS = {"config", "customers", "events", "credits", "discounts", "billing", "webhooks", "staff"}


def test_the_project_apps_are_found_and_no_library_is():
    assert {app.label for app in project_apps()} == APPS


def test_every_table_in_the_database_is_in_the_snapshot_or_belongs_to_a_library():
    """A table of a new model, or of a new app of the project, is snapshotted or this fails naming it."""
    in_snapshot = {model._meta.db_table for model in project_models()}
    of_libraries = {
        model._meta.db_table
        for app in apps.get_app_configs()
        if app.label not in {a.label for a in project_apps()}
        for model in app.get_models(include_auto_created=True)
    }
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor, include_views=False))
    assert tables - of_libraries - {"django_migrations"} == in_snapshot


def test_the_snapshot_has_every_model_of_the_five_apps():
    expected = {
        label(model) for name in APPS for model in apps.get_app_config(name).get_models(include_auto_created=True)
    }
    assert set(snapshot()) == expected
    assert {"billing.BillingTransaction", "discounts.UsageRef", "config.IdempotencyRecord"} <= expected


def test_the_snapshot_has_every_row_and_every_column(world):
    state = snapshot()
    for model in project_models():
        rows = state[label(model)]
        assert len(rows) == model._base_manager.count() > 0, f"{label(model)}: the world has no row of it"
        skip = BOOKKEEPING_FIELDS.get(label(model), set())
        columns = {f.column for f in model._meta.concrete_fields if f.name not in skip}
        assert all(set(row) == columns for row in rows), label(model)


@pytest.mark.postgres
def test_the_one_statement_snapshot_has_what_the_orm_reads(world):
    """On PostgreSQL the snapshot is one statement; it holds the rows the ORM reads, value for value."""
    state = snapshot()
    for model in project_models():
        assert [row[model._meta.pk.column] for row in state[label(model)]] == [
            str(pk) if not isinstance(pk, int) else pk
            for pk in model._base_manager.order_by("pk").values_list("pk", flat=True)
        ], label(model)
        assert len(rows(model)) == len(state[label(model)])


def test_the_snapshot_sees_a_changed_column_and_a_new_row(world):
    before = snapshot()
    world.a.customer.first_name = "Changed"
    world.a.customer.save(update_fields=["first_name"])
    assert snapshot() != before
    changed = snapshot()
    world.b.api().post("/customers/membership-types", {"name": "Bronze"})
    assert snapshot() != changed


def test_bookkeeping_fields_are_left_out_and_only_they(world):
    before = snapshot()
    api_client = world.a.client()[0]
    type(api_client).objects.filter(pk=api_client.pk).update(last_used_at=timezone.now() - timedelta(days=400))
    assert snapshot() == before
    for name, fields in BOOKKEEPING_FIELDS.items():
        model = apps.get_model(name)
        assert fields <= {f.name for f in model._meta.concrete_fields}, name
