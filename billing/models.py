import uuid

from django.db import models
from django.db.models import F, JSONField, Q, Value
from django.utils import timezone

from config.kernel.history import ActorStampedModel, RecordedByModel
from customers.models import Account, Customer


class BillingAccount(ActorStampedModel):
    """A customer's (the vendor's organization's) credit balance. `balance` is the ledger's sum,
    written only by billing.services in the same transaction as each transaction row; the database
    keeps it at or above `credit_min`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="billing_accounts")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="billing_accounts")
    currency = models.CharField(max_length=8, default="VC")
    # The vendor's billing account fields (create and get answer them back as given).
    # Database defaults too, so that rows written by raw SQL (the benchmark harness) stay valid.
    name = models.CharField(max_length=255, blank=True, default="", db_default="")
    email = models.CharField(max_length=255, blank=True, default="", db_default="")
    phone = models.CharField(max_length=255, blank=True, default="", db_default="")
    address = models.JSONField(default=dict, blank=True, db_default=Value({}, JSONField()))
    tax_data = models.JSONField(default=list, blank=True, db_default=Value([], JSONField()))
    metadata = models.JSONField(default=dict, blank=True, db_default=Value({}, JSONField()))
    credit_min = models.BigIntegerField(default=0)
    # `billing.balance.low` is sent when the balance falls from above this to at or below it (null: never).
    balance_low_threshold = models.BigIntegerField(null=True, blank=True)
    balance = models.BigIntegerField(default=0, editable=False)
    # Debits minus the credits that reverted them (the vendor's debited total), kept with the balance by
    # billing.services, so that a debit that would take it past int64 is refused before it is written.
    debited = models.BigIntegerField(default=0, editable=False, db_default=0)
    # Who last changed its settings (credit_min); balance moves are recorded by their transactions.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=F("credit_min")), name="billing_balance_above_credit_min"),
            models.CheckConstraint(condition=Q(debited__gte=0), name="billing_debited_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "created_at"], name="billing_account_customer")]

    def __str__(self) -> str:
        # The customer and the currency, as staff name it; the id is on the page and in the address.
        return f"{self.customer}: {self.currency} billing account"


class BillingTransaction(RecordedByModel):
    """One credit or debit of a billing account. `usage_id` is the client's id (the idempotency key of
    usages and top-ups); reverts are credits that name the debit they give back."""

    class Type(models.TextChoices):
        CREDIT = "credit"
        DEBIT = "debit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="billing_transactions")
    billing_account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="transactions")
    usage_id = models.UUIDField()
    type = models.CharField(max_length=6, choices=Type.choices)
    source = models.CharField(max_length=255)
    amount = models.BigIntegerField()
    description = models.TextField(blank=True)
    user_id = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    reverts = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reverted_by")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="billing_transaction_amount_non_negative"),
            models.UniqueConstraint(fields=["account", "usage_id"], name="billing_transaction_usage_once"),
        ]
        indexes = [
            models.Index(fields=["billing_account", "-created_at", "-id"], name="billing_tx_account_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} ({self.source})"


class FeatureUsage(RecordedByModel):
    """A `feature` usage: recorded and counted, no balance change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="feature_usages")
    billing_account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="feature_usages")
    usage_id = models.UUIDField()
    feature = models.CharField(max_length=255)
    amount = models.BigIntegerField()
    description = models.TextField(blank=True)
    user_id = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="feature_usage_amount_non_negative"),
            models.UniqueConstraint(fields=["account", "usage_id"], name="feature_usage_once"),
        ]
        indexes = [models.Index(fields=["billing_account", "feature"], name="feature_usage_account_feature")]


class Project(ActorStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="projects")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    updated_by = None  # changes are not stamped: no updated_by column
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name
