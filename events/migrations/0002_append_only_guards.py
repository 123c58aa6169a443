"""On PostgreSQL the event log refuses UPDATE and DELETE (the function comes from credits 0002)."""

from django.db import migrations


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE TRIGGER events_event_append_only BEFORE UPDATE OR DELETE ON events_event "
            "FOR EACH ROW EXECUTE FUNCTION benefit_ledger_refuse_change()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS events_event_append_only ON events_event")


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("credits", "0002_append_only_guards")]
    operations = [migrations.RunPython(install, uninstall)]
