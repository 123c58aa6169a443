"""The two staff groups: `Credit desk` (view customers, coupons and credits; issue, redeem and revoke
credits) and `Viewer` (view only)."""

from django.db import migrations

from config.kernel.group_permissions import create_all_permissions, permission

CREDIT_DESK = "Credit desk"
VIEWER = "Viewer"

VIEW_MODELS = [
    ("customers", "customer"),
    ("customers", "membershiptype"),
    ("customers", "membership"),
    ("credits", "coupon"),
    ("credits", "customercredit"),
    ("credits", "credituse"),
    ("credits", "creditevent"),
    ("credits", "membershipcreditrule"),
]
DESK_EXTRA = [
    ("credits", "add_customercredit"),
    ("credits", "redeem_customercredit"),
    ("credits", "revoke_customercredit"),
]


def create_groups(apps, schema_editor):
    create_all_permissions(apps)
    Group = apps.get_model("auth", "Group")
    view_perms = [permission(apps, app, f"view_{model}") for app, model in VIEW_MODELS]
    viewer, _ = Group.objects.get_or_create(name=VIEWER)
    viewer.permissions.set(view_perms)
    desk, _ = Group.objects.get_or_create(name=CREDIT_DESK)
    desk.permissions.set(view_perms + [permission(apps, app, codename) for app, codename in DESK_EXTRA])


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[CREDIT_DESK, VIEWER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0002_append_only_guards"),
        ("customers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
