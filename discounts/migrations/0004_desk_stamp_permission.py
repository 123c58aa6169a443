"""The Credit desk works stamp cards at the desk: it may record a receipt (add a stamp, use the reward)."""

from django.db import migrations

from config.kernel.group_permissions import grant_one


class Migration(migrations.Migration):
    dependencies = [("discounts", "0003_vendor_shape_and_claims"), ("discounts", "0002_staff_group_permissions")]
    operations = [grant_one(["Credit desk"], "discounts", "add_usageref")]
