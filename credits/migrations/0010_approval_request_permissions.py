"""Both staff groups see approval requests (the Credit desk files them); deciding them
(customers.approve_approvalrequest) is given to people, not to a group, by an administrator."""

from django.db import migrations

from config.kernel.group_permissions import grant_one

GROUPS = ["Credit desk", "Viewer"]


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0009_lean_indexes"),
        ("customers", "0004_approvals"),
    ]

    operations = [grant_one(GROUPS, "customers", "view_approvalrequest")]
