import shutil
import sys
import tempfile
import uuid
from contextlib import ExitStack
from io import TextIOWrapper

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from config.kernel.exceptions import DomainError
from config.kernel.exports import SafeWriter
from credits.models import Coupon
from credits.services import grants
from customers.models import Account


class Command(BaseCommand):
    help = (
        "Bulk grant: one credit of a coupon to each selected customer, exactly once per batch key. "
        "Safe to re-run and to resume after being killed. Exit status 1 when any row was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("account_id", metavar="AID")
        parser.add_argument("--coupon", required=True, metavar="UUID")
        selection = parser.add_mutually_exclusive_group(required=True)
        selection.add_argument(
            "--customers",
            metavar="FILE",
            help="CSV naming customer_id, number or email (optional expiry_date, "
            "revenue columns override the options per row); - reads standard input",
        )
        selection.add_argument("--all-customers", action="store_true")
        selection.add_argument("--membership-type", metavar="UUID", help="every customer with an active membership")
        parser.add_argument("--expiry-date", metavar="DT", help="RFC 3339 date-time; default from the coupon")
        parser.add_argument("--revenue", type=int, metavar="N", help="minor units; default the coupon's")
        parser.add_argument("--batch-key", metavar="KEY", help="default: derived from the coupon and the selection")
        parser.add_argument("--batch-size", type=int, default=5000, metavar="N", help="rows per transaction")
        parser.add_argument("--report", metavar="FILE", help="write rejected rows (row, identifier, reason) as CSV")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")

    def handle(self, *args, **options):
        account = Account.objects.filter(pk=options["account_id"]).first()
        if account is None:
            raise CommandError(f"No account {options['account_id']}.")
        coupon = Coupon.objects.filter(account=account, pk=_uuid(options["coupon"], "--coupon")).first()
        if coupon is None:
            raise CommandError(f"No coupon {options['coupon']} in account {account.pk}.")
        expiry_date = None
        if options["expiry_date"]:
            expiry_date = parse_datetime(options["expiry_date"])
            if expiry_date is None or expiry_date.tzinfo is None:
                raise CommandError(
                    "--expiry-date must be an RFC 3339 date-time with an offset, e.g. 2027-01-31T23:59:59Z."
                )
        if options["batch_size"] < 1 or options["batch_size"] > 100_000:
            raise CommandError("--batch-size must be between 1 and 100000.")

        with ExitStack() as stack:
            column, rows, total, selection = self._selection(stack, account, options)
            batch_key = options["batch_key"] or grants.default_batch_key(coupon=coupon, selection=selection)
            report = None
            if options["report"]:
                report_file = stack.enter_context(open(options["report"], "w", newline="", encoding="utf-8"))
                report = SafeWriter(report_file)
                report.writerow(["row", "identifier", "reason"])
            progress = stack.enter_context(
                tqdm(total=total, unit="row", disable=not sys.stderr.isatty(), desc="grant_credits", file=sys.stderr)
            )
            try:
                summary = grants.credit_grant_bulk(
                    account=account,
                    coupon=coupon,
                    rows=rows,
                    column=column,
                    batch_key=batch_key,
                    expiry_date=expiry_date,
                    revenue=options["revenue"],
                    batch_size=options["batch_size"],
                    dry_run=options["dry_run"],
                    on_rejection=(lambda r: report.writerow([r.row or "", r.identifier, r.reason])) if report else None,
                    on_progress=progress.update,
                )
            except DomainError as exc:
                raise CommandError(exc.message) from None
        self.stdout.write(("DRY RUN: " if summary.dry_run else "") + summary.line())
        if summary.rejected:
            where = f"; see {options['report']}" if options["report"] else "; use --report FILE for the reasons"
            raise CommandError(f"{summary.rejected} row(s) rejected{where}", returncode=1)

    def _selection(self, stack: ExitStack, account, options):
        if options["all_customers"]:
            return "customer_id", grants.selection_of_all_customers(account), account.customers.count(), "all-customers"
        if options["membership_type"]:
            type_id = _uuid(options["membership_type"], "--membership-type")
            try:
                rows = grants.selection_of_membership_type(account, type_id)
            except DomainError as exc:
                raise CommandError(exc.message) from None
            return "customer_id", rows, None, f"membership-type:{type_id}"
        path = options["customers"]
        if path == "-":
            # Standard input can be read once: spool it to disk (not memory) while hashing it.
            spool = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
            shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
            binary = spool
        else:
            try:
                binary = stack.enter_context(open(path, "rb"))  # noqa: SIM115
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        binary.seek(0)
        digest = grants.file_digest(binary)
        binary.seek(0)
        text = stack.enter_context(TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
        try:
            column, rows = grants.csv_rows(text)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        return column, rows, None, f"file:{digest}"


def _uuid(value: str, option: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise CommandError(f"{option} must be a UUID, not {value!r}.") from None
