"""One snapshot of every row of every model of the project, to prove that a request changed nothing.

The models are found through `django.apps`: every installed app whose code lives in this project
(config, customers, credits, discounts, billing, and any app added later), with every model of it,
auto-created many-to-many tables included. A new model is covered without editing this file;
tests/config/test_snapshots.py checks that nothing escapes it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings
from django.db import connection, models

# Fields written by reading, not by changing anything: when an API client was last seen (written at
# most once per API_CLIENT_LAST_USED_RESOLUTION by authentication, also for a request then refused).
BOOKKEEPING_FIELDS: dict[str, frozenset[str]] = {"customers.ApiClient": frozenset({"last_used_at"})}


def project_apps() -> list[AppConfig]:
    """The installed apps whose code is in this project (not Django's, not a library's)."""
    root, environment = Path(settings.BASE_DIR).resolve(), Path(sys.prefix).resolve()  # .venv may be in root
    return [
        app
        for app in apps.get_app_configs()
        if Path(app.path).resolve().is_relative_to(root) and not Path(app.path).resolve().is_relative_to(environment)
    ]


def project_models() -> list[type[models.Model]]:
    """Every model with a table of its own in the project's apps, proxies and unmanaged ones aside."""
    return [
        model
        for app in project_apps()
        for model in app.get_models(include_auto_created=True)
        if not model._meta.proxy and model._meta.managed
    ]


def label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def columns(model: type[models.Model]) -> list[models.Field]:
    skip = BOOKKEEPING_FIELDS.get(label(model), frozenset())
    return [f for f in model._meta.concrete_fields if f.name not in skip]


def rows(model: type[models.Model]) -> list[dict]:
    """All rows of one model, in primary-key order, every column but the bookkeeping ones."""
    fields = columns(model)
    values = model._base_manager.order_by("pk").values_list(*(f.attname for f in fields))
    return [{f.column: value for f, value in zip(fields, row, strict=True)} for row in values]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every project model, keyed by "app_label.Model": equal snapshots mean nothing
    was created, changed or deleted in between. On PostgreSQL in one statement (each row as JSON, so
    values are compared as PostgreSQL writes them); elsewhere one query per model."""
    found = project_models()
    if connection.vendor != "postgresql":
        return {label(model): rows(model) for model in found}
    quote = connection.ops.quote_name
    tables = [
        "(SELECT coalesce(json_agg(t ORDER BY t.{pk}), '[]')::text FROM (SELECT {columns} FROM {table}) t)".format(
            pk=quote(model._meta.pk.column),
            columns=", ".join(quote(field.column) for field in columns(model)),
            table=quote(model._meta.db_table),
        )
        for model in found
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(tables))
        answers = cursor.fetchone()
    return {label(model): json.loads(answer) for model, answer in zip(found, answers, strict=True)}
