from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Registers the family's error dialect (config/api/dialects.py).
        from billing.api import family  # noqa: F401
