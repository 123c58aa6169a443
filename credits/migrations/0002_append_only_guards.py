"""On PostgreSQL, the database itself refuses to rewrite history: no UPDATE or DELETE of credit events,
and no DELETE of credits or their uses. (SQLite, the embedded demo database, relies on the models.)"""

from django.db import migrations

from config.kernel.append_only import append_only

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


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]
    operations = [migrations.RunPython(create_function, migrations.RunPython.noop), append_only(GUARDS)]
