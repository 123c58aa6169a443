"""On PostgreSQL the event log refuses UPDATE and DELETE (the function comes from credits 0002)."""

from django.db import migrations

from config.kernel.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial"), ("credits", "0002_append_only_guards")]
    operations = [append_only([("events_event", "UPDATE OR DELETE")])]
