"""On PostgreSQL the ledger tables refuse UPDATE and DELETE (the function comes from credits 0002)."""

from django.db import migrations

from config.kernel.append_only import append_only

TABLES = ["billing_billingtransaction", "billing_featureusage"]


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("credits", "0002_append_only_guards")]
    operations = [append_only((table, "UPDATE OR DELETE") for table in TABLES)]
