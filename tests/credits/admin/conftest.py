"""Fixtures and helpers of the credits admin's tests: one account (NOK, Europe/Oslo) with a massage coupon
and a gift card, a customer with a credit, and the admin's URLs and forms. The staff users and their
clients (desk, viewer, root) are in tests/conftest.py."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from credits import services as credit_services
from credits.models import CustomerCredit
from customers import services as customer_services
from tests.conftest import SYSTEM
from tests.world import oslo_account

CREDITS = reverse("admin:credits_customercredit_changelist")
ISSUE = reverse("admin:credits_customercredit_add")


@pytest.fixture
def account(db):
    return oslo_account("T00000042")


@pytest.fixture
def coupon(account):
    return credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Massage", kind="offering", offering="Massage 60", default_revenue=4500
    )


@pytest.fixture
def customer(account):
    return customer_services.customer_create(
        account=account, actor=SYSTEM, first_name="Ada", last_name="Lovelace", email="ada@example.com"
    )


@pytest.fixture
def credit(customer, coupon):
    return credit_services.credit_issue(
        customer=customer, coupon=coupon, actor=SYSTEM, source=CustomerCredit.Source.API
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


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def reverse_use_url(credit, use):
    return reverse("admin:credits_customercredit_reverse_use", args=[credit.pk, use.pk])


def issue_form(customer, coupon, **overrides):
    data = {
        "customer": str(customer.pk),
        "coupon": str(coupon.pk),
        "membership": "",
        "expiry_date_0": "",
        "expiry_date_1": "",
        "revenue": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def revoke_action(*credits):
    return {"action": "revoke_selected", "_selected_action": [str(c.pk) for c in credits], "index": "0"}


def revoke_confirmation(*credits, reason="Booked twice", reference="revoke-test-1"):
    return {
        "action": "revoke_selected",
        "_selected_action": [str(c.pk) for c in credits],
        "confirm": "yes",
        "reason": reason,
        "reference": reference,
    }


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def redeem(credit):
    return credit_services.credit_redeem(
        account=credit.account, customer_id=credit.customer_id, credit_id=credit.pk, actor=SYSTEM
    )


def action_names(response):
    action_form = response.context["action_form"]
    if action_form is None:
        return []
    return [name for name, _label in action_form.fields["action"].choices if name]


def issue(customer, coupon, **values):
    return credit_services.credit_issue(
        customer=customer, coupon=coupon, actor=SYSTEM, source=CustomerCredit.Source.API, **values
    )
