"""The desk's pages for what the credits family gained: a voucher redeemed in part (amount typed in the
currency), a bulk revoke with a reference, and the bulk grant's whole reject report."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.urls import reverse

from credits import services as credit_services
from credits.admin import bulk
from credits.models import CreditEvent, CreditUse, CustomerCredit
from tests.conftest import SYSTEM, client_for, make_staff, snapshot
from tests.credits.admin.conftest import messages_of

pytestmark = pytest.mark.django_db
CREDITS = reverse("admin:credits_customercredit_changelist")


@pytest.fixture
def desk(db):
    return client_for(make_staff("alice", "Credit desk"))


@pytest.fixture
def voucher(account, customer):
    coupon = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Gift card", kind="monetary", value=20000, default_revenue=20000
    )
    return credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="manual")


def redeem_url(credit):
    return reverse("admin:credits_customercredit_redeem", args=[credit.pk])


# --- a voucher redeemed in part ----------------------------------------------------------------


def test_the_redeem_page_of_a_voucher_asks_for_an_amount_in_its_currency(desk, voucher, credit):
    page = desk.get(redeem_url(voucher)).content.decode()
    assert "Amount (NOK)" in page and 'name="amount"' in page
    assert re.search(r"Left to spend: <strong><span class=\"money\">NOK\s200.00</span></strong>", page)
    assert 'name="amount"' not in desk.get(redeem_url(credit)).content.decode()  # an offering takes no amount


def test_the_desk_redeems_nok_80_of_a_nok_200_voucher(desk, voucher):
    response = desk.post(redeem_url(voucher), {"amount": "80", "reference": "RCPT-80", "note": ""})
    assert response.status_code == 302
    assert messages_of(response) == [f"Redeemed NOK 80.00 of {voucher}; NOK 120.00 left."]
    voucher.refresh_from_db()
    assert (voucher.remaining_value, voucher.uses, voucher.status) == (12000, 1, "active")
    use = CreditUse.objects.get(credit=voucher)
    assert (use.amount, use.revenue, use.reference, use.used_by) == (8000, 8000, "RCPT-80", "staff:alice")
    page = desk.get(reverse("admin:credits_customercredit_change", args=[voucher.pk])).content.decode()
    assert re.search(r"NOK\s120.00</span> left of <span class=\"money\">NOK\s200.00", page)
    assert "amount NOK\u00a080.00" in page or "amount NOK 80.00" in page  # the history entry
    # Empty: the rest.
    desk.post(redeem_url(voucher), {"amount": "", "reference": "", "note": ""})
    voucher.refresh_from_db()
    assert (voucher.remaining_value, voucher.status) == (0, "redeemed")


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("500", "Only NOK 200.00 is left on this credit."),
        ("0", "Type an amount greater than 0, or leave it empty."),
        ("80.005", "NOK has 2 decimals."),
        ("-5", "Ensure this value is greater than or equal to 0."),
        ("lots", "Enter a number."),
    ],
)
def test_a_bad_amount_at_the_desk_is_shown_on_the_form_and_writes_nothing(desk, voucher, typed, error):
    before = snapshot()
    response = desk.post(redeem_url(voucher), {"amount": typed, "reference": "", "note": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [error]
    assert snapshot() == before


def test_an_amount_the_service_refuses_after_the_page_was_read_is_shown_on_the_form(desk, voucher):
    """Someone else spent part of the voucher after the desk opened the page: the form's own check passed
    (it read 200 left), the service's check under the row lock refuses, and nothing is written."""
    page = desk.get(redeem_url(voucher))
    assert page.status_code == 200
    credit_services.credit_redeem(
        account=voucher.account, customer_id=voucher.customer_id, credit_id=voucher.pk, actor=SYSTEM, amount=15000
    )
    before = snapshot()
    from credits.admin import forms as admin_forms

    original = admin_forms.CreditRedeemForm.clean_amount
    try:  # the form as it was read: 200 left
        admin_forms.CreditRedeemForm.clean_amount = lambda form: 8000
        response = desk.post(redeem_url(voucher), {"amount": "80", "reference": "", "note": ""})
    finally:
        admin_forms.CreditRedeemForm.clean_amount = original
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [
        "Must be at most the value left on the credit (5000 minor units)."
    ]
    assert snapshot() == before


# --- bulk revoke with a reference --------------------------------------------------------------------


def test_bulk_revoke_asks_for_a_reference_keeps_it_and_a_resent_confirmation_revokes_nothing_twice(
    desk, customer, coupon, credit
):
    other = credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="api")
    action = {"action": "revoke_selected", "_selected_action": [str(credit.pk), str(other.pk)], "index": "0"}
    asked = desk.post(CREDITS, action)
    reference = asked.context["form"]["reference"].value()
    assert reference.startswith("revoke-") and 'name="reference"' in asked.content.decode()
    confirm = {**action, "confirm": "yes", "reason": "Booked twice", "reference": reference}

    done = desk.post(CREDITS, confirm)

    assert any(f"Revoked 2 credits (reference {reference})" in m for m in messages_of(done))
    for each in (credit, other):
        event = CreditEvent.objects.get(credit=each, action="revoked")
        assert (event.reason, event.data, event.actor) == ("Booked twice", {"reference": reference}, "staff:alice")
    page = desk.get(reverse("admin:credits_customercredit_change", args=[credit.pk])).content.decode()
    assert f"reference {reference}" in page

    before = snapshot()
    again = desk.post(CREDITS, confirm)  # sent twice (a double click, a reload)
    assert snapshot() == before
    assert not [m for m in messages_of(again) if m.startswith("Could not")]


def test_bulk_revoke_without_a_reference_is_refused_and_writes_nothing(desk, credit):
    before = snapshot()
    response = desk.post(
        CREDITS,
        {"action": "revoke_selected", "_selected_action": [str(credit.pk)], "confirm": "yes", "reason": "x",
         "reference": ""},
    )  # fmt: skip
    assert response.status_code == 200 and response.context["form"].errors["reference"]
    assert snapshot() == before


def test_a_revoke_reference_does_not_excuse_revoking_a_credit_revoked_otherwise(customer, credit):
    credit_services.credit_revoke(
        account=customer.account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM, reason="x"
    )
    from config.kernel.exceptions import NotPossible

    with pytest.raises(NotPossible):
        credit_services.credit_revoke(
            account=customer.account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM, reference="r-1"
        )


# --- the whole reject report ---------------------------------------------------------------------------


def test_the_reject_download_holds_every_rejected_row_streamed(desk, account, customer, coupon, monkeypatch):
    """2,500 unknown numbers (the page once kept the first 1,000), kept in chunks of 1,000 here."""
    monkeypatch.setattr(bulk, "REJECT_CHUNK_ROWS", 1000)
    numbers = [str(900000000 + n) for n in range(2500)]
    text = "number\n" + "\n".join([str(customer.number), *numbers]) + "\n"
    upload = SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")

    page = desk.post(
        reverse("admin:credits_customercredit_bulk_grant"),
        {"account": account.pk, "coupon": coupon.pk, "dry_run": "on", "customers": upload},
    ).content.decode()

    assert "Download all 2500 rejected rows (CSV)" in page and "--report has them all" not in page
    response = desk.get(re.search(r'id="reject-report" href="([^"]+)"', page)[1])
    assert isinstance(response, StreamingHttpResponse)
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "row,identifier,reason" and len(lines) == 2501
    assert lines[1] == f"3,{numbers[0]},unknown customer (number {numbers[0]})"
    assert lines[-1] == f"2502,{numbers[-1]},unknown customer (number {numbers[-1]})"


def test_a_reject_report_missing_a_chunk_is_no_longer_offered(desk, account, customer, coupon, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(bulk, "REJECT_CHUNK_ROWS", 2)
    text = "number\n1\n2\n3\n"
    upload = SimpleUploadedFile("m.csv", text.encode(), content_type="text/csv")
    page = desk.post(
        reverse("admin:credits_customercredit_bulk_grant"),
        {"account": account.pk, "coupon": coupon.pk, "dry_run": "on", "customers": upload},
    ).content.decode()
    url = re.search(r'id="reject-report" href="([^"]+)"', page)[1]
    token = url.rsplit("/", 1)[1].removesuffix(".csv")
    cache.delete(f"bulk-grant-rejects:{token}:1")
    assert desk.get(url).status_code == 404


def test_the_desk_bulk_grant_does_not_write_a_credit_for_a_rejected_row(desk, account, customer, coupon):
    text = f"number\n{customer.number}\n123\n"
    upload = SimpleUploadedFile("m.csv", text.encode(), content_type="text/csv")
    desk.post(
        reverse("admin:credits_customercredit_bulk_grant"),
        {"account": account.pk, "coupon": coupon.pk, "customers": upload},
    )
    assert CustomerCredit.objects.filter(source="bulk").count() == 1
