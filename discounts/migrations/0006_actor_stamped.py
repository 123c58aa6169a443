# Rules and customer discounts take their actor columns from config.kernel.history.ActorStampedModel: the
# columns stay what they were (varchar(200) NOT NULL); they gain the database default '' the other stamped
# tables have, so a row written by raw SQL without an actor is still a valid row.

from django.db import migrations, models

STAMPED = [("discountrule", "created_by"), ("discountrule", "updated_by"), ("discountref", "created_by")]


class Migration(migrations.Migration):
    dependencies = [("discounts", "0005_customer_discount_names")]

    operations = [
        migrations.AlterField(
            model_name, name, models.CharField(blank=True, db_default="", editable=False, max_length=200)
        )
        for model_name, name in STAMPED
    ]
