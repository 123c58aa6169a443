import pytest
from django.urls import reverse

from customers import services as customer_services
from discounts import services
from discounts.models import DiscountRef, DiscountRule
from tests.conftest import SYSTEM, client_for, make_staff
from tests.world import STAMP_CARD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(account):
    return services.discount_rule_create(account=account, actor=SYSTEM, **STAMP_CARD)


def test_rule_pages_show_statistics(root, rule, customer):
    services.discount_usage_record(
        rule=rule,
        receipt=services.Receipt(customer_id=customer.pk, ref="r1", ref_type="receipt_add", usage=0, stamp=3),
        actor=SYSTEM,
    )
    assert root.get(reverse("admin:discounts_discountrule_changelist")).status_code == 200
    page = root.get(reverse("admin:discounts_discountrule_change", args=[rule.pk])).content.decode()
    assert "holders 1, stamp 3, used 0, usage 0, amount 0" in page
    ref = DiscountRef.objects.get()
    ref_page = root.get(reverse("admin:discounts_discountref_change", args=[ref.pk]))
    assert ref_page.status_code == 200 and "r1" in ref_page.content.decode()
    assert root.post(reverse("admin:discounts_discountref_delete", args=[ref.pk]), {"post": "yes"}).status_code == 403


def test_rule_is_created_through_the_service(root, account):
    response = root.post(
        reverse("admin:discounts_discountrule_add"),
        {
            "account": account.pk,
            "name": "Debit",
            "active": "on",
            "purchase_from_0": "2026-01-01",
            "purchase_from_1": "00:00:00",
            "reward_type": "discount_debit",
            "reward_value": "10000",
            "metadata": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert DiscountRule.objects.get().created_by == "staff:root"


def test_give_a_rule_to_selected_customers(root, rule, customer):
    changelist = reverse("admin:customers_customer_changelist")
    done = root.post(
        changelist,
        {
            "action": "give_discount_selected",
            "_selected_action": [str(customer.pk)],
            "apply": "1",
            "rule": str(rule.pk),
        },
    )
    assert done.status_code == 302
    ref = DiscountRef.objects.get()
    assert ref.given and ref.customer_id == customer.pk and ref.created_by == "staff:root"


def test_viewer_sees_rules_but_cannot_give(rule, customer):
    viewer = client_for(make_staff("victor", "Viewer"))
    assert viewer.get(reverse("admin:discounts_discountrule_changelist")).status_code == 200
    viewer.post(
        reverse("admin:customers_customer_changelist"),
        {
            "action": "give_discount_selected",
            "_selected_action": [str(customer.pk)],
            "apply": "1",
            "rule": str(rule.pk),
        },
    )
    assert not DiscountRef.objects.exists()


def test_a_stamp_card_name_is_shown_as_text_on_the_customer_page(root, account, customer):
    services.discount_rule_create(
        account=account, actor=SYSTEM, name="<b>Coffee</b>", reward_type="discount_item_quantity", reward_value=1,
        requirement_stamp=2,
    )  # fmt: skip

    page = root.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()

    assert "<td>&lt;b&gt;Coffee&lt;/b&gt;</td><td>0 of 2</td>" in page
    assert "<b>Coffee</b>" not in page


def test_give_discount_counts_only_customers_who_did_not_have_it(root, account, customer, rule):
    other = customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bob")
    services.discount_rule_give(rule=rule, customer_ids=[customer.pk], actor=SYSTEM)
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
    assert "0 of 9" in summary
