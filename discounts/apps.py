from django.apps import AppConfig


class DiscountsConfig(AppConfig):
    name = "discounts"

    def ready(self) -> None:
        # Registers the family's error dialect (config/api/dialects.py).
        from discounts.api import family  # noqa: F401
