"""Bulk grants from the admin: a CSV upload on the credits list, or an action on selected customers.
Both run the same service as `grant_credits` (credits.services.grants), with the staff user named in each
credit's history, and show the same summary and rejected rows."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from config.kernel.display import MoneyField, local_time_text, to_minor
from config.kernel.exceptions import DomainError, InvalidInput
from customers.models import Account, ApprovalRequest

from .. import selectors, validation
from ..models import Coupon
from ..services import approvals, grants

TEMPLATE = "admin/credits/customercredit/bulk_grant.html"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# After a dry run the file is kept (in the cache) so that "Run it now" needs no second upload; a reject
# report is kept as long, for its download.
KEEP_SECONDS = 3600
KEEP_MAX_BYTES = 5 * 1024 * 1024


class BulkGrantForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.all())
    coupon = forms.ModelChoiceField(queryset=Coupon.objects.filter(active=True).select_related("account"))
    customers = forms.FileField(
        required=False,
        help_text="CSV whose header names customer_id, number or email; optional expiry_date and revenue "
        "columns override the values below per row.",
    )
    expiry_date = forms.DateField(
        required=False,
        help_text="A date (YYYY-MM-DD): the credits expire at the end of that day (23:59:59) in the account's "
        "time zone, as an expiry_date in the CSV does. Default: from the coupon's validity.",
    )
    revenue = MoneyField(required=False, help_text="In the account's currency, e.g. 450.00. Default: the coupon's.")
    batch_key = forms.CharField(
        required=False,
        max_length=100,
        help_text="Default: derived from the coupon and the selection, so a re-run grants only what is missing.",
    )
    dry_run = forms.BooleanField(required=False, label="Dry run (check and count, write nothing)")
    kept_file = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, needs_file: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_file = needs_file
        if not needs_file:
            del self.fields["customers"]
            del self.fields["account"]
            del self.fields["kept_file"]
            return
        accounts = list(Account.objects.order_by("id")[:2])
        if len(accounts) == 1:
            # Nothing to pick: the one account is taken, and only its coupons are offered.
            self.fields["account"].initial = accounts[0].pk
            self.fields["account"].widget = forms.HiddenInput()
            self.fields["coupon"].queryset = self.fields["coupon"].queryset.filter(account=accounts[0])
        self.kept = kept_upload(self.data.get("kept_file", "")) if self.is_bound else None

    def clean(self):
        data = super().clean()
        coupon = data.get("coupon")
        if self.needs_file:
            if not data.get("customers") and self.kept is None:
                self.add_error("customers", "Upload the CSV of customers.")
            elif data.get("customers") and data["customers"].size > MAX_UPLOAD_BYTES:
                self.add_error("customers", "The file is larger than 50 MB; use the grant_credits command.")
            if coupon and data.get("account") and coupon.account_id != data["account"].pk:
                self.add_error("coupon", "Choose a coupon of the account.")
        account = data.get("account") or getattr(self, "account", None) or (coupon.account if coupon else None)
        if data.get("revenue") is not None and account is not None:
            try:
                data["revenue"] = to_minor(data["revenue"], account.currency)
            except ValidationError as exc:
                self.add_error("revenue", exc)
        if data.get("expiry_date") and account is not None:
            data["expiry_at"] = end_of_day(data["expiry_date"], account)
            problem = validation.expiry_date_error(data["expiry_at"])
            if problem:
                self.add_error("expiry_date", problem)
        return data


def end_of_day(day, account: Account) -> datetime:
    """The end of a day where the business is: 23:59:59 in the account's time zone (as grants do for a
    bare date in the CSV)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(account.timezone))


def normalised_csv(raw: bytes) -> io.StringIO:
    """The upload as comma-separated text with a lower-case header: `;` or `,` (or a tab) separates the
    columns, and `Number`, ` EMAIL ` are read as `number`, `email`. Raises InvalidInput with what is
    wrong when the header names none of the identifier columns."""
    text = raw.decode("utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    header = next(reader, None) or []
    header = [name.strip().lower() for name in header]
    if not set(header) & set(grants.IDENTIFIER_COLUMNS):
        found = ", ".join(header) or "nothing"
        raise InvalidInput.single(
            "customers",
            f"The CSV header must name one of {', '.join(grants.IDENTIFIER_COLUMNS)} (any case; columns separated "
            f"by , or ;). Its first line names: {found}.",
        )
    writer.writerow(header)
    writer.writerows(reader)
    out.seek(0)
    return out


def run(
    form: BulkGrantForm, *, account: Account, user, rows, column: str, selection: str, on_rejection=None
) -> grants.GrantSummary | ApprovalRequest:
    """Grant now, or, when the account has an approval threshold, file the request (a dry run always runs).
    `on_rejection` is given every rejected row of a grant that runs."""
    data = form.cleaned_data
    batch_key = data.get("batch_key") or grants.default_batch_key(coupon=data["coupon"], selection=selection)
    return approvals.credit_grant_bulk_by_staff(
        account=account,
        coupon=data["coupon"],
        rows=rows,
        column=column,
        batch_key=batch_key,
        user=user,
        expiry_date=data.get("expiry_at"),
        revenue=data.get("revenue"),
        dry_run=data.get("dry_run", False),
        on_rejection=on_rejection,
    )


def kept_upload(token: str) -> dict | None:
    """A file kept after a dry run ({"name", "raw"}), or None (never kept, or expired)."""
    if not token or len(token) != 64 or not token.isalnum():
        return None
    return cache.get(f"bulk-grant-file:{token}")


def keep_upload(raw: bytes, name: str) -> str | None:
    """Keep an uploaded file for "Run it now"; its token is its digest. None when it is too large to keep."""
    if len(raw) > KEEP_MAX_BYTES:
        return None
    token = hashlib.sha256(raw).hexdigest()
    cache.set(f"bulk-grant-file:{token}", {"name": name, "raw": raw}, KEEP_SECONDS)
    return token


# The reject report is kept in chunks of this many rows (one cache entry each), so a grant that rejects
# a million rows never holds them all in one value, and the download streams them chunk by chunk.
REJECT_CHUNK_ROWS = 10_000


class RejectReport:
    """Every rejected row of a grant run from the page (grants' on_rejection), kept in the cache for the
    download for KEEP_SECONDS, in chunks of REJECT_CHUNK_ROWS; the page itself shows the first few."""

    def __init__(self):
        self.token = secrets.token_hex(16)
        self.total = 0
        self.chunks = 0
        self._rows: list[tuple] = []

    def add(self, rejection: grants.Rejection) -> None:
        self._rows.append((rejection.row if rejection.row is not None else "", rejection.identifier, rejection.reason))
        self.total += 1
        if len(self._rows) >= REJECT_CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            cache.set(f"bulk-grant-rejects:{self.token}:{self.chunks}", self._rows, KEEP_SECONDS)
            self.chunks += 1
            self._rows = []

    def close(self, batch_key: str) -> str | None:
        """Keep what is left and the report's head; its token, or None when nothing was rejected."""
        if not self.total:
            return None
        self._flush()
        head = {"batch_key": batch_key, "chunks": self.chunks, "total": self.total}
        cache.set(f"bulk-grant-rejects:{self.token}", head, KEEP_SECONDS)
        return self.token


def kept_rejections(token: str) -> dict | None:
    """The kept report ({"batch_key", "total", "rows": every rejected row, read chunk by chunk}), or None
    when it was never kept or is no longer whole."""
    if not token or len(token) != 32 or not token.isalnum():
        return None
    head = cache.get(f"bulk-grant-rejects:{token}")
    if head is None:
        return None
    keys = [f"bulk-grant-rejects:{token}:{n}" for n in range(head["chunks"])]
    if not all(cache.has_key(key) for key in keys):
        return None

    def rows():
        for key in keys:
            chunk = cache.get(key)
            if chunk is None:  # expired while it was being read
                yield ("", "", "the rest of this report is no longer kept: run the grant again (a dry run)")
                return
            yield from chunk

    return {"batch_key": head["batch_key"], "total": head["total"], "rows": rows()}


def upload_view(model_admin: admin.ModelAdmin, request):
    """The credits list's "Bulk grant" page: upload a CSV, choose the coupon, see the summary; after a dry
    run the file is kept and "Run it now" grants without a second upload; the rejected rows download as
    CSV; the recent batches are listed."""
    form = BulkGrantForm(request.POST or None, request.FILES or None)
    summary = None
    kept_token = reject_token = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["customers"]
        if upload:
            raw, name = upload.read(), upload.name
        else:
            raw, name = form.kept["raw"], form.kept["name"]
        digest = hashlib.sha256(raw)
        report = RejectReport()
        try:
            column, rows = grants.csv_rows(normalised_csv(raw))
            summary = run(
                form,
                account=form.cleaned_data["account"],
                user=request.user,
                rows=rows,
                column=column,
                selection=f"file:{digest.hexdigest()}",
                on_rejection=report.add,
            )
        except InvalidInput as exc:
            for field, messages in exc.fields.items():
                form.add_error(field if field in form.fields else None, messages)
        except (DomainError, UnicodeDecodeError) as exc:
            form.add_error(None, getattr(exc, "message", "The file is not UTF-8 text."))
        if isinstance(summary, grants.GrantSummary):  # (not a request waiting for approval)
            kept_token = keep_upload(raw, name) if summary.dry_run else None
            reject_token = report.close(summary.batch_key)
    return render(
        model_admin,
        request,
        form,
        summary,
        title="Bulk grant credits",
        kept_token=kept_token,
        reject_token=reject_token,
        run_now_fields=[(name, form.data.get(name, "")) for name in ("account", "coupon", "expiry_date", "revenue")],
        batches=_with_local_start(selectors.recent_bulk_batches()),
    )


def _with_local_start(batches: list[dict]) -> list[dict]:
    """Each batch's start in the zone of its own account, named (the list spans accounts)."""
    accounts = Account.objects.in_bulk({batch["account_id"] for batch in batches})
    for batch in batches:
        batch["started_local"] = local_time_text(batch["started"], accounts.get(batch["account_id"]))
    return batches


def render(model_admin, request, form, summary, *, title: str, customers=None, action: str = "", **extra):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "form": form,
        "summary": None if isinstance(summary, ApprovalRequest) else summary,
        "approval_request": summary if isinstance(summary, ApprovalRequest) else None,
        "customers": customers,
        "action": action,
        **extra,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)
