"""Staff groups see discount rules and discount refs (view only; rules are changed by admins)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [("discounts", "discountrule"), ("discounts", "discountref"), ("discounts", "usageref")]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = [Permission.objects.get(content_type__app_label=a, codename=f"view_{m}") for a, m in VIEW]
    for group in Group.objects.filter(name__in=["Credit desk", "Viewer"]):
        group.permissions.add(*perms)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="discounts", codename__startswith="view_")
    for group in Group.objects.filter(name__in=["Credit desk", "Viewer"]):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("discounts", "0001_initial"), ("credits", "0003_staff_groups")]
    operations = [migrations.RunPython(grant, revoke)]
