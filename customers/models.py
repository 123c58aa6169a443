import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from config.kernel.history import ActorStampedModel

ACCOUNT_ID_VALIDATOR = RegexValidator(r"^[PT][0-9]{8}$", "An account id is P or T followed by 8 digits.")
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "A currency is an ISO 4217 code such as NOK.")
CARD_NUMBER_VALIDATOR = RegexValidator(r"^[0-9]{1,20}\Z", "A card number is a decimal number of up to 20 digits.")


class Account(models.Model):
    """A tenant: one business. Every other object belongs to exactly one account."""

    id = models.CharField(primary_key=True, max_length=9, validators=[ACCOUNT_ID_VALIDATOR])
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="NOK", validators=[CURRENCY_VALIDATOR])
    timezone = models.CharField(max_length=64, default="Europe/Oslo")
    created_at = models.DateTimeField(auto_now_add=True)
    # Four eyes: a staff write above this value (minor units of the account's currency), and any bulk
    # grant, waits for a second staff member's approval (customers/approvals.py). Empty: off.
    approval_threshold = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Minor units of the account's currency. A manual credit or a top-up worth more, and any bulk "
        "grant, by staff waits for another staff member's approval. Empty: no approval needed.",
    )
    approval_threshold_set_by = models.CharField(max_length=200, blank=True, default="", db_default="")
    approval_threshold_set_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(id__regex=r"^[PT][0-9]{8}$"), name="account_id_format"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class ApiClient(ActorStampedModel):
    """A machine credential of one account. The secret is kept only as a SHA-256 digest (it has 256
    bits of entropy, so a slow password hash would add latency without adding safety); `secret_prefix`
    finds the row with an index, and the digest is compared in constant time."""

    # What the API plumbing (config/api), which may not import this app, checks to tell an authenticated
    # API client from no one.
    is_api_client = True

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="api_clients")
    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=40, unique=True, editable=False)
    secret_prefix = models.CharField(max_length=16, db_index=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True, editable=False)
    deactivated_by = models.CharField(max_length=200, blank=True, editable=False, db_default="")

    class Meta:
        ordering = ["account_id", "name", "id"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    # DRF treats the authenticated principal as request.user.
    is_authenticated = True
    is_anonymous = False

    @property
    def actor_label(self) -> str:
        return f"client:{self.name}"


class Customer(ActorStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="customers")
    # The benefits family's customerId: an int64 assigned by the server.
    number = models.BigIntegerField(unique=True, editable=False)
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    external_ref = models.CharField(max_length=255, blank=True)
    card_number = models.CharField(
        max_length=20, null=True, blank=True, validators=[CARD_NUMBER_VALIDATOR], help_text="Decimal digits."
    )
    barcode = models.CharField(max_length=128, null=True, blank=True)
    # The benefits family's third way to find a customer (Magicline's successor calls take `pin`): an opaque
    # code the customer types at a terminal, unique within the account, never shown in an API answer.
    pin = models.CharField(max_length=64, null=True, blank=True, verbose_name="PIN")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "card_number"], name="customer_card_number_unique"),
            models.UniqueConstraint(fields=["account", "barcode"], name="customer_barcode_unique"),
            models.UniqueConstraint(fields=["account", "pin"], name="customer_pin_unique"),
            models.CheckConstraint(condition=Q(number__gt=0), name="customer_number_positive"),
        ]
        indexes = [
            models.Index(fields=["account", "email"], name="customer_account_email"),
            models.Index(fields=["account", "external_ref"], name="customer_account_extref"),
            models.Index(fields=["account", "-created_at", "-id"], name="customer_account_created"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip() or self.email or "customer"
        return f"{name} (#{self.number})"


class MembershipType(ActorStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="membership_types")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    updated_by = None  # changes are not stamped: no updated_by column
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="membership_type_name_unique")]

    def __str__(self) -> str:
        return self.name


class Membership(ActorStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active"
        CANCELLED = "cancelled"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="memberships")
    membership_type = models.ForeignKey(MembershipType, on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_by = models.CharField(max_length=200, blank=True, editable=False)
    updated_by = None  # changes are not stamped: no updated_by column
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("started_at")),
                name="membership_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["membership_type", "status"], name="membership_type_status")]

    def __str__(self) -> str:
        return f"{self.membership_type} for {self.customer}"


class ApprovalRequest(models.Model):
    """A staff write held for a second staff member (four eyes): what was asked, by whom, and the decision.
    Approving runs the same service the direct path runs (registered per kind in customers/approvals.py);
    nothing reaches the ledger before. Never deleted."""

    class Kind(models.TextChoices):
        CREDIT_ISSUE = "credit_issue", "Manual credit"
        TOP_UP = "billing_top_up", "Billing top-up"
        BULK_GRANT = "credit_grant_bulk", "Bulk grant"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="approval_requests")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.CharField(max_length=500, help_text="What would be written, in words.")
    value = models.BigIntegerField(null=True, blank=True, help_text="The value compared with the threshold.")
    payload = models.JSONField(help_text="The service call's arguments.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="", help_text="The decision's reason.")
    result = models.JSONField(null=True, blank=True, help_text="What the approved write made.")

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_approvalrequest", "Can approve or reject approval requests")]
        indexes = [models.Index(fields=["status", "-requested_at"], name="approval_status_requested")]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="approval_decided_by_another",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="approval_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary} ({self.status})"
