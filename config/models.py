from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an `Idempotency-Key`, kept for retries with that key."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    id = models.BigAutoField(primary_key=True)
    api_client = models.ForeignKey("customers.ApiClient", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path, query and body.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    status = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_client", "key"], name="idempotency_key_once_per_client")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
