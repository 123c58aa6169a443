import csv
import io
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from billing import services
from billing.models import BillingAccount, BillingTransaction
from tests.conftest import SYSTEM, client_for, make_staff

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


def test_billing_account_create_top_up_and_transactions_csv(desk, root, account, customer):
    response = root.post(
        reverse("admin:billing_billingaccount_add"), {"customer": customer.pk, "currency": "VC", "credit_min": 0}
    )
    assert response.status_code == 302
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
