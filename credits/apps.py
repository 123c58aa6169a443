from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        # Registers the family's error dialect (config/api/dialects.py).
        from credits.api import benefits_family  # noqa: F401

        # Registers the writes that four eyes may hold (customers/approvals.py).
        from credits.services import approvals  # noqa: F401
