"""The one-statement redeem and benefit use write their event without a sequence number; it is given just
after the commit (events.services.events_sequence). The append-only guard lets exactly that one change
through: a NULL sequence set, every other column unchanged."""

from django.db import migrations, models

GUARD = """
CREATE OR REPLACE FUNCTION events_event_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.sequence IS NULL AND NEW.sequence IS NOT NULL
       AND (to_jsonb(NEW) - 'sequence') = (to_jsonb(OLD) - 'sequence') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '%% on %% is not allowed: financial history is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS events_event_append_only ON events_event;
CREATE TRIGGER events_event_append_only BEFORE UPDATE OR DELETE ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_event_guard();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS events_event_append_only ON events_event;
CREATE TRIGGER events_event_append_only BEFORE UPDATE OR DELETE ON events_event
    FOR EACH ROW EXECUTE FUNCTION benefit_ledger_refuse_change();
DROP FUNCTION IF EXISTS events_event_guard();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD)


class Migration(migrations.Migration):
    dependencies = [("events", "0002_append_only_guards")]
    operations = [
        migrations.AlterField(model_name="event", name="sequence", field=models.BigIntegerField(blank=True, null=True)),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                condition=models.Q(("sequence", None)), fields=["created_at", "id"], name="event_to_number"
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
