"""Bulk grants from the admin (credits/admin/bulk.py): the CSV upload page and the action on selected
customers."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from credits.models import CreditEvent, CustomerCredit
from customers import services as customer_services
from tests.conftest import SYSTEM, client_for, make_staff, snapshot

pytestmark = pytest.mark.django_db
PAGE = reverse("admin:credits_customercredit_bulk_grant")


@pytest.fixture
def people(account):
    return [
        customer_services.customer_create(account=account, actor=SYSTEM, email=f"p{i}@example.com") for i in range(3)
    ]


def upload(rows: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile("grant.csv", ("\n".join(["email", *rows]) + "\n").encode(), content_type="text/csv")


def test_credit_desk_uploads_a_csv_and_sees_the_summary_and_rejections(account, coupon, people):
    desk = client_for(make_staff("alice", "Credit desk"))
    assert b"Bulk grant" in desk.get(reverse("admin:credits_customercredit_changelist")).content
    data = {"account": account.pk, "coupon": coupon.pk, "customers": upload([p.email for p in people] + ["x@y.z"])}
    response = desk.post(PAGE, data)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.granted, summary.already_granted, summary.rejected) == (3, 0, 1)
    page = response.content.decode()
    assert "unknown customer (email x@y.z)" in page
    credits = CustomerCredit.objects.filter(source="bulk")
    assert credits.count() == 3
    events = CreditEvent.objects.filter(credit__in=credits, action="issued")
    assert {e.user.username for e in events} == {"alice"}
    again = desk.post(
        PAGE, {"account": account.pk, "coupon": coupon.pk, "customers": upload([p.email for p in people] + ["x@y.z"])}
    )
    assert again.context["summary"].already_granted == 3 and CustomerCredit.objects.count() == 3


def test_dry_run_from_the_admin_writes_nothing(account, coupon, people):
    desk = client_for(make_staff("alice", "Credit desk"))
    before = snapshot()
    response = desk.post(
        PAGE,
        {"account": account.pk, "coupon": coupon.pk, "dry_run": "on", "customers": upload([p.email for p in people])},
    )
    assert response.context["summary"].granted == 3 and response.context["summary"].dry_run
    assert b"nothing was written" in response.content
    assert snapshot() == before


def test_a_bad_header_is_a_form_error(account, coupon):
    desk = client_for(make_staff("alice", "Credit desk"))
    bad = SimpleUploadedFile("g.csv", b"name\nx\n", content_type="text/csv")
    response = desk.post(PAGE, {"account": account.pk, "coupon": coupon.pk, "customers": bad})
    assert response.status_code == 200 and response.context["summary"] is None
    assert "header must name one of" in response.content.decode()


def test_a_viewer_cannot_bulk_grant(account, coupon, people):
    viewer = client_for(make_staff("victor", "Viewer"))
    before = snapshot()
    assert viewer.get(PAGE).status_code == 403
    response = viewer.post(PAGE, {"account": account.pk, "coupon": coupon.pk, "customers": upload([people[0].email])})
    assert response.status_code == 403
    assert snapshot() == before


def test_grant_to_selected_customers_action(account, coupon, people):
    desk = client_for(make_staff("alice", "Credit desk"))
    changelist = reverse("admin:customers_customer_changelist")
    selected = [str(p.pk) for p in people[:2]]
    form_page = desk.post(changelist, {"action": "grant_credit_selected", "_selected_action": selected})
    assert form_page.status_code == 200 and b"Grant a credit to the selected customers" in form_page.content
    assert not CustomerCredit.objects.exists()
    done = desk.post(
        changelist,
        {
            "action": "grant_credit_selected",
            "_selected_action": selected,
            "apply": "1",
            "coupon": coupon.pk,
            "revenue": "1.00",
        },
    )
    assert done.status_code == 200 and done.context["summary"].granted == 2
    assert sorted(str(c.customer_id) for c in CustomerCredit.objects.all()) == sorted(selected)
    assert set(CustomerCredit.objects.values_list("revenue", flat=True)) == {100}


def test_bulk_grant_typed_date_is_the_end_of_that_day_in_the_account_zone(desk, account, customer, massage):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", b"Number;EMAIL\n" + f"{customer.number};\n".encode(), content_type="text/csv")
    day = (timezone.now() + timedelta(days=30)).date()
    response = desk.post(
        reverse("admin:credits_customercredit_bulk_grant"),
        {"account": account.pk, "coupon": massage.pk, "customers": upload, "expiry_date": day.isoformat()},
    )
    assert response.status_code == 200 and response.context["summary"].granted == 1
    credit = CustomerCredit.objects.get(customer=customer)
    local = timezone.localtime(credit.expiry_date, timezone=ZoneInfo("Europe/Oslo"))
    assert (local.date(), local.hour, local.minute, local.second) == (day, 23, 59, 59)
    bad = SimpleUploadedFile("c.csv", b"phone;name\n1;2\n", content_type="text/csv")
    response = desk.post(
        reverse("admin:credits_customercredit_bulk_grant"),
        {"account": account.pk, "coupon": massage.pk, "customers": bad},
    )
    assert "Its first line names: phone, name." in response.content.decode()
    assert CustomerCredit.objects.count() == 1
