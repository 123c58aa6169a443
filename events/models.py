"""The event log: one immutable row per change to a customer's value, written in the change's own
transaction (events.services), so an event exists if and only if its change committed.

`sequence` counts each account's events from 1 with no gaps. Numbers are given only by a transaction
holding the account's counter row (`EventCounter`) locked to its commit, so they are committed in order:
a reader that has seen sequence N has seen every event that will ever have a number up to N (a client
catching up from N misses nothing). The ORM paths take their numbers in the change's transaction; the
hot one-statement redeem and benefit use write their event without one (a counter in that statement would
queue the account's redeems behind each other's commit), and whoever numbers next in the account (a
writer's events_record, the bulk grant, or events.services.events_sequence, which the worker runs
continually and the events list runs first) first numbers the account's committed events still without
one, in the order they were written (`created_at`, the database clock at the write, then id). So an event
committed before another's numbering began has the smaller number, whichever path wrote either."""

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
        indexes = [
            models.Index(
                fields=["account", "created_at", "id"], name="event_to_number_in", condition=models.Q(sequence=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} #{self.sequence} {self.type}"


class EventSettings(models.Model):
    """Per account: how many days before a credit's expiry `credit.expiring_soon` is sent (each credit
    once per threshold) to the account's endpoints that have no thresholds of their own
    (webhooks.Endpoint.expiring_soon_days)."""

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
