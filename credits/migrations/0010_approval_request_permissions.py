"""Both staff groups see approval requests (the Credit desk files them); deciding them
(customers.approve_approvalrequest) is given to people, not to a group, by an administrator."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Credit desk", "Viewer"]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="customers", codename="view_approvalrequest")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def ungrant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for permission in Permission.objects.filter(content_type__app_label="customers", codename="view_approvalrequest"):
        for group in Group.objects.filter(name__in=GROUPS):
            group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0009_lean_indexes"),
        ("customers", "0004_approvals"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]
