import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from billing import services
from billing.models import BillingTransaction
from tests.conftest import SYSTEM
from tests.credits.test_admin import client_for, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet(account, customer):
    return services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)


def test_billing_account_page_shows_balance_transactions_and_feature_counts(account, wallet, customer):
    services.billing_top_up(
        account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=50, actor=SYSTEM
    )
    services.billing_usage_report(
        account=account,
        billing_account_id=wallet.pk,
        actor=SYSTEM,
        usages=[
            services.Usage(id=uuid.uuid4(), type="feature", amount=2, source="exports"),
            services.Usage(id=uuid.uuid4(), type="credit", amount=7),
        ],
    )
    root = client_for(get_user_model().objects.create_superuser("root", "r@example.com", "x"))
    page = root.get(reverse("admin:billing_billingaccount_change", args=[wallet.pk])).content.decode()
    assert "<tr><td>exports</td><td>1</td><td>2</td></tr>" in page
    assert "system.awarded" in page and ">43<" in page
    customer_page = root.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert str(wallet.pk) in customer_page


def test_credit_desk_tops_up_and_viewer_cannot(wallet):
    changelist = reverse("admin:billing_billingaccount_changelist")
    desk = client_for(make_staff("alice", "Credit desk"))
    desk.post(
        changelist,
        {
            "action": "top_up_selected",
            "_selected_action": [str(wallet.pk)],
            "apply": "1",
            "amount": "25",
            "description": "goodwill",
        },
    )
    wallet.refresh_from_db()
    tx = BillingTransaction.objects.get()
    assert wallet.balance == 25 and tx.created_by == "staff:alice" and tx.description == "goodwill"
    viewer = client_for(make_staff("victor", "Viewer"))
    viewer.post(
        changelist, {"action": "top_up_selected", "_selected_action": [str(wallet.pk)], "apply": "1", "amount": "25"}
    )
    wallet.refresh_from_db()
    assert wallet.balance == 25 and BillingTransaction.objects.count() == 1
