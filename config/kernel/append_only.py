"""The append-only guards of the ledger tables, for migrations: on PostgreSQL a trigger on each table
refuses the named statements through benefit_ledger_refuse_change() (which credits 0002 creates); SQLite,
the embedded demo database, relies on the models. Old migrations call this: change what it does only
together with a new migration, never in place."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import migrations


def append_only(guards: Iterable[tuple[str, str]]) -> migrations.RunPython:
    """The operation that puts the trigger `<table>_append_only`, refusing `statements` ("UPDATE OR DELETE"
    or "DELETE"), on each (table, statements) of `guards`, and drops it when the migration is unapplied.
    (Made of partials, which a squashed migration can write out.)"""
    guards = tuple(guards)
    return migrations.RunPython(partial(_install, guards=guards), partial(_uninstall, guards=guards))


def _install(apps, schema_editor, *, guards) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, statements in guards:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE {statements} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION benefit_ledger_refuse_change()"
        )


def _uninstall(apps, schema_editor, *, guards) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _statements in guards:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
