# Endpoints take created_by from config.kernel.history.ActorStampedModel: the column stays varchar(200)
# NOT NULL; its default '' moves from Python into the database, as on the other stamped tables.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_endpoint_expiring_soon_days")]

    operations = [
        migrations.AlterField(
            "endpoint", "created_by", models.CharField(blank=True, db_default="", editable=False, max_length=200)
        )
    ]
