from django.db import migrations, models
from django.db.models import Q, Sum

INT64_MAX = 2**63 - 1


def fill_debited(apps, schema_editor):
    """Each account's debited total from its ledger (held to int64: a total past it could only have been
    written before debits were checked against it)."""
    BillingAccount = apps.get_model("billing", "BillingAccount")
    BillingTransaction = apps.get_model("billing", "BillingTransaction")
    totals = BillingTransaction.objects.values("billing_account_id").annotate(
        debits=Sum("amount", filter=Q(type="debit")),
        reverted=Sum("amount", filter=Q(type="credit", reverts__isnull=False)),
    )
    for row in totals.iterator():
        debited = (row["debits"] or 0) - (row["reverted"] or 0)
        if debited:
            BillingAccount.objects.filter(pk=row["billing_account_id"]).update(debited=min(debited, INT64_MAX))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_billingaccount_balance_low_threshold"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingaccount",
            name="debited",
            field=models.BigIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunPython(fill_debited, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="billingaccount",
            constraint=models.CheckConstraint(
                condition=models.Q(("debited__gte", 0)), name="billing_debited_not_negative"
            ),
        ),
    ]
