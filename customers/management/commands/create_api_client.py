import json as _json

from django.core.management.base import BaseCommand, CommandError

from config.kernel.actors import Actor
from config.kernel.exceptions import DomainError
from config.kernel.scopes import ALL_SCOPES
from customers import services
from customers.models import Account


class Command(BaseCommand):
    help = (
        "Create an API client of an account and print its client id and secret (shown once). "
        'With --json, print only {"client_id": ..., "secret": ...}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("account_id", metavar="AID")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scope",
            dest="scopes",
            action="append",
            required=True,
            metavar="SCOPE",
            help=f"Repeat for several. Known scopes: {', '.join(ALL_SCOPES)}",
        )
        parser.add_argument("--json", action="store_true", help="Machine-readable output, nothing else on stdout.")

    def handle(self, *args, account_id, name, scopes, json: bool, **options):
        account = Account.objects.filter(pk=account_id).first()
        if account is None:
            raise CommandError(f"No account {account_id}.")
        try:
            client, secret = services.api_client_create(
                account=account, name=name, scopes=scopes, actor=Actor.system("create_api_client")
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if json:
            self.stdout.write(_json.dumps({"client_id": client.client_id, "secret": secret}))
            return
        self.stdout.write(f"Created API client {client.name} for account {account.id}.")
        self.stdout.write(f"  client_id: {client.client_id}")
        self.stdout.write(f"  secret:    {secret}")
        self.stdout.write(f"  scopes:    {' '.join(client.scopes)}")
        self.stdout.write("The secret is shown only now; it is stored as a hash and cannot be shown again.")
