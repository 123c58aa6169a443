import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.kernel.history import AppendOnlyModel
from customers.models import Account, ApiClient, Customer


class DiscountRule(models.Model):
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
    reward_value = models.BigIntegerField()
    requirement_stamp = models.PositiveIntegerField(null=True, blank=True)
    requirement_gross_amount = models.BigIntegerField(null=True, blank=True)
    limitation_repeat_usage = models.PositiveIntegerField(null=True, blank=True)
    limitation_reward_usage = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=200, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=200, editable=False)
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
        ]
        indexes = [models.Index(fields=["account", "created_at", "id"], name="discount_rule_account_order")]

    def __str__(self) -> str:
        return self.name

    @property
    def state(self) -> str:
        if self.deleted_at is not None:
            return "deleted"
        return "active" if self.active else "inactive"


class DiscountRef(models.Model):
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
    created_by = models.CharField(max_length=200, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "customer"], name="discount_ref_once_per_customer"),
            models.CheckConstraint(condition=Q(used__gte=0) & Q(usage__gte=0), name="discount_ref_counts_non_negative"),
        ]
        # The usages list pages by (created_at, id) within a rule: an index range scan, never an offset.
        indexes = [models.Index(fields=["rule", "created_at", "id"], name="discount_ref_rule_order")]

    def __str__(self) -> str:
        return f"{self.rule} for {self.customer}"


class UsageRef(AppendOnlyModel):
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
    created_by = models.CharField(max_length=200)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # At most one add and one remove per receipt ref: retries can never count twice.
            models.UniqueConstraint(fields=["discount_ref", "ref", "ref_type"], name="usage_ref_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ref_type} {self.ref}"
