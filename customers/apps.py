from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        # Registers the family's error dialect (config/api/dialects.py).
        from customers.api import family  # noqa: F401
