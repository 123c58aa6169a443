"""What the data migrations that give the staff groups their permissions share. Each takes the migration's
`apps` and reads Group and Permission through it (the historical models), so a migration calling them
does the same whatever the models become. Old migrations call these: change what they do only together
with a new migration, never in place."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_all_permissions(apps) -> None:
    """Make every model's permissions now: Django creates them after all migrations have run (on
    post_migrate), too late for a migration that hands them to a group."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def permission(apps, app_label: str, codename: str):
    """The one permission `codename` of `app_label` (DoesNotExist when there is none)."""
    return apps.get_model("auth", "Permission").objects.get(content_type__app_label=app_label, codename=codename)


def grant(apps, groups: Iterable[str], permissions: Iterable[tuple[str, str]]) -> None:
    """Add the (app_label, codename) `permissions` to each of the named `groups` that exists, after
    creating every permission; a permission that still does not exist is an error."""
    create_all_permissions(apps)
    perms = [permission(apps, app_label, codename) for app_label, codename in permissions]
    for group in apps.get_model("auth", "Group").objects.filter(name__in=list(groups)):
        group.permissions.add(*perms)


def revoke(apps, groups: Iterable[str], **permission_filter) -> None:
    """Take the permissions matching `permission_filter` (Permission field lookups) from each of the named
    `groups`; none matching is not an error."""
    perms = apps.get_model("auth", "Permission").objects.filter(**permission_filter)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=list(groups)):
        group.permissions.remove(*perms)


def grant_one(groups: Iterable[str], app_label: str, codename: str) -> migrations.RunPython:
    """The operation that grants the one permission to the named groups, and takes it from them when the
    migration is unapplied. (Made of partials, which a squashed migration can write out.)"""
    names = dict(groups=tuple(groups), app_label=app_label, codename=codename)
    return migrations.RunPython(partial(_grant_one, **names), partial(_revoke_one, **names))


def _grant_one(apps, schema_editor, *, groups, app_label, codename) -> None:
    grant(apps, groups, [(app_label, codename)])


def _revoke_one(apps, schema_editor, *, groups, app_label, codename) -> None:
    revoke(apps, groups, content_type__app_label=app_label, codename=codename)
