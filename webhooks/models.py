"""Webhook endpoints of an account and the deliveries of its events to them. A delivery row is the
queue: the worker claims a due one, posts it, and records the outcome (webhooks.worker)."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.kernel.history import ActorStampedModel
from events.catalogue import CREDIT_EXPIRING_SOON


class Endpoint(ActorStampedModel):
    class Kind(models.TextChoices):
        FRONTIER = "frontier", "Frontier (X-Signature, {id, action, data, created_at})"
        STANDARD = "standard", "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)"

    class State(models.TextChoices):
        ENABLED = "enabled"
        DISABLED = "disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="webhook_endpoints")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    url = models.URLField(max_length=2000)
    description = models.TextField(blank=True, default="")
    subscribed_events = models.JSONField(default=list, blank=True, help_text="Event types; empty: every type.")
    expiring_soon_days = models.JSONField(
        default=list,
        blank=True,
        help_text="Days before a credit's expiry that this endpoint gets credit.expiring_soon (each credit once "
        "per threshold), e.g. [7, 1]; empty: the account's (Event settings).",
    )
    headers = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ENABLED)
    disabled_reason = models.CharField(max_length=300, blank=True, default="", editable=False)
    # The last sequence number of the account's events already turned into deliveries (webhooks.worker).
    cursor = models.BigIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = None  # changes are not stamped: no updated_by column

    class Meta:
        ordering = ["account_id", "created_at", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return f"{self.url} ({self.kind}, {self.state})"

    def subscribed(self, event_type: str) -> bool:
        return not self.subscribed_events or event_type in self.subscribed_events

    def wants(self, event_type: str, days_before, account_days) -> bool:
        """Whether an event of `event_type` goes to this endpoint. A `credit.expiring_soon` event (of the
        threshold `days_before`) goes only where that threshold was asked for: this endpoint's own
        thresholds, or when it has none the account's (`account_days`); one without a threshold (written
        before events carried it) goes everywhere."""
        if not self.subscribed(event_type):
            return False
        if event_type != CREDIT_EXPIRING_SOON or days_before is None:
            return True
        return int(days_before) in (self.expiring_soon_days or account_days)


class EndpointSecret(models.Model):
    """A signing secret, kept encrypted (webhooks.secrets): a database dump alone cannot sign. A rotated
    secret keeps signing beside its successor until `expires_at`."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="secrets")
    key_id = models.CharField(max_length=40)
    sealed = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["endpoint_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"secret {self.key_id} of {self.endpoint_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="deliveries")
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="deliveries")
    sequence = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.IntegerField(null=True, blank=True)
    response_status = models.IntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["endpoint_id", "sequence"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=Q(status="pending")),
            models.Index(
                fields=["endpoint", "sequence"], name="delivery_endpoint_pending", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} to {self.endpoint_id}: {self.status}"
