"""The front desk's admin pages, as the desk and a finance manager use them: times in the account's zone
(shown and typed), bulk writes confirmed with a reference, refusals inside the admin, the customer's
history, mixed identifier columns in a bulk grant file, and the links from the customer page."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from billing import services as billing_services
from credits import services as credit_services
from credits.models import CustomerCredit
from credits.services import grants
from customers import services as customer_services
from customers.models import Account, ApiClient
from discounts import services as discount_services
from discounts.models import DiscountRef
from tests.conftest import SYSTEM, client_for, make_staff, snapshot
from tests.staff.two_factor import reauthenticated
from tests.world import STAMP_CARD

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
CREDITS = reverse("admin:credits_customercredit_changelist")


@pytest.fixture
def account(db):
    # A second account in another zone: the page must take the zone of the account it shows, not the only one.
    Account.objects.create(id="T00000098", name="Elsewhere", timezone="America/New_York")
    return customer_services.account_create(
        account_id="T00000099", name="Fjord Spa", currency="NOK", timezone_name="Europe/Oslo"
    )


@pytest.fixture
def customer(account):
    return customer_services.customer_create(
        account=account, actor=SYSTEM, first_name="Ada", last_name="Lovelace", email="ada@example.com", card_number="42"
    )


@pytest.fixture
def massage(account):
    return credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Massage", kind="offering", offering="Massage 60", default_revenue=4500
    )


def issue(desk, customer, coupon, *, day="2027-01-31", at=""):
    url = reverse("admin:credits_customercredit_add") + f"?customer={customer.pk}"
    return desk.post(
        url,
        {
            "customer": str(customer.pk),
            "coupon": str(coupon.pk),
            "membership": "",
            "expiry_date_0": day,
            "expiry_date_1": at,
            "revenue": "",
            "_save": "Save",
        },
    )


# --- time zones ---------------------------------------------------------------------------------


def test_a_typed_expiry_time_is_read_in_the_account_zone(desk, customer, massage):
    response = issue(desk, customer, massage, at="23:59:59")

    assert response.status_code == 302, response.context["adminform"].form.errors
    credit = CustomerCredit.objects.get()
    assert credit.expiry_date == datetime(2027, 1, 31, 23, 59, 59, tzinfo=OSLO)
    page = desk.get(reverse("admin:credits_customercredit_change", args=[credit.pk])).content.decode()
    assert "2027-01-31 23:59 Europe/Oslo" in page


def test_a_date_alone_is_the_end_of_that_day_in_the_account_zone(desk, customer, massage):
    response = issue(desk, customer, massage, at="")

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert CustomerCredit.objects.get().expiry_date == datetime(2027, 1, 31, 23, 59, 59, tzinfo=OSLO)


def test_the_admin_now_button_is_in_the_account_zone(desk, customer):
    page = desk.get(reverse("admin:credits_customercredit_add") + f"?customer={customer.pk}").content.decode()

    offset = int(timezone.now().astimezone(OSLO).utcoffset().total_seconds())
    assert f'data-admin-utc-offset="{offset}"' in page
    # Each of the split inputs has its own label, and the zone is named beside them.
    assert '<label for="id_expiry_date_0">' in page and '<label for="id_expiry_date_1">' in page
    assert "Europe/Oslo" in page


DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?P<after>[^<]{0,14})")
DJANGO_DEFAULT = re.compile(r"(Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)\.? \d{1,2}, \d{4}, \d")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r"<[^>]+>", "<", html)
    return html


def test_every_datetime_on_the_customer_credit_and_billing_account_pages_carries_the_account_zone(
    desk, account, customer, massage
):
    credit = credit_services.credit_issue(
        customer=customer, coupon=massage, actor=SYSTEM, source="api", expiry_date=timezone.now() + timedelta(days=3)
    )
    credit_services.credit_redeem(account=account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM)
    membership_type = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    customer_services.membership_create(customer=customer, membership_type_id=membership_type.pk, actor=SYSTEM)
    billing_account = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    billing_services.billing_top_up(
        account=account, billing_account_id=billing_account.pk, usage_id=uuid.uuid4(), amount=50, actor=SYSTEM
    )
    pages = {
        "customer": reverse("admin:customers_customer_change", args=[customer.pk]),
        "customer history": reverse("admin:customers_customer_history", args=[customer.pk]),
        "credit": reverse("admin:credits_customercredit_change", args=[credit.pk]),
        "credit history": reverse("admin:credits_customercredit_history", args=[credit.pk]),
        "billing account": reverse("admin:billing_billingaccount_change", args=[billing_account.pk]),
    }
    for name, url in pages.items():
        response = desk.get(url)
        assert response.status_code == 200, name
        text = visible_text(response.content.decode())
        found = list(DATETIME.finditer(text))
        assert found, f"no time on the {name} page"
        for match in found:
            assert match["after"].startswith(" Europe/Oslo"), f"{name}: {match[0]!r} does not name the zone"
        assert not DJANGO_DEFAULT.search(text), f"{name}: {DJANGO_DEFAULT.search(text)[0]!r}"


# --- bulk writes, refusals, history -------------------------------------------------------------


def test_bulk_redeem_asks_for_confirmation_and_a_reference_before_it_writes(desk, customer, massage):
    credits = [
        credit_services.credit_issue(customer=customer, coupon=massage, actor=SYSTEM, source="api") for _ in range(2)
    ]
    action = {"action": "redeem_selected", "_selected_action": [str(c.pk) for c in credits], "index": "0"}
    before = snapshot()

    asked = desk.post(CREDITS, action)

    assert asked.status_code == 200 and snapshot() == before
    page = asked.content.decode()
    assert 'name="reference"' in page and "Redeem 2 credits" in page
    refused = desk.post(CREDITS, {**action, "confirm": "yes", "reference": ""})
    assert refused.status_code == 200 and snapshot() == before
    done = desk.post(CREDITS, {**action, "confirm": "yes", "reference": "TILL-7", "note": ""})
    assert done.status_code == 302
    assert sorted(c.use_records.get().reference for c in credits) == ["TILL-7", "TILL-7"]


def test_the_header_has_no_view_site_link(desk):
    assert "View site" not in desk.get(reverse("admin:index")).content.decode()


def test_a_viewer_opening_an_action_address_gets_a_page_of_the_admin_with_a_way_back(viewer, customer, massage):
    credit = credit_services.credit_issue(customer=customer, coupon=massage, actor=SYSTEM, source="api")
    before = snapshot()
    change = reverse("admin:credits_customercredit_change", args=[credit.pk])

    for url in (
        reverse("admin:credits_customercredit_redeem", args=[credit.pk]),
        reverse("admin:credits_customercredit_revoke", args=[credit.pk]),
    ):
        response = viewer.get(url, HTTP_REFERER=f"http://testserver{change}")
        assert response.status_code == 403
        page = response.content.decode()
        assert 'id="site-name"' in page and "may not do this" in page
        assert f'href="http://testserver{change}" class="button" id="go-back"' in page
        assert viewer.post(url, {"reason": "x"}).status_code == 403
    assert snapshot() == before


def test_customer_history_shows_the_credits_issued_and_revoked_for_the_customer(desk, account, customer, massage):
    credit = credit_services.credit_issue(customer=customer, coupon=massage, actor=SYSTEM, source="api")
    credit_services.credit_revoke(
        account=account, customer_id=customer.pk, credit_id=credit.pk, reason="booked twice", actor=SYSTEM
    )
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    billing_services.billing_top_up(
        account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=70, actor=SYSTEM
    )
    card = discount_services.discount_rule_create(account=account, actor=SYSTEM, **STAMP_CARD)
    discount_services.discount_usage_record(
        rule=card,
        receipt=discount_services.Receipt(customer_id=str(customer.pk), ref="R-1", ref_type="receipt_add", stamp=1,
                                          usage=0),
        actor=SYSTEM,
    )  # fmt: skip

    page = desk.get(reverse("admin:customers_customer_history", args=[customer.pk])).content.decode()

    assert "have a change history" not in page
    assert "Credit issued" in page and "Credit revoked" in page and "booked twice" in page
    assert "Billing credit: 70 VC" in page and "top-up" in page
    assert "Receipt recorded: 1 stamp" in page and "Coffee card" in page and "receipt R-1" in page
    assert reverse("admin:credits_customercredit_change", args=[credit.pk]) in page


def test_a_bulk_grant_file_with_number_and_email_finds_a_row_by_its_email_when_the_number_is_empty(
    desk, account, customer, massage
):
    other = customer_services.customer_create(account=account, actor=SYSTEM, email="bo@example.com")
    text = f"number,email\n{customer.number},\n,bo@example.com\n,\n"
    upload = SimpleUploadedFile("grant.csv", text.encode(), content_type="text/csv")

    response = desk.post(
        reverse("admin:credits_customercredit_bulk_grant"),
        {"account": account.pk, "coupon": massage.pk, "customers": upload},
    )

    summary = response.context["summary"]
    assert (summary.granted, summary.rejected) == (2, 1)
    assert [r.reason for r in summary.rejections] == ["no number or email"]
    assert set(CustomerCredit.objects.values_list("customer_id", flat=True)) == {customer.pk, other.pk}


def test_the_coupon_name_in_the_customer_credit_list_opens_the_credit(desk, customer, massage):
    credit = credit_services.credit_issue(customer=customer, coupon=massage, actor=SYSTEM, source="api")

    page = desk.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()

    credit_url = reverse("admin:credits_customercredit_change", args=[credit.pk])
    assert f'<a class="credit-link" href="{credit_url}">Massage</a>' in page
    assert reverse("admin:credits_coupon_change", args=[massage.pk]) not in page


# --- money in currency units --------------------------------------------------------------------


def test_revenue_is_typed_in_currency_units_and_shown_without_minor_units(desk, customer, massage):
    url = reverse("admin:credits_customercredit_add") + f"?customer={customer.pk}"
    form = {"customer": str(customer.pk), "coupon": str(massage.pk), "membership": "", "expiry_date_0": "",
            "expiry_date_1": "", "_save": "Save"}  # fmt: skip

    too_fine = desk.post(url, {**form, "revenue": "45.505"})
    assert too_fine.status_code == 200 and not CustomerCredit.objects.exists()
    assert too_fine.context["adminform"].form.errors["revenue"] == ["NOK has 2 decimals."]
    assert desk.post(url, {**form, "revenue": "45.50"}).status_code == 302

    credit = CustomerCredit.objects.get()
    assert credit.revenue == 4550
    page = desk.get(reverse("admin:credits_customercredit_change", args=[credit.pk])).content.decode()
    assert "NOK 45.50" in page and "minor units" not in page


def test_the_summary_counts_every_kind_of_credit_and_names_the_one_that_expires_next(desk, account, customer, massage):
    sauna = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Sauna 10-pack", kind="offering", offering="Sauna",
        multi_use=True, max_uses=10, default_revenue=10000,
    )  # fmt: skip
    credit_services.credit_issue(customer=customer, coupon=massage, actor=SYSTEM, source="api")
    pack = credit_services.credit_issue(
        customer=customer, coupon=sauna, actor=SYSTEM, source="api", expiry_date=timezone.now() + timedelta(days=5)
    )
    for _ in range(2):
        credit_services.credit_redeem(account=account, customer_id=customer.pk, credit_id=pack.pk, actor=SYSTEM)

    page = desk.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()

    remaining = page[page.index('id="summary-remaining"') :]
    assert remaining.startswith('id="summary-remaining"><span class="money">NOK 125.00</span>')
    holdings = page[page.index('id="summary-holdings"') : page.index("</p>", page.index('id="summary-holdings"'))]
    assert "Massage 60: 1 use" in holdings and "Sauna: 8 uses" in holdings
    next_expiry = page[page.index('id="summary-next-expiry"') :]
    pack_url = reverse("admin:credits_customercredit_change", args=[pack.pk])
    assert next_expiry.startswith(
        f'id="summary-next-expiry"><a class="credit-link" href="{pack_url}">Sauna 10-pack</a>'
    )


# --- names, not codes ---------------------------------------------------------------------------


def test_actors_sources_and_batches_are_named(desk, account, customer, massage):
    issue(desk, customer, massage, at="12:00")
    for batch in ("grant-a", "grant-b"):
        grants.credit_grant_bulk(
            account=account, coupon=massage, rows=[grants.SourceRow(None, str(customer.pk))], column="customer_id",
            batch_key=batch,
        )  # fmt: skip
    credit = CustomerCredit.objects.get(source="manual")

    page = desk.get(reverse("admin:credits_customercredit_change", args=[credit.pk])).content.decode()
    assert "alice (staff)" in page and "staff:alice" not in page
    assert "issued at the desk" in page
    listing = desk.get(CREDITS)
    issued_by = next(spec for spec in listing.context["cl"].filter_specs if spec.title == "issued by")
    names = [choice["display"] for choice in issued_by.choices(listing.context["cl"])]
    assert [name for name in names if "bulk" in str(name)] == ["bulk grants"]
    assert "alice (staff)" in names
    assert desk.get(CREDITS, {"issued_by": "bulk:"}).context["cl"].result_count == 2


# --- stamp cards and discounts at the desk ------------------------------------------------------


def desk_form(page: str, what: str) -> dict:
    """The fields of the customer page's one-click form for `what` (stamp or reward)."""
    at = page.index(f'name="what" value="{what}"')
    start = page.rindex('<form method="post"', 0, at)
    form = page[start : page.index("</form>", at)]
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))


def test_the_desk_adds_stamps_and_uses_the_reward_from_the_customer_page(desk, viewer, account, customer):
    rule = discount_services.discount_rule_create(
        account=account, actor=SYSTEM, **{**STAMP_CARD, "requirement_stamp": 2}
    )
    page_url = reverse("admin:customers_customer_change", args=[customer.pk])
    desk_url = reverse("admin:discounts_discountrule_desk")

    viewer_page = viewer.get(page_url).content.decode()
    assert "Coffee card" in viewer_page and "Add a stamp" not in viewer_page
    first = desk_form(desk.get(page_url).content.decode(), "stamp")
    before = snapshot()
    assert viewer.post(desk_url, first).status_code == 403 and snapshot() == before

    assert desk.post(desk_url, first).status_code == 302
    assert desk.post(desk_url, first).status_code == 302  # sent twice: one stamp
    page = desk.get(page_url).content.decode()
    assert "1 of 2" in page and "Use the reward" not in page
    desk.post(desk_url, desk_form(page, "stamp"))
    page = desk.get(page_url).content.decode()
    assert "2 of 2" in page
    done = desk.post(desk_url, desk_form(page, "reward"), follow=True)

    ref = DiscountRef.objects.get(rule=rule, customer=customer)
    assert (ref.stamp, ref.usage) == (2, 1)
    assert "Used the reward of Coffee card" in done.content.decode() and "0 of 2" in done.content.decode()


def test_give_discount_from_the_customer_page(account, customer):
    user = make_staff("mona")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_customer", "change_discountrule", "view_discountrule"])
    )
    manager = client_for(user)
    rule = discount_services.discount_rule_create(
        account=account, actor=SYSTEM, name="VIP", reward_type="discount_item_quantity", reward_value=1, private=True
    )
    page = manager.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    give_url = reverse("admin:discounts_discountrule_give") + f"?customer={customer.pk}"
    assert f'href="{give_url}" class="give-discount">Give discount…' in page.replace("&amp;", "&")

    response = manager.post(give_url, {"rule": str(rule.pk)})

    assert response.status_code == 302
    assert DiscountRef.objects.get(rule=rule, customer=customer).given


# --- finding a customer -------------------------------------------------------------------------


def test_the_home_page_search_opens_an_exact_card_match_and_lists_a_partial_one(desk, account, customer):
    customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bo", card_number="4277")
    home = desk.get(reverse("admin:index")).content.decode()
    assert 'id="customer-search"' in home and "data-autofocus" in home
    find = reverse("admin:customers_customer_find")

    exact = desk.get(find, {"q": " 42 "})
    assert exact.status_code == 302
    assert exact["Location"] == reverse("admin:customers_customer_change", args=[customer.pk])
    partial = desk.get(find, {"q": "427"}, follow=True)
    assert partial.context["cl"].result_count == 1 and "Bo" in partial.content.decode()


def test_creating_a_billing_account_searches_customers_instead_of_listing_them(account, customer):
    user = make_staff("finn")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "add_billingaccount"]))
    page = client_for(user).get(reverse("admin:billing_billingaccount_add")).content.decode()

    assert "admin-autocomplete" in page and str(customer) not in page
    found = client_for(user).get(
        reverse("admin:autocomplete"),
        {"term": "Ada", "app_label": "billing", "model_name": "billingaccount", "field_name": "customer"},
    )
    assert [row["id"] for row in found.json()["results"]] == [str(customer.pk)]


# --- bulk grant ---------------------------------------------------------------------------------


def test_bulk_grant_keeps_the_file_after_a_dry_run_runs_it_now_and_keeps_a_history(desk, account, customer, massage):
    page_url = reverse("admin:credits_customercredit_bulk_grant")
    text = f"number\n{customer.number}\n999999\n"
    upload = SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")
    before = snapshot()

    dry = desk.post(page_url, {"account": account.pk, "coupon": massage.pk, "dry_run": "on", "customers": upload})

    assert snapshot() == before
    page = dry.content.decode()
    assert 'id="run-now"' in page and "Run it now: grant 1 credit" in page
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page[page.index('id="run-now-form"') :]))
    rejects = re.search(r'id="reject-report" href="([^"]+)"', page)[1]
    report = b"".join(desk.get(rejects).streaming_content).decode()
    assert report.splitlines() == ["row,identifier,reason", "3,999999,unknown customer (number 999999)"]

    done = desk.post(page_url, fields)  # no file sent: the kept one is used

    assert done.context["summary"].granted == 1 and not done.context["summary"].dry_run
    credit = CustomerCredit.objects.get()
    assert credit.customer == customer and credit.issued_by == f"bulk:{done.context['summary'].batch_key}"
    history = done.content.decode()[done.content.decode().index('id="batch-history"') :]
    assert done.context["summary"].batch_key in history and "alice" in history and "Massage" in history


# --- API clients ----------------------------------------------------------------------------------


def test_the_api_client_form_describes_scopes_and_offers_presets(account):
    # (Creating an API client asks for the password again first: tests/staff/test_reauth.py.)
    root = reauthenticated(client_for(get_user_model().objects.create_superuser("root", "root@example.com", "unused")))
    add = reverse("admin:customers_apiclient_add")
    page = root.get(add).content.decode()
    assert "CUSTOMER_BENEFIT_WRITE: use a customer&#x27;s benefits" in page
    assert "Benefits API (/v1/customers/{number}/benefits...)" in page and "data-presets" in page

    response = root.post(add, {"account": account.pk, "name": "till-1", "preset": "pos", "scopes": ["billing:read"]})

    assert response.status_code == 302
    client = ApiClient.objects.get(name="till-1")
    assert {"credits:write", "CUSTOMER_BENEFIT_WRITE", "billing:read"} <= set(client.scopes)
    looker = make_staff("lou")
    looker.user_permissions.add(Permission.objects.get(codename="view_apiclient"))
    assert client_for(looker).get(reverse("admin:customers_apiclient_change", args=[client.pk])).status_code == 200
    assert root.post(add, {"account": account.pk, "name": "none", "preset": ""}).status_code == 200
    assert not ApiClient.objects.filter(name="none").exists()


def test_a_bulk_top_up_carries_a_reference_and_a_second_send_tops_up_nothing(desk, account, customer):
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    changelist = reverse("admin:billing_billingaccount_changelist")
    action = {"action": "top_up_selected", "_selected_action": [str(wallet.pk)]}
    asked = desk.post(changelist, action).content.decode()
    reference = re.search(r'name="reference" value="([^"]+)"', asked)[1]
    confirm = {**action, "apply": "1", "amount": "25", "description": "", "reference": reference}

    first = desk.post(changelist, confirm, follow=True)
    desk.post(changelist, confirm)

    wallet.refresh_from_db()
    assert wallet.balance == 25 and wallet.transactions.count() == 1
    assert f"Topped up 1 billing account by 25 (reference {reference})." in first.content.decode()
