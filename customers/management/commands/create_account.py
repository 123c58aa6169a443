from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from config.kernel.exceptions import DomainError
from customers import services


class Command(BaseCommand):
    help = "Create an account (a tenant): create_account AID --name NAME [--currency NOK] [--timezone Europe/Oslo]"

    def add_arguments(self, parser):
        parser.add_argument("account_id", metavar="AID", help="P or T followed by 8 digits, e.g. T00000001")
        parser.add_argument("--name", required=True)
        parser.add_argument("--currency", default="NOK")
        parser.add_argument("--timezone", default="Europe/Oslo")

    def handle(self, *args, account_id, name, currency, timezone, **options):
        try:
            account = services.account_create(
                account_id=account_id, name=name, currency=currency, timezone_name=timezone
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created account {account.id} ({account.name}, {account.currency}, {account.timezone}).")
