from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Registers the family's error dialect (config/api/dialects.py).
        # Registers the writes that four eyes may hold (customers/approvals.py).
        from billing import approvals  # noqa: F401
        from billing.api import family  # noqa: F401
