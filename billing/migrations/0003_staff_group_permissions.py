"""Staff groups see billing accounts and their ledger; the Credit desk may top up."""

from django.db import migrations

from config.kernel.group_permissions import grant, revoke

VIEW = ["billingaccount", "billingtransaction", "featureusage", "project"]


def grant_billing(apps, schema_editor):
    grant(apps, ["Credit desk", "Viewer"], [("billing", f"view_{m}") for m in VIEW])
    grant(apps, ["Credit desk"], [("billing", "add_billingtransaction")])


def revoke_billing(apps, schema_editor):
    revoke(apps, ["Credit desk", "Viewer"], content_type__app_label="billing")


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_append_only_guards"), ("credits", "0003_staff_groups")]
    operations = [migrations.RunPython(grant_billing, revoke_billing)]
