"""On PostgreSQL the ledger tables refuse UPDATE and DELETE (the function comes from credits 0002)."""

from django.db import migrations

TABLES = ["billing_billingtransaction", "billing_featureusage"]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION benefit_ledger_refuse_change()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("credits", "0002_append_only_guards")]
    operations = [migrations.RunPython(install, uninstall)]
