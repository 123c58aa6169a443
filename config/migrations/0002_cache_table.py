"""The database cache table: throttle counters live there when REDIS_URL is not set."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("config", "0001_idempotency_records")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
