"""Monetary credits keep the money left to spend (CustomerCredit.remaining_value) and each use the money it
spent (CreditUse.amount), so a voucher can be used in parts. Existing rows are filled as the rules before
amounts existed had them spend (set-based, the same SQL on PostgreSQL and SQLite):

- a use of a single-use monetary credit spent the coupon's value; of a limited multi-use one an even share
  (value / max_uses), the remainder (value % max_uses) on the last unreversed use of a credit whose uses
  reached the limit; of an unlimited multi-use one nothing (such a credit never ran out);
- a monetary credit's remaining value is the coupon's value less its unreversed uses' amounts.

So unreversed amounts plus the remaining value equal the coupon's value, a credit that was fully used has 0
left (and so is still `redeemed`), and one that was not has something left (still usable)."""

from django.db import migrations, models

MONETARY_CREDITS = (
    "SELECT k.id FROM credits_customercredit k JOIN credits_coupon p ON p.id = k.coupon_id WHERE p.kind = 'monetary'"
)

# One UPDATE per table: on PostgreSQL a row updated twice in the migration's transaction would queue its
# (deferred) foreign-key checks, and the constraints added below cannot be added while checks are pending.
BACKFILL = [
    f"""UPDATE credits_credituse SET amount = (
        SELECT CASE WHEN NOT k.multi_use THEN p.value
                    WHEN k.max_uses IS NULL THEN 0
                    ELSE p.value / k.max_uses + CASE
                        WHEN k.uses >= k.max_uses AND credits_credituse.reversed_at IS NULL AND NOT EXISTS (
                            SELECT 1 FROM credits_credituse later
                             WHERE later.credit_id = credits_credituse.credit_id AND later.reversed_at IS NULL
                               AND (later.used_at > credits_credituse.used_at
                                    OR (later.used_at = credits_credituse.used_at AND later.id > credits_credituse.id)))
                        THEN p.value % k.max_uses ELSE 0 END
               END
          FROM credits_customercredit k JOIN credits_coupon p ON p.id = k.coupon_id
         WHERE k.id = credits_credituse.credit_id)
     WHERE credit_id IN ({MONETARY_CREDITS})""",  # noqa: S608 (constants only)
    f"""UPDATE credits_customercredit SET remaining_value = (
        SELECT p.value FROM credits_coupon p WHERE p.id = credits_customercredit.coupon_id
    ) - COALESCE((
        SELECT SUM(u.amount) FROM credits_credituse u
         WHERE u.credit_id = credits_customercredit.id AND u.reversed_at IS NULL
    ), 0)
     WHERE id IN ({MONETARY_CREDITS})""",  # noqa: S608
]


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0010_approval_request_permissions"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="customercredit",
            name="credit_uses_within_limit",
        ),
        migrations.RemoveConstraint(
            model_name="customercredit",
            name="credit_not_revoked_and_used_up",
        ),
        migrations.AddField(
            model_name="credituse",
            name="amount",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="customercredit",
            name="remaining_value",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        *(migrations.RunSQL(sql, reverse_sql=migrations.RunSQL.noop) for sql in BACKFILL),
        migrations.AddConstraint(
            model_name="credituse",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__isnull", True), ("amount__gte", 0), _connector="OR"),
                name="credit_use_amount_non_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="customercredit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("uses__gte", 0),
                    models.Q(
                        ("remaining_value__isnull", False),
                        models.Q(("multi_use", False), ("uses__lte", 1)),
                        models.Q(("max_uses__isnull", True), ("multi_use", True)),
                        models.Q(("multi_use", True), ("uses__lte", models.F("max_uses"))),
                        _connector="OR",
                    ),
                ),
                name="credit_uses_within_limit",
            ),
        ),
        migrations.AddConstraint(
            model_name="customercredit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("revoked_at__isnull", True),
                    models.Q(("remaining_value__gt", 0), ("remaining_value__isnull", False)),
                    models.Q(
                        ("remaining_value__isnull", True),
                        models.Q(
                            models.Q(("multi_use", False), ("uses", 0)),
                            models.Q(("max_uses__isnull", True), ("multi_use", True)),
                            models.Q(("multi_use", True), ("uses__lt", models.F("max_uses"))),
                            _connector="OR",
                        ),
                    ),
                    _connector="OR",
                ),
                name="credit_not_revoked_and_used_up",
            ),
        ),
        migrations.AddConstraint(
            model_name="customercredit",
            constraint=models.CheckConstraint(
                condition=models.Q(("remaining_value__isnull", True), ("remaining_value__gte", 0), _connector="OR"),
                name="credit_remaining_value_non_negative",
            ),
        ),
    ]
