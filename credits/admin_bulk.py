"""Bulk grants from the admin: a CSV upload on the credits list, or an action on selected customers.
Both run the same service as `grant_credits` (credits.services.grants), with the staff user named in each
credit's history, and show the same summary and rejected rows."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from config.kernel.exceptions import DomainError, InvalidInput
from customers.admin import MoneyField, to_minor
from customers.models import Account

from . import validation
from .models import Coupon
from .services import grants

TEMPLATE = "admin/credits/customercredit/bulk_grant.html"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


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

    def __init__(self, *args, needs_file: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_file = needs_file
        if not needs_file:
            del self.fields["customers"]
            del self.fields["account"]

    def clean(self):
        data = super().clean()
        coupon = data.get("coupon")
        if self.needs_file:
            if not data.get("customers"):
                self.add_error("customers", "Upload the CSV of customers.")
            elif data["customers"].size > MAX_UPLOAD_BYTES:
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


def run(form: BulkGrantForm, *, account: Account, user, rows, column: str, selection: str) -> grants.GrantSummary:
    data = form.cleaned_data
    batch_key = data.get("batch_key") or grants.default_batch_key(coupon=data["coupon"], selection=selection)
    return grants.credit_grant_bulk(
        account=account,
        coupon=data["coupon"],
        rows=rows,
        column=column,
        batch_key=batch_key,
        actor_user=user,
        expiry_date=data.get("expiry_at"),
        revenue=data.get("revenue"),
        dry_run=data.get("dry_run", False),
    )


def upload_view(model_admin: admin.ModelAdmin, request):
    """The credits list's "Bulk grant" page: upload a CSV, choose the coupon, see the summary."""
    form = BulkGrantForm(request.POST or None, request.FILES or None)
    summary = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["customers"]
        raw = upload.read()
        digest = hashlib.sha256(raw)
        try:
            column, rows = grants.csv_rows(normalised_csv(raw))
            summary = run(
                form,
                account=form.cleaned_data["account"],
                user=request.user,
                rows=rows,
                column=column,
                selection=f"file:{digest.hexdigest()}",
            )
        except InvalidInput as exc:
            for field, messages in exc.fields.items():
                form.add_error(field if field in form.fields else None, messages)
        except (DomainError, UnicodeDecodeError) as exc:
            form.add_error(None, getattr(exc, "message", "The file is not UTF-8 text."))
    return render(model_admin, request, form, summary, title="Bulk grant credits")


def render(model_admin, request, form, summary, *, title: str, customers=None, action: str = ""):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "form": form,
        "summary": summary,
        "customers": customers,
        "action": action,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)
