import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.kernel.history import ActorStampedModel, RecordedByModel
from customers.models import Account, ApiClient, Customer


class DiscountRule(ActorStampedModel):
    """A discount (Dintero style): a reward, optional stamp-card requirement and limits. `reward` and
    `purchase_from` never change after creation; a deleted rule is kept (soft delete)."""

    class RewardType(models.TextChoices):
        AMOUNT = "discount_amount"
        PERCENT = "discount_percent"
        ITEM_QUANTITY = "discount_item_quantity"
        ITEM_PERCENT = "discount_item_percent"
        DEBIT = "discount_debit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="discount_rules")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    private = models.BooleanField(default=False)
    purchase_from = models.DateTimeField()
    purchase_to = models.DateTimeField(null=True, blank=True)
    reward_type = models.CharField(max_length=32, choices=RewardType.choices)
    # Minor units for amounts (whole), a percent for percent rewards (up to 4 decimals, e.g. 10.5).
    reward_value = models.DecimalField(max_digits=23, decimal_places=4)
    requirement_stamp = models.PositiveIntegerField(null=True, blank=True)
    requirement_gross_amount = models.BigIntegerField(null=True, blank=True)
    # -1 means unlimited, as the vendor writes it; kept as given so that it is answered back as given.
    limitation_repeat_usage = models.IntegerField(null=True, blank=True)
    limitation_reward_usage = models.IntegerField(null=True, blank=True)
    receipt_text = models.CharField(max_length=500, blank=True)
    campaign_id = models.CharField(max_length=255, blank=True)
    links = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.CharField(max_length=200, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(reward_value__gte=0), name="discount_reward_value_non_negative"),
            models.CheckConstraint(
                condition=~Q(reward_type__in=["discount_percent", "discount_item_percent"])
                | Q(reward_value__gte=1, reward_value__lte=100),
                name="discount_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(purchase_to__isnull=True) | Q(purchase_to__gt=models.F("purchase_from")),
                name="discount_purchase_window",
            ),
            models.CheckConstraint(
                condition=Q(requirement_stamp__isnull=True) | Q(requirement_stamp__gte=1),
                name="discount_stamp_positive",
            ),
            models.CheckConstraint(
                condition=Q(limitation_repeat_usage__isnull=True)
                | Q(limitation_repeat_usage=-1)
                | Q(limitation_repeat_usage__gte=1),
                name="discount_repeat_usage_valid",
            ),
            models.CheckConstraint(
                condition=Q(limitation_reward_usage__isnull=True)
                | Q(limitation_reward_usage=-1)
                | Q(limitation_reward_usage__gte=1),
                name="discount_reward_usage_valid",
            ),
        ]
        indexes = [models.Index(fields=["account", "created_at", "id"], name="discount_rule_account_order")]

    def __str__(self) -> str:
        return self.name

    @property
    def state(self) -> str:
        if self.deleted_at is not None:
            return "deleted"
        return "active" if self.active else "inactive"

    @staticmethod
    def limit(value: int | None) -> int | None:
        """A limitation as a bound: None for unset or -1 (unlimited)."""
        return None if value is None or value < 0 else value


class DiscountRef(ActorStampedModel):
    """One customer's holding of one rule, with its statistics: exact sums over its usage refs, written
    by the service in the same transaction as each entry, so reading them never scans the entries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="discount_refs")
    rule = models.ForeignKey(DiscountRule, on_delete=models.PROTECT, related_name="refs")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="discount_refs")
    given = models.BooleanField(default=False, help_text="Given to the customer (private rules need this).")
    stamp = models.BigIntegerField(default=0)
    used = models.BigIntegerField(default=0)
    usage = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = None  # changes are not stamped: no updated_by column

    class Meta:
        # A customer's holding of a rule: the vendor's "discount ref", what the desk calls the customer's
        # discount (or stamp card).
        verbose_name = "customer discount"
        verbose_name_plural = "customer discounts"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "customer"], name="discount_ref_once_per_customer"),
            models.CheckConstraint(condition=Q(used__gte=0) & Q(usage__gte=0), name="discount_ref_counts_non_negative"),
        ]
        # The usages list pages by (created_at, id) within a rule: an index range scan, never an offset.
        indexes = [models.Index(fields=["rule", "created_at", "id"], name="discount_ref_rule_order")]

    def __str__(self) -> str:
        return f"{self.rule} for {self.customer}"


class DiscountClaim(RecordedByModel):
    """A point of sale's claim of discount rewards for one purchase (the vendor's
    `available_for_receipt/claims`): written once, with the usage refs it recorded, in one transaction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="discount_claims")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="discount_claims")
    customer_key = models.CharField(max_length=255, help_text="The customer id as the client gave it.")
    ref = models.CharField(max_length=255, null=True, blank=True)
    type = models.CharField(max_length=255, blank=True)
    purchase_at = models.DateTimeField()
    discounts = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A ref names one claim: a second claim with it is a retry (same body) or a conflict.
            models.UniqueConstraint(
                fields=["account", "ref"], condition=Q(ref__isnull=False), name="discount_claim_ref_once"
            ),
        ]
        indexes = [models.Index(fields=["account", "created_at", "id"], name="discount_claim_account_order")]

    def __str__(self) -> str:
        return f"claim {self.ref or self.id}"


class UsageRef(RecordedByModel):
    """One receipt entry of a discount ref: a `receipt_add`, or a `receipt_remove` that negates one."""

    class RefType(models.TextChoices):
        ADD = "receipt_add"
        REMOVE = "receipt_remove"

    id = models.BigAutoField(primary_key=True)
    discount_ref = models.ForeignKey(DiscountRef, on_delete=models.PROTECT, related_name="entries")
    ref = models.CharField(max_length=255)
    ref_type = models.CharField(max_length=16, choices=RefType.choices)
    usage = models.BigIntegerField()
    stamp = models.BigIntegerField()
    amount = models.BigIntegerField()
    purchase_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    claim = models.ForeignKey(DiscountClaim, on_delete=models.PROTECT, null=True, blank=True, related_name="usage_refs")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # At most one add and one remove per receipt ref: retries can never count twice.
            models.UniqueConstraint(fields=["discount_ref", "ref", "ref_type"], name="usage_ref_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ref_type} {self.ref}"
