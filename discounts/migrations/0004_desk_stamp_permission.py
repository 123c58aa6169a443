"""The Credit desk works stamp cards at the desk: it may record a receipt (add a stamp, use the reward)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.get(content_type__app_label="discounts", codename="add_usageref")
    for group in Group.objects.filter(name="Credit desk"):
        group.permissions.add(perm)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(content_type__app_label="discounts", codename="add_usageref").first()
    for group in Group.objects.filter(name="Credit desk"):
        if perm is not None:
            group.permissions.remove(perm)


class Migration(migrations.Migration):
    dependencies = [("discounts", "0003_vendor_shape_and_claims"), ("discounts", "0002_staff_group_permissions")]
    operations = [migrations.RunPython(grant, revoke)]
