import uuid
from datetime import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from config.kernel.actors import actor_name
from config.kernel.history import ActorStampedModel, AppendOnlyModel
from customers.models import Account, ApiClient, Customer, Membership, MembershipType

from .validation import BENEFIT_KEY_VALIDATOR


class Coupon(ActorStampedModel):
    """The template every credit is issued from. Deactivated, never deleted."""

    class Kind(models.TextChoices):
        OFFERING = "offering"
        MONETARY = "monetary"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="coupons")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    benefit_key = models.CharField(max_length=64, null=True, blank=True, validators=[BENEFIT_KEY_VALIDATOR])
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OFFERING)
    offering = models.CharField(max_length=200, null=True, blank=True)
    value = models.BigIntegerField(null=True, blank=True, help_text="Minor units, monetary coupons only.")
    currency = models.CharField(max_length=3, null=True, blank=True)
    multi_use = models.BooleanField(default=False)
    max_uses = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    valid_for = models.CharField(max_length=32, null=True, blank=True, help_text="ISO 8601 duration, e.g. P30D")
    default_revenue = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(multi_use=True) | Q(max_uses__isnull=True), name="coupon_max_uses_multi_only"
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(max_uses__gte=1), name="coupon_max_uses_positive"
            ),
            models.CheckConstraint(condition=Q(default_revenue__gte=0), name="coupon_default_revenue_non_negative"),
            models.CheckConstraint(
                condition=~Q(kind="monetary") | Q(value__gt=0, currency__isnull=False), name="coupon_monetary_has_value"
            ),
        ]
        indexes = [models.Index(fields=["account", "benefit_key"], name="coupon_account_benefit_key")]

    def __str__(self) -> str:
        return self.name

    @property
    def spendable_value(self) -> int | None:
        """What a credit of this coupon starts with to spend (CustomerCredit.remaining_value): the value of a
        monetary coupon, None for an offering."""
        return self.value if self.kind == self.Kind.MONETARY else None


class CreditQuerySet(models.QuerySet):
    def fully_used_q(self) -> Q:
        """A monetary credit (remaining_value set) is fully used when nothing is left to spend; any other
        when its uses reach the limit."""
        by_count = Q(multi_use=False, uses__gte=1) | Q(multi_use=True, max_uses__isnull=False, uses__gte=F("max_uses"))
        return Q(remaining_value=0) | (Q(remaining_value__isnull=True) & by_count)

    def usable(self, now: datetime | None = None):
        """Credits that can be used now: the definition of status `active`, in SQL, so that a row lock's
        re-check under concurrency applies it to the row's newest version."""
        now = now or timezone.now()
        return (
            self.filter(revoked_at__isnull=True)
            .exclude(self.fully_used_q())
            .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gt=now))
        )

    def with_status(self, now: datetime | None = None):
        now = now or timezone.now()
        return self.annotate(
            computed_status=models.Case(
                models.When(revoked_at__isnull=False, then=models.Value("revoked")),
                models.When(self.fully_used_q(), then=models.Value("redeemed")),
                models.When(expiry_date__lte=now, then=models.Value("expired")),
                default=models.Value("active"),
                output_field=models.CharField(),
            )
        )


class CustomerCredit(models.Model):
    """One coupon issued to one customer. `uses`, `revenue_recognised` and `redeemed_at` are caches of
    the CreditUse rows, written only by credits.services in the same transaction as those rows."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        API = "api"
        BULK = "bulk"
        MEMBERSHIP = "membership"

    class Status(models.TextChoices):
        ACTIVE = "active"
        REDEEMED = "redeemed"
        EXPIRED = "expired"
        REVOKED = "revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Foreign keys without an index of their own are covered by an index below that leads with them, or
    # by a partial one that leaves out NULL (most credits have no membership, rule or issuing user): every
    # index is written on every insert, and bulk grants insert a million rows (see the Meta's indexes).
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credits", db_index=False)
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="credits")
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="credits", db_index=False
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    multi_use = models.BooleanField(default=False)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    expiry_date = models.DateTimeField(null=True, blank=True)
    revenue = models.BigIntegerField(default=0)
    revenue_recognised = models.BigIntegerField(default=0)
    # Monetary credits only (None for an offering): the money left to spend, in minor units of the coupon's
    # currency. It starts at the coupon's value, each use takes its amount, a reversed use gives it back;
    # the credit is fully used when it reaches 0 (the use count sets no limit on a monetary credit).
    remaining_value = models.BigIntegerField(null=True, blank=True, editable=False)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, null=True, blank=True)
    issued_by = models.CharField(max_length=200)
    issued_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    issued_by_client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Bulk grants: the batch and the input row that granted this credit (exactly once per batch key).
    batch_key = models.CharField(max_length=100, null=True, blank=True, editable=False)
    batch_row = models.BigIntegerField(null=True, blank=True, editable=False)
    # Membership credit rules: the rule, period and n-th credit of that period (exactly once each).
    rule = models.ForeignKey(  # indexed by credit_once_per_rule_period, which leads with it
        "MembershipCreditRule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credits",
        editable=False,
        db_index=False,
    )
    period_start = models.DateTimeField(null=True, blank=True, editable=False)
    period_nth = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    objects = CreditQuerySet.as_manager()

    class Meta:
        verbose_name = "customer credit"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("redeem_customercredit", "Can redeem customer credits and reverse their uses"),
            ("revoke_customercredit", "Can revoke customer credits"),
            ("view_liability_report", "Can view the liability report"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(multi_use=True) | Q(max_uses__isnull=True), name="credit_max_uses_multi_only"
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(max_uses__gte=1), name="credit_max_uses_positive"
            ),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="credit_revenue_non_negative"),
            models.CheckConstraint(
                condition=Q(revenue_recognised__gte=0) & Q(revenue_recognised__lte=F("revenue")),
                name="credit_revenue_recognised_bounded",
            ),
            # Uses never exceed the limit: one for single-use, max_uses for limited multi-use. A monetary
            # credit is limited by its remaining value instead (it may take several partial uses).
            models.CheckConstraint(
                condition=Q(uses__gte=0)
                & (
                    Q(remaining_value__isnull=False)
                    | Q(multi_use=False, uses__lte=1)
                    | Q(multi_use=True, max_uses__isnull=True)
                    | Q(multi_use=True, uses__lte=F("max_uses"))
                ),
                name="credit_uses_within_limit",
            ),
            # A revoked credit is never also fully used: revoking a redeemed credit is refused, and a
            # revoked credit takes no further use.
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True)
                | Q(remaining_value__isnull=False, remaining_value__gt=0)
                | (
                    Q(remaining_value__isnull=True)
                    & (
                        Q(multi_use=False, uses=0)
                        | Q(multi_use=True, max_uses__isnull=True)
                        | Q(multi_use=True, uses__lt=F("max_uses"))
                    )
                ),
                name="credit_not_revoked_and_used_up",
            ),
            # Never negative: a use takes at most what is left.
            models.CheckConstraint(
                condition=Q(remaining_value__isnull=True) | Q(remaining_value__gte=0),
                name="credit_remaining_value_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["manual", "api", "bulk", "membership"]), name="credit_source_known"
            ),
            models.UniqueConstraint(
                fields=["batch_key", "customer"], condition=Q(batch_key__isnull=False), name="credit_once_per_batch"
            ),
            models.UniqueConstraint(
                fields=["rule", "membership", "period_start", "period_nth"],
                condition=Q(rule__isnull=False),
                name="credit_once_per_rule_period",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="credit_customer_newest"),
            models.Index(fields=["account", "-created_at"], name="credit_account_newest"),
            *[
                models.Index(fields=[name], name=f"credit_{name}", condition=Q(**{f"{name}__isnull": False}))
                for name in ("membership", "issued_by_user", "issued_by_client")
            ],
            # The liability report's range scans of one month's events (credits.reports).
            models.Index(
                fields=["account", "expiry_date"], name="credit_account_expiry", condition=Q(expiry_date__isnull=False)
            ),
            models.Index(
                fields=["account", "revoked_at"], name="credit_account_revoked", condition=Q(revoked_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon} for {self.customer}"

    @property
    def use_limit(self) -> int | None:
        if not self.multi_use:
            return 1
        return self.max_uses

    @property
    def monetary(self) -> bool:
        return self.remaining_value is not None

    @property
    def fully_used(self) -> bool:
        if self.remaining_value is not None:
            return self.remaining_value == 0
        limit = self.use_limit
        return limit is not None and self.uses >= limit

    @property
    def uses_left(self) -> int | None:
        """How many more uses it takes (None: unlimited). A monetary credit takes one more use without an
        amount at least (that use spends what is left, or its even share of it, see default_amount)."""
        if self.remaining_value is not None:
            if self.remaining_value == 0:
                return 0
            limit = self.use_limit
            return 1 if limit is None else max(limit - self.uses, 1)
        limit = self.use_limit
        return None if limit is None else max(limit - self.uses, 0)

    def default_amount(self) -> int:
        """What a use of a monetary credit spends when it names no amount: all that is left, except on a
        limited multi-use credit before its last use, where it is an even share of what is left over the
        uses left (so a 4-use voucher of 200 is used up by four uses of 50, as before amounts existed)."""
        limit = self.use_limit
        if not self.multi_use or limit is None or self.uses + 1 >= limit:
            return self.remaining_value
        return self.remaining_value // (limit - self.uses)

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.fully_used:
            return self.Status.REDEEMED
        if self.expiry_date is not None and self.expiry_date <= now:
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())


class CreditUse(models.Model):
    """One use of a credit. A reversal marks it reversed; it is never deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    credit = models.ForeignKey(CustomerCredit, on_delete=models.PROTECT, related_name="use_records")
    used_at = models.DateTimeField(default=timezone.now)
    reference = models.CharField(max_length=255, null=True, blank=True)
    note = models.TextField(blank=True)
    revenue = models.BigIntegerField()
    # Monetary credits only: the money this use spent (minor units); None for a use of an offering.
    amount = models.BigIntegerField(null=True, blank=True)
    used_by = models.CharField(max_length=200)
    used_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    used_by_client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        ordering = ["used_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(revenue__gte=0), name="credit_use_revenue_non_negative"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="credit_use_amount_non_negative"
            ),
            # A retried redeem with the same reference can never record a second use.
            models.UniqueConstraint(
                fields=["credit", "reference"],
                condition=Q(reference__isnull=False, reversed_at__isnull=True),
                name="credit_use_reference_once",
            ),
        ]
        # The liability report's range scans of one month's uses and reversals (credits.reports).
        indexes = [
            models.Index(fields=["used_at"], name="credit_use_used_at"),
            models.Index(fields=["reversed_at"], name="credit_use_reversed_at", condition=Q(reversed_at__isnull=False)),
            # Partial: only the uses a user or a client made (a foreign key's index otherwise holds every NULL).
            *[
                models.Index(fields=[name], name=f"credit_use_{name}", condition=Q(**{f"{name}__isnull": False}))
                for name in ("used_by_user", "used_by_client")
            ],
        ]

    def __str__(self) -> str:
        # In the zone active for the request (the account's on a staff page), named.
        return f"use of {self.credit_id} at {timezone.localtime(self.used_at):%Y-%m-%d %H:%M %Z}"


class CreditEvent(AppendOnlyModel):
    """The append-only history of a credit: every change, who made it, when and why."""

    class Action(models.TextChoices):
        ISSUED = "issued"
        USED = "used"
        REVOKED = "revoked"
        USE_REVERSED = "use_reversed"

    id = models.BigAutoField(primary_key=True)
    # Written once per issue, use, revoke and reversal, so its indexes are few: the credit's is
    # credit_event_credit_time (which leads with it), the others leave out NULL.
    credit = models.ForeignKey(CustomerCredit, on_delete=models.PROTECT, related_name="events", db_index=False)
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    api_client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    use = models.ForeignKey(
        CreditUse, on_delete=models.PROTECT, null=True, blank=True, related_name="events", db_index=False
    )
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["credit", "created_at"], name="credit_event_credit_time"),
            *[
                models.Index(fields=[name], name=f"credit_event_{name}", condition=Q(**{f"{name}__isnull": False}))
                for name in ("user", "api_client", "use")
            ],
        ]

    def __str__(self) -> str:
        return f"{self.action} by {actor_name(self.actor)}"


class MembershipCreditRule(ActorStampedModel):
    """Issues a coupon's credits to the members of a membership type on a schedule."""

    class Frequency(models.TextChoices):
        BILLING_CYCLE = "billing_cycle", "Every billing cycle (monthly)"
        ONCE = "P0D", "Once, at signup"
        MONTHLY = "P1M", "Monthly"
        QUARTERLY = "P3M", "Every 3 months"
        HALF_YEARLY = "P6M", "Every 6 months"
        YEARLY = "P1Y", "Yearly"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="membership_credit_rules")
    membership_type = models.ForeignKey(MembershipType, on_delete=models.PROTECT, related_name="credit_rules")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="membership_rules")
    issuing_frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.BILLING_CYCLE)
    roll_over = models.BooleanField(default=False)
    issue_on_signup = models.BooleanField(default=True)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="rule_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.coupon} for {self.membership_type} ({self.issuing_frequency})"


class LiabilityRollup(models.Model):
    """Where an account's liability rollup stands (credits.reports): the months before `closed_through`
    (in `zone`) are in LiabilityMonth; `checked_at` and `seen_reversals` say which use reversals the
    rollup already reflects. A derived cache: rebuilt from the credits at any time."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="+")
    zone = models.CharField(max_length=64)
    closed_through = models.DateField(null=True)
    checked_at = models.DateTimeField(null=True)
    seen_reversals = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"liability rollup of {self.account_id} through {self.closed_through}"


class LiabilityMonth(models.Model):
    """One closed month's flows of one coupon (events in that month, in the account's zone), as the live
    computation in credits.reports gives them; outstanding is their running sum, computed on read."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    coupon_id = models.UUIDField()
    month = models.DateField()
    issued_value = models.BigIntegerField()
    issued_count = models.BigIntegerField()
    used_value = models.BigIntegerField()
    used_count = models.BigIntegerField()
    expired_value = models.BigIntegerField()
    expired_count = models.BigIntegerField()
    revoked_value = models.BigIntegerField()
    revoked_count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "month", "coupon_id"], name="liability_month_once"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.coupon_id}"
