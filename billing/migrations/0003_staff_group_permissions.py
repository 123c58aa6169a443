"""Staff groups see billing accounts and their ledger; the Credit desk may top up."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ["billingaccount", "billingtransaction", "featureusage", "project"]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = [Permission.objects.get(content_type__app_label="billing", codename=f"view_{m}") for m in VIEW]
    for group in Group.objects.filter(name__in=["Credit desk", "Viewer"]):
        group.permissions.add(*view)
    top_up = Permission.objects.get(content_type__app_label="billing", codename="add_billingtransaction")
    for group in Group.objects.filter(name="Credit desk"):
        group.permissions.add(top_up)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="billing")
    for group in Group.objects.filter(name__in=["Credit desk", "Viewer"]):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_append_only_guards"), ("credits", "0003_staff_groups")]
    operations = [migrations.RunPython(grant, revoke)]
