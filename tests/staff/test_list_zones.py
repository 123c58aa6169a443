"""Lists that span accounts show each row's times in the zone of that row's account, with the zone's
name (config.kernel.admin.LedgerAdmin), not in UTC."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import services as customer_services
from customers.models import Account, Customer
from tests.conftest import SYSTEM, client_for

pytestmark = pytest.mark.django_db

# One instant, 2026-12-03 12:00 UTC: 13:00 in Oslo, 07:00 in New York, 21:00 in Tokyo.
INSTANT = datetime(2026, 12, 3, 12, 0, tzinfo=ZoneInfo("UTC"))
ZONES = {"T00000001": "Europe/Oslo", "T00000002": "America/New_York", "T00000003": "Asia/Tokyo"}
SHOWN = {
    "Europe/Oslo": "2026-12-03 13:00 Europe/Oslo",
    "America/New_York": "2026-12-03 07:00 America/New_York",
    "Asia/Tokyo": "2026-12-03 21:00 Asia/Tokyo",
}


@pytest.fixture
def accounts(db):
    made = []
    for account_id, zone in ZONES.items():
        account = customer_services.account_create(
            account_id=account_id, name=f"Spa {zone}", currency="NOK", timezone_name=zone
        )
        customer = customer_services.customer_create(account=account, actor=SYSTEM, first_name=zone.split("/")[1])
        Customer.objects.filter(pk=customer.pk).update(created_at=INSTANT)
        Account.objects.filter(pk=account.pk).update(created_at=INSTANT)
        made.append(account)
    return made


@pytest.fixture
def superuser(db):
    user = get_user_model().objects.create_superuser(username="root", password="unused", email="r@example.com")
    return client_for(user)


def _cells(html: str) -> list[str]:
    return re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d [A-Za-z_/]+", html)


@pytest.mark.parametrize("changelist", ["admin:customers_customer_changelist", "admin:customers_account_changelist"])
def test_each_row_shows_its_time_in_its_own_accounts_zone(superuser, accounts, changelist):
    html = superuser.get(reverse(changelist)).content.decode()
    cells = _cells(html)
    assert sorted(cells) == sorted(SHOWN.values()), cells
    assert "UTC" not in " ".join(cells)


def test_the_column_still_sorts_by_the_time(superuser, accounts):
    url = reverse("admin:customers_customer_changelist")
    page = superuser.get(url)
    index = next(
        i for i, name in enumerate(page.context["cl"].list_display) if getattr(name, "__name__", name) == "created_at"
    )
    response = superuser.get(url, {"o": str(index)})
    assert response.status_code == 200 and "?e=1" not in response.get("Location", "")
    assert len(_cells(response.content.decode())) == 3


def test_the_rows_accounts_come_in_the_pages_one_query(superuser, accounts):
    """The zone of each row is read from its account, which the list query brings along (no query per row)."""
    for n in range(5):
        customer_services.customer_create(account=accounts[n % 3], actor=SYSTEM, first_name=f"C{n}")
    url = reverse("admin:customers_customer_changelist")
    superuser.get(url)
    with CaptureQueriesContext(connection) as few:
        superuser.get(url)
    for n in range(10):
        customer_services.customer_create(account=accounts[n % 3], actor=SYSTEM, first_name=f"D{n}")
    with CaptureQueriesContext(connection) as more:
        superuser.get(url)
    assert len(more.captured_queries) == len(few.captured_queries)


def test_every_list_with_times_of_an_accounts_rows_finds_the_account():
    """Every registered list showing a time of a model that belongs to an account reaches that account."""
    from django.db import models

    import config.admin  # noqa: F401 (the composed site)

    missing = []
    for model, model_admin in admin.site._registry.items():
        times = [
            name
            for name in model_admin.list_display
            if isinstance(name, str)
            and isinstance(next((f for f in model._meta.concrete_fields if f.name == name), None), models.DateTimeField)
        ]
        belongs = model is Account or any(
            isinstance(f, models.ForeignKey) and f.related_model is Account for f in model._meta.concrete_fields
        )
        if times and belongs and model_admin.row_account_path() is None:
            missing.append(model._meta.label)
    assert missing == []


def test_the_bulk_grant_history_shows_each_batch_start_in_its_accounts_zone(superuser, accounts):
    from credits import services as credit_services
    from credits.models import CustomerCredit
    from credits.services import grants

    for account in accounts[:2]:
        coupon = credit_services.coupon_create(account=account, actor=SYSTEM, name="Massage", offering="Massage 60")
        customer = Customer.objects.get(account=account)
        grants.credit_grant_bulk(
            account=account, coupon=coupon, rows=[grants.SourceRow(2, str(customer.number))], column="number",
            batch_key=f"batch-{account.pk}",
        )  # fmt: skip
    CustomerCredit.objects.update(created_at=INSTANT)
    html = superuser.get(reverse("admin:credits_customercredit_bulk_grant")).content.decode()
    history = html[html.index('id="batch-history"') :]
    assert sorted(_cells(history)) == sorted([SHOWN["Europe/Oslo"], SHOWN["America/New_York"]])
