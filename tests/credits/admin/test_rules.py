"""The membership credit rule pages (credits/admin/rules.py)."""

import pytest
from django.urls import reverse

from credits.models import MembershipCreditRule
from customers import services as customer_services
from tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.mark.django_db
def test_membership_credit_rule_is_added_through_the_service(root, account, coupon):
    membership_type = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    response = root.post(
        reverse("admin:credits_membershipcreditrule_add"),
        {
            "account": account.pk,
            "membership_type": str(membership_type.pk),
            "coupon": str(coupon.pk),
            "issuing_frequency": "P1M",
            "issue_on_signup": "on",
            "quantity": "2",
            "active": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    rule = MembershipCreditRule.objects.get()
    assert (rule.coupon, rule.membership_type, rule.quantity) == (coupon, membership_type, 2)
