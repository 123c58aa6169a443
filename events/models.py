"""The event log: one immutable row per change to a customer's value, written in the change's own
transaction (events.services), so an event exists if and only if its change committed.

`sequence` counts each account's events from 1 with no gaps, in commit order, from the account's counter
row (`EventCounter`): either in the writing transaction, which then holds the row to its commit (the ORM
paths), or, for the hot one-statement redeem and benefit use, just after the commit, by
events.services.events_sequence (the worker runs it continually; the events list runs it first), which
numbers committed events still without one. Either way a number is visible only once every smaller number
of the account is, so a client that has seen sequence N has seen every event before it."""

import uuid

from django.db import models
from django.utils import timezone

from config.kernel.history import AppendOnlyModel


class EventCounter(models.Model):
    """The last sequence number given out in an account (one row per account: no global hot spot)."""

    account = models.OneToOneField("customers.Account", on_delete=models.PROTECT, primary_key=True)
    last_sequence = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.account_id} #{self.last_sequence}"


class Event(AppendOnlyModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT, related_name="events")
    sequence = models.BigIntegerField(null=True, blank=True)
    type = models.CharField(max_length=64)
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    # The changed rows as they were written (column -> value), from which the family's answer is built
    # (webhooks.render): the same answer for the same event, whenever it is read.
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["account_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["account", "sequence"], name="event_sequence_once")]
        indexes = [models.Index(fields=["created_at", "id"], name="event_to_number", condition=models.Q(sequence=None))]

    def __str__(self) -> str:
        return f"{self.account_id} #{self.sequence} {self.type}"


class EventSettings(models.Model):
    """Per account: how many days before a credit's expiry `credit.expiring_soon` is sent (each credit
    once per threshold)."""

    account = models.OneToOneField("customers.Account", on_delete=models.CASCADE, primary_key=True)
    expiring_soon_days = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "event settings"

    def __str__(self) -> str:
        return f"{self.account_id} expiring soon: {self.expiring_soon_days}"


class Notice(models.Model):
    """A scheduled event already sent for a resource and threshold (expiring soon N days before, expired):
    the unique key makes each one happen once, whatever the scans' timing or concurrency."""

    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT)
    kind = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    threshold = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "resource_id", "threshold"], name="event_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.resource_id} {self.threshold}"
