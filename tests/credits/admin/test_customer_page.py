"""The credits piece of the customer page (credits/admin/customer_page.py): the summary, the
credits with their buttons, the benefits panel, the Issue credit link."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import services as credit_services
from tests.conftest import SYSTEM, client_for
from tests.credits.admin.conftest import (
    ISSUE,
    change_url,
    issue,
)

pytestmark = pytest.mark.django_db


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


@pytest.mark.django_db
def test_credit_desk_sees_the_issue_credit_link_and_the_viewer_does_not(desk, viewer, customer):
    link = f"{ISSUE}?customer={customer.pk}"

    assert link in desk.get(change_url(customer)).content.decode()
    assert link not in viewer.get(change_url(customer)).content.decode()


def test_customer_page_shows_benefits_with_validity_and_uses_left(superuser, customer, coupon, make_coupon):
    multi = make_coupon(
        customer.account, name="Sauna", offering="Sauna", benefit_key="sauna", multi_use=True, max_uses=5
    )
    credit_services.coupon_update(coupon=coupon, actor=SYSTEM, benefit_key="massage")
    massage = credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="manual")
    credit_services.credit_redeem(account=customer.account, customer_id=customer.pk, credit_id=massage.pk, actor=SYSTEM)
    sauna = credit_services.credit_issue(customer=customer, coupon=multi, actor=SYSTEM, source="manual")
    credit_services.credit_redeem(account=customer.account, customer_id=customer.pk, credit_id=sauna.pk, actor=SYSTEM)
    page = client_for(superuser).get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "<tr><td>massage</td><td>no</td><td>0</td></tr>" in page
    assert "<tr><td>sauna</td><td>yes</td><td>4</td></tr>" in page


def test_customer_page_shows_a_coupon_name_as_text(desk, customer, account):
    marked_up = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="<i>Spa</i> & sauna", kind="offering", offering="<b>Spa</b>"
    )
    credit = credit_services.credit_issue(customer=customer, coupon=marked_up, actor=SYSTEM, source="manual")

    page = desk.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()

    link = f'<a class="credit-link" href="{change_url(credit)}">&lt;i&gt;Spa&lt;/i&gt; &amp; sauna</a>'
    assert page.count(link) == 2  # the summary's table and the credits inline
    assert "&lt;b&gt;Spa&lt;/b&gt;: 1 use" in page
    assert "<i>Spa</i>" not in page and "<b>Spa</b>" not in page
