"""Bulk grants from the admin: a CSV upload on the credits list, or an action on selected customers.
Both run the same service as `grant_credits` (credits.grants), with the staff user named in each
credit's history, and show the same summary and rejected rows."""

from __future__ import annotations

import hashlib
from io import TextIOWrapper

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone

from config.kernel.exceptions import DomainError, InvalidInput
from customers.models import Account

from . import grants
from .models import Coupon

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
    expiry_date = forms.DateTimeField(required=False, help_text="Default: from the coupon's validity.")
    revenue = forms.IntegerField(required=False, min_value=0, help_text="Minor units. Default: the coupon's.")
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
        if data.get("expiry_date") and data["expiry_date"] <= timezone.now():
            self.add_error("expiry_date", "Must be in the future.")
        return data


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
        expiry_date=data.get("expiry_date"),
        revenue=data.get("revenue"),
        dry_run=data.get("dry_run", False),
    )


def upload_view(model_admin: admin.ModelAdmin, request):
    """The credits list's "Bulk grant" page: upload a CSV, choose the coupon, see the summary."""
    form = BulkGrantForm(request.POST or None, request.FILES or None)
    summary = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["customers"]
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        try:
            column, rows = grants.csv_rows(TextIOWrapper(upload.file, encoding="utf-8-sig", newline=""))
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
