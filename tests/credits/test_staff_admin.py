"""Staff pages: the customer summary, the per-credit action pages, exports, filters, the liability report
(which reconciles on a generated data set with uses, reversals, expiries and revokes)."""

import contextlib
import csv
import io
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.kernel.actors import Actor
from config.kernel.display import money_text
from credits import reports
from credits import services as credit_services
from credits.models import CreditEvent, CustomerCredit
from customers import services as customer_services
from customers.models import Account

SYSTEM = Actor.system("test")
REPORT = "/admin/reports/liability/"


def make_staff(username, group):
    user = get_user_model().objects.create_user(username=username, password="unused", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def account(db):
    return customer_services.account_create(
        account_id="T00000042", name="Spa", currency="NOK", timezone_name="Europe/Oslo"
    )


@pytest.fixture
def gift(account):
    return credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Gift card", kind="monetary", value=20000, currency="NOK",
        default_revenue=20000,
    )  # fmt: skip


@pytest.fixture
def massage(account):
    return credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Massage", kind="offering", offering="Massage 60", default_revenue=4500,
        benefit_key="massage",
    )  # fmt: skip


@pytest.fixture
def customer(account):
    return customer_services.customer_create(
        account=account, actor=SYSTEM, first_name="Ada", last_name="Lovelace", email="ada@example.com",
        card_number="4242",
    )  # fmt: skip


@pytest.fixture
def desk(db):
    return client_for(make_staff("alice", "Credit desk"))


@pytest.fixture
def viewer(db):
    return client_for(make_staff("victor", "Viewer"))


def issue(customer, coupon, **values):
    return credit_services.credit_issue(
        customer=customer, coupon=coupon, actor=SYSTEM, source=CustomerCredit.Source.API, **values
    )


def test_money_text():
    assert money_text(20000, "NOK") == "NOK 200.00"
    assert money_text(-5, "NOK") == "-NOK 0.05"
    assert money_text(1234567, "JPY") == "JPY 1,234,567"
    assert money_text(1234, "KWD") == "KWD 1.234"
    assert money_text(1500, "VC") == "1,500 VC"


def test_summary_shows_value_benefits_and_expiry_read_only_for_both_groups(desk, viewer, customer, gift, massage):
    issue(customer, gift, expiry_date=timezone.now() + timedelta(days=10))
    revoked = issue(customer, massage)
    credit_services.credit_revoke(
        account=customer.account, customer_id=customer.pk, credit_id=revoked.pk, reason="test", actor=SYSTEM
    )
    issue(customer, massage)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    for client in (desk, viewer):
        page = client.get(url).content.decode()
        summary = page[page.index('id="customer-summary"') : page.index("</form>") if False else None]
        assert "NOK 200.00" in summary
        assert "minor units" not in summary
        assert "massage" in summary
        assert "Europe/Oslo" in summary
        assert 'id="summary-closed"' in summary
        assert page.index('id="customer-summary"') < page.index('id="customer_form"')
    assert "Redeem…" in desk.get(url).content.decode()
    assert "Redeem…" not in viewer.get(url).content.decode()
    assert "Revoke…" not in viewer.get(url).content.decode()


def test_redeem_and_revoke_and_reverse_from_the_credit_page(desk, viewer, customer, massage):
    credit = issue(customer, massage)
    redeem = reverse("admin:credits_customercredit_redeem", args=[credit.pk])
    assert viewer.post(redeem, {"reference": "R1"}).status_code == 403
    assert CustomerCredit.objects.get(pk=credit.pk).uses == 0
    page = desk.get(reverse("admin:credits_customercredit_change", args=[credit.pk])).content.decode()
    assert "Redeem…" in page and "Revoke…" in page
    response = desk.post(redeem, {"reference": "R1", "note": "front desk"})
    assert response.status_code == 302
    credit.refresh_from_db()
    assert credit.uses == 1
    use = credit.use_records.get()
    assert (use.reference, use.note, use.used_by) == ("R1", "front desk", "staff:alice")
    reverse_url = reverse("admin:credits_customercredit_reverse_use", args=[credit.pk, use.pk])
    assert desk.post(reverse_url, {"reason": ""}).status_code == 200  # the reason is required
    assert CustomerCredit.objects.get(pk=credit.pk).uses == 1
    desk.post(reverse_url, {"reason": "wrong customer"})
    assert CustomerCredit.objects.get(pk=credit.pk).uses == 0
    assert CreditEvent.objects.get(credit=credit, action="use_reversed").reason == "wrong customer"
    revoke = reverse("admin:credits_customercredit_revoke", args=[credit.pk])
    assert viewer.post(revoke, {"reason": "x"}).status_code == 403
    back = reverse("admin:customers_customer_change", args=[customer.pk])
    response = desk.post(revoke, {"reason": "refunded", "next": back})
    assert response["Location"] == back
    credit.refresh_from_db()
    assert (credit.revoke_reason, credit.revoked_by) == ("refunded", "staff:alice")
    history = desk.get(reverse("admin:credits_customercredit_history", args=[credit.pk])).content.decode()
    assert "refunded" in history and "wrong customer" in history and "alice (staff)" in history


def test_redeem_refused_is_shown_not_500(desk, customer, massage):
    credit = issue(customer, massage)
    credit_services.credit_revoke(account=customer.account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM)
    response = desk.post(reverse("admin:credits_customercredit_redeem", args=[credit.pk]), {}, follow=True)
    assert "Could not redeem" in response.content.decode()
    assert CustomerCredit.objects.get(pk=credit.pk).uses == 0


def test_credit_list_export_keeps_filters_and_uses_export(desk, viewer, customer, gift, massage):
    soon = issue(customer, massage, expiry_date=timezone.now() + timedelta(days=5))
    issue(customer, gift, expiry_date=timezone.now() + timedelta(days=20))
    issue(customer, gift)
    changelist = reverse("admin:credits_customercredit_changelist")
    page = desk.get(changelist, {"expiring": "7"}).content.decode()
    assert page.count("Massage") >= 1 and "Gift card for" not in page
    response = desk.get(reverse("admin:credits_customercredit_export") + "?expiring=30")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(viewer.get(reverse("admin:credits_customercredit_export")).streaming_content).decode())
        )
    )
    assert len(rows) == 3 and {r["revenue_minor"] for r in rows} == {"4500", "20000"}
    day = (timezone.now() + timedelta(days=5)).date().isoformat()
    page = desk.get(changelist, {"expiry_from": day, "expiry_to": day}).content.decode()
    assert "Massage" in page
    assert desk.get(changelist, {"issued_by": "system:test"}).status_code == 200
    assert desk.get(changelist, {"expiry_from": "nope"}).status_code in (200, 302)
    credit_services.credit_redeem(
        account=customer.account, customer_id=customer.pk, credit_id=soon.pk, reference="X9", actor=SYSTEM
    )
    uses = viewer.get(reverse("admin:credits_customercredit_uses_export", args=[soon.pk]))
    lines = list(csv.DictReader(io.StringIO(b"".join(uses.streaming_content).decode())))
    assert [(u["reference"], u["revenue_minor"]) for u in lines] == [("X9", "4500")]


def _generated(account, customers, coupons, *, seed=7):
    """A year of credits: issued at random times, some used (and some uses reversed), some expired,
    some revoked."""
    rng = random.Random(seed)
    now = timezone.now()
    start = now - timedelta(days=400)

    def past(moment):  # nothing happens in the future
        return min(moment, now - timedelta(minutes=1))

    for n in range(120):
        at = start + timedelta(days=rng.randint(0, 380), hours=rng.randint(0, 23))
        with time_machine.travel(at, tick=False):
            customer = rng.choice(customers)
            coupon = rng.choice(coupons)
            expiry = at + timedelta(days=rng.choice([10, 40, 90, 400])) if rng.random() < 0.8 else None
            credit = issue(customer, coupon, expiry_date=expiry, revenue=rng.choice([0, 999, 4500, 20000]))
        for step in range(rng.choice([0, 0, 1, 2])):
            when = at + timedelta(days=rng.randint(0, 30), minutes=step)
            with time_machine.travel(past(when), tick=False):
                try:
                    credit_services.credit_redeem(
                        account=account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM
                    )
                except Exception:
                    break
        if n % 9 == 0 and credit.use_records.exists():
            use = credit.use_records.first()
            with time_machine.travel(past(use.used_at + timedelta(days=3)), tick=False), contextlib.suppress(Exception):
                credit_services.credit_use_reverse(
                    account=account, customer_id=customer.pk, credit_id=credit.pk, use_id=use.pk, actor=SYSTEM
                )
        if n % 5 == 0:
            later = past(at + timedelta(days=rng.randint(1, 60)))
            with time_machine.travel(later, tick=False), contextlib.suppress(Exception):
                credit_services.credit_revoke(
                    account=account, customer_id=customer.pk, credit_id=credit.pk, reason="gen", actor=SYSTEM
                )


def test_liability_report_reconciles_on_generated_data(account, customer, gift, massage):
    other = customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bob")
    multi = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Ten swims", kind="offering", offering="Swim", multi_use=True,
        max_uses=3, default_revenue=3000,
    )  # fmt: skip
    _generated(account, [customer, other], [gift, massage, multi])
    report = reports.liability_report(account=account)
    totals = report.totals
    assert totals.value["expired"] > 0 and totals.value["revoked"] > 0 and totals.value["used"] > 0
    assert totals.count["expired"] > 0 and totals.count["revoked"] > 0
    assert report.reconciles
    credits = CustomerCredit.objects.filter(account=account)
    assert totals.count["issued"] == credits.count()
    assert totals.value["issued"] == sum(c.revenue for c in credits)
    assert totals.value["used"] == sum(c.revenue_recognised for c in credits)
    now = timezone.now()
    active = [c for c in credits if c.status_at(now) == "active"]
    assert totals.count["outstanding"] == len(active)
    assert totals.value["outstanding"] == sum(c.revenue - c.revenue_recognised for c in active)
    # every row's outstanding is the running balance of its coupon
    running = {}
    for row in report.rows:
        f = row.figures.value
        running[row.coupon_id] = running.get(row.coupon_id, 0) + f["issued"] - f["used"] - f["expired"] - f["revoked"]
        assert f["outstanding"] == running[row.coupon_id]
    # the SQL and the row-by-row rules agree
    python = reports._rows_python(account=account, zone=account.timezone, now=report.as_of)
    assert [(c, m, f.value, f.count) for c, m, f in python] == sorted(
        [(r.coupon_id, r.month, r.figures.value, r.figures.count) for r in report.rows],
        key=lambda t: (t[1], str(t[0])),
    )


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


def test_give_discount_counts_only_customers_who_did_not_have_it(account, customer):
    from discounts import services as discount_services

    root = client_for(get_user_model().objects.create_superuser("root", "r@example.com", "x"))
    rule = discount_services.discount_rule_create(
        account=account, actor=SYSTEM, name="Coffee", reward_type="discount_percent", reward_value=10, requirement_stamp=5
    )
    other = customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bob")
    discount_services.discount_rule_give(rule=rule, customer_ids=[customer.pk], actor=SYSTEM)
    response = root.post(
        reverse("admin:customers_customer_changelist"),
        {
            "action": "give_discount_selected",
            "_selected_action": [customer.pk, other.pk],
            "apply": "1",
            "rule": rule.pk,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "to 1 customer; 1 already had it" in page
    summary = root.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "0 of 5" in summary


def test_billing_account_create_top_up_and_transactions_csv(desk, account, customer):
    root = client_for(get_user_model().objects.create_superuser("root", "r@example.com", "x"))
    response = root.post(
        reverse("admin:billing_billingaccount_add"), {"customer": customer.pk, "currency": "VC", "credit_min": 0}
    )
    assert response.status_code == 302
    from billing.models import BillingAccount, BillingTransaction

    wallet = BillingAccount.objects.get(customer=customer)
    assert wallet.created_by == "staff:root"
    page = desk.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "Top up…" in page
    top_up = reverse("admin:billing_billingaccount_top_up", args=[wallet.pk])
    assert desk.post(top_up, {"amount": 0}).status_code == 200
    assert desk.post(top_up, {"amount": 250, "description": "welcome"}).status_code == 302
    wallet.refresh_from_db()
    assert wallet.balance == 250
    assert BillingTransaction.objects.get(billing_account=wallet).created_by == "staff:alice"
    response = desk.get(reverse("admin:billing_billingaccount_transactions_export", args=[wallet.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["type"], r["amount"], r["description"]) for r in rows] == [("credit", "250", "welcome")]
    viewer = client_for(make_staff("v2", "Viewer"))
    assert viewer.post(top_up, {"amount": 5}).status_code == 403
    assert "Top up…" not in viewer.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    wallet.refresh_from_db()
    assert wallet.balance == 250


def test_coupon_list_shows_currency_not_minor_units(desk, gift):
    page = desk.get(reverse("admin:credits_coupon_changelist")).content.decode()
    assert "NOK 200.00" in page and "20000 NOK" not in page


def test_credit_history_button_shows_the_credit_history(desk, customer, massage):
    credit = issue(customer, massage)
    page = desk.get(reverse("admin:credits_customercredit_history", args=[credit.pk])).content.decode()
    assert "Issued" in page or "issued" in page
    assert "test (system)" in page
