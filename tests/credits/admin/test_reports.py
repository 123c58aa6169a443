"""The liability report page (credits/admin/reports.py): the table, the chart and the CSV."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers.models import Account
from tests.conftest import client_for
from tests.credits.admin.conftest import (
    issue,
)

pytestmark = pytest.mark.django_db
REPORT = "/admin/reports/liability/"


def test_liability_page_chart_and_csv_for_both_groups(desk, viewer, account, customer, gift):
    issue(customer, gift)
    for client in (desk, viewer):
        page = client.get(REPORT).content.decode()
        assert "Totals reconcile." in page and "NOK 200.00" in page
        assert "booked in the month its event happened" in page
        assert "credits/vendor/chart.umd.min.js" in page
        response = client.get(REPORT, {"account": account.pk, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[-1]["month"] == "total" and rows[-1]["issued_value_minor"] == "20000"
    nobody = client_for(get_user_model().objects.create_user(username="n", password="x", is_staff=True))
    assert nobody.get(REPORT).status_code == 403


def test_both_groups_have_the_report_permission(db):
    for name in ("Credit desk", "Viewer"):
        assert Group.objects.get(name=name).permissions.filter(codename="view_liability_report").exists()
    assert Account.objects.count() == 0
