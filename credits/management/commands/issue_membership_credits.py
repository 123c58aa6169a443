import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from config.kernel.values import instant_problem
from credits.services import recurring
from customers.models import Account


class Command(BaseCommand):
    help = (
        "Run the membership credit rules: issue every due period's credits, catching up missed periods. "
        "Meant for cron (hourly or daily); running it more often, or twice at once, changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", metavar="AID", help="only this account's rules")
        parser.add_argument("--as-of", metavar="DT", help="RFC 3339 date-time; default now")
        parser.add_argument("--dry-run", action="store_true", help="count what would be issued, write nothing")
        parser.add_argument("--batch-size", type=int, default=5000, metavar="N", help="memberships per transaction")

    def handle(self, *args, account=None, as_of=None, dry_run=False, batch_size=5000, **options):
        if account and not Account.objects.filter(pk=account).exists():
            raise CommandError(f"No account {account}.")
        moment = None
        if as_of:
            moment = parse_datetime(as_of)
            if moment is None or moment.tzinfo is None:
                raise CommandError("--as-of must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T00:00:00Z.")
            if (problem := instant_problem(moment)) is not None:
                raise CommandError(f"--as-of: {problem}")
        if not 1 <= batch_size <= 100_000:
            raise CommandError("--batch-size must be between 1 and 100000.")
        with tqdm(unit="membership", disable=not sys.stderr.isatty(), desc="memberships", file=sys.stderr) as bar:
            summary = recurring.membership_credits_issue(
                account_id=account, as_of=moment, dry_run=dry_run, batch_size=batch_size, on_progress=bar.update
            )
        self.stdout.write(("DRY RUN: " if dry_run else "") + summary.line())
