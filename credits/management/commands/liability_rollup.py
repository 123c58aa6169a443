"""Bring the liability report's rollup of closed months up to date (credits.services.liability), for
every account or one. Run it from cron (e.g. hourly); the staff page also fills a missing closed month
before it shows the report. After importing credits with a past created_at straight into the database,
run it with --rebuild."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from credits.services.liability import liability_rollup_refresh
from customers.models import Account


class Command(BaseCommand):
    help = "Roll up the liability report's closed months (per account, coupon and month)."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="One account id (default: every account).")
        parser.add_argument("--rebuild", action="store_true", help="Recompute every closed month from the credits.")

    def handle(self, *args, **options):
        accounts = Account.objects.order_by("id")
        if options["account"]:
            accounts = accounts.filter(pk=options["account"])
            if not accounts.exists():
                raise CommandError(f"No account {options['account']!r}.")
        for account in accounts:
            started = time.perf_counter()
            state = liability_rollup_refresh(account=account, rebuild=options["rebuild"])
            if state is None:
                self.stdout.write(f"{account.pk}: nothing to roll up (the rollup is PostgreSQL's)")
                continue
            self.stdout.write(
                f"{account.pk}: closed months before {state.closed_through:%Y-%m} rolled up "
                f"in {time.perf_counter() - started:.2f} s"
            )
