"""The liability report page (/admin/reports/liability/): the table, a chart (Chart.js, served from
this app's static files) and the CSV, for one account at a time. Permission: credits.view_liability_report
(both staff groups have it). The figures come from credits.reports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib.admin.sites import AdminSite
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from config.kernel.display import currency_digits, money_text
from config.kernel.exports import csv_response
from customers.models import Account

from .. import reports
from ..services import liability

PERMISSION = "credits.view_liability_report"
COLUMNS = (*reports.MEASURES, "outstanding")


def liability_view(request, admin_site: AdminSite):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    accounts = list(Account.objects.order_by("id"))
    chosen = request.GET.get("account") or (accounts[0].pk if accounts else None)
    account = next((a for a in accounts if a.pk == chosen), None)
    report = None
    if account is not None:
        liability.liability_rollup_refresh(account=account)  # any closed month missing, and late reversals
        report = reports.liability_report(account=account)
    if report is not None and request.GET.get("format") == "csv":
        return _csv(report)
    context = {
        **admin_site.each_context(request),
        "title": "Liability report",
        "accounts": accounts,
        "account": account,
        "report": report,
        "columns": COLUMNS,
    }
    if report is not None:
        currency = report.currency
        context["rows"] = [
            (
                row.month.strftime("%Y-%m"),
                row.coupon,
                [
                    (money_text(row.figures.value[c], currency), row.figures.value[c], row.figures.count[c])
                    for c in COLUMNS
                ],
            )
            for row in report.rows
        ]
        context["totals"] = [
            (money_text(report.totals.value[c], currency), report.totals.value[c], report.totals.count[c])
            for c in COLUMNS
        ]
        context["as_of"] = timezone.localtime(report.as_of, timezone=_zone(report.zone)).strftime("%Y-%m-%d %H:%M")
        context["chart"] = {
            "labels": [m.strftime("%Y-%m") for m in report.months],
            "currency": currency,
            "digits": currency_digits(currency) or 0,
            "series": {c: [f.value[c] for f in report.monthly] for c in COLUMNS},
        }
    request.current_app = admin_site.name
    return TemplateResponse(request, "admin/credits/liability_report.html", context)


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _csv(report: reports.Report):
    header = ["month", "coupon_id", "coupon", "currency"]
    for column in COLUMNS:
        header += [f"{column}_value_minor", f"{column}_count"]
    rows = []
    for row in report.rows:
        line = [row.month.strftime("%Y-%m"), str(row.coupon_id), row.coupon, report.currency]
        for column in COLUMNS:
            line += [row.figures.value[column], row.figures.count[column]]
        rows.append(line)
    total = ["total", "", "", report.currency]
    for column in COLUMNS:
        total += [report.totals.value[column], report.totals.count[column]]
    rows.append(total)
    return csv_response(f"liability-{report.account.pk}-{report.as_of:%Y%m%d}.csv", header, rows)
