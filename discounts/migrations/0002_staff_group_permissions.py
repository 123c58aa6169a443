"""Staff groups see discount rules and discount refs (view only; rules are changed by admins)."""

from django.db import migrations

from config.kernel.group_permissions import grant, revoke

VIEW = [("discounts", "discountrule"), ("discounts", "discountref"), ("discounts", "usageref")]


GROUPS = ["Credit desk", "Viewer"]


def grant_view(apps, schema_editor):
    grant(apps, GROUPS, [(a, f"view_{m}") for a, m in VIEW])


def revoke_view(apps, schema_editor):
    revoke(apps, GROUPS, content_type__app_label="discounts", codename__startswith="view_")


class Migration(migrations.Migration):
    dependencies = [("discounts", "0001_initial"), ("credits", "0003_staff_groups")]
    operations = [migrations.RunPython(grant_view, revoke_view)]
