from django.core.management.base import BaseCommand
from django.utils import timezone

from config.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers past their expiry (run from cron, e.g. hourly)."

    def handle(self, *args, **options):
        deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
