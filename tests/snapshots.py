"""One snapshot of every row of every model of the project, to prove that a request changed nothing.

The models are found through `django.apps`: every installed app whose code lives in this project
(config, customers, credits, discounts, billing, and any app added later), with every model of it,
auto-created many-to-many tables included. A new model is covered without editing this file;
tests/config/test_snapshots.py checks that nothing escapes it."""

from __future__ import annotations

import sys
from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings
from django.db import models

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


def rows(model: type[models.Model]) -> list[dict]:
    """All rows of one model, in primary-key order, every column but the bookkeeping ones."""
    skip = BOOKKEEPING_FIELDS.get(label(model), frozenset())
    columns = [f.attname for f in model._meta.concrete_fields if f.name not in skip]
    return list(model._base_manager.order_by("pk").values(*columns))


def snapshot() -> dict[str, list[dict]]:
    """Every row of every project model, keyed by "app_label.Model": equal snapshots mean nothing
    was created, changed or deleted in between."""
    return {label(model): rows(model) for model in project_models()}
