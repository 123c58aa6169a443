from django.conf import settings
from django.db import models


class SecondFactorReset(models.Model):
    """A superuser removed a staff user's second factors (a lost phone or key): who, whom, when, why and
    what was removed. The user enrols again at their next sign-in."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reset_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=1000)
    devices = models.JSONField(default=list, help_text="The devices removed (kind and name).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user=models.F("reset_by")), name="second_factor_reset_by_another"
            )
        ]

    def __str__(self) -> str:
        return f"second factor of user {self.user_id} reset by user {self.reset_by_id}"
