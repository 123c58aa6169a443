"""python manage.py worker: deliver webhooks and run the scheduled event scans until SIGTERM or SIGINT
(the current delivery is finished and recorded first). `--once`: until nothing is due, then exit."""

import signal

from django.core.management.base import BaseCommand

from webhooks import worker


class Command(BaseCommand):
    help = "Deliver webhook events and run the scheduled scans (expiring soon, expired)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="exit when nothing is left to do now")

    def handle(self, *args, once: bool = False, **options):
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("webhook worker started")
        worker.run(once=once, stop=lambda: bool(stopping))
        self.stdout.write("webhook worker stopped")
