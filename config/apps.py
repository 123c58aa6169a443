from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Benefit Ledger"

    def ready(self) -> None:
        from config.api import dialects

        dialects.load_all()
