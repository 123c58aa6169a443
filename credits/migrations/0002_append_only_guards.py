"""On PostgreSQL, the database itself refuses to rewrite history: no UPDATE or DELETE of credit events,
and no DELETE of credits or their uses. (SQLite, the embedded demo database, relies on the models.)"""

from django.db import migrations

GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION benefit_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% on %% is not allowed: financial history is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

GUARDS = [
    ("credits_creditevent", "UPDATE OR DELETE"),
    ("credits_customercredit", "DELETE"),
    ("credits_credituse", "DELETE"),
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(GUARD_FUNCTION)
    for table, operations in GUARDS:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE {operations} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION benefit_ledger_refuse_change()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _operations in GUARDS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
