"""The credit pages (credits/admin/credits.py): issuing, redeeming, revoking and reversing a use, each through
the services and naming the staff user; the list, its filters and exports; permissions follow the "Credit
desk" and "Viewer" groups; domain errors are shown, never a 500."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import services as credit_services
from credits.models import CreditEvent, CustomerCredit
from customers import services as customer_services
from tests.conftest import SYSTEM
from tests.credits.admin.conftest import (
    CREDITS,
    ISSUE,
    action_names,
    change_url,
    issue,
    issue_form,
    messages_of,
    redeem,
    reverse_use_url,
    revoke_action,
    revoke_confirmation,
)

pytestmark = pytest.mark.django_db


@pytest.mark.django_db
def test_credit_desk_issues_a_credit_through_the_add_form(desk, desk_user, customer, coupon):
    response = desk.post(ISSUE, issue_form(customer, coupon, revenue="30.00"))

    credit = CustomerCredit.objects.get(customer=customer)
    assert response.status_code == 302
    assert response["Location"] == change_url(credit)
    assert credit.source == CustomerCredit.Source.MANUAL
    assert credit.issued_by == "staff:alice"
    assert credit.issued_by_user == desk_user
    assert credit.revenue == 3000
    event = credit.events.get()
    assert (event.action, event.actor, event.user) == (CreditEvent.Action.ISSUED, "staff:alice", desk_user)


@pytest.mark.django_db
def test_issue_form_without_revenue_takes_the_coupon_default(desk, customer, coupon):
    desk.post(ISSUE, issue_form(customer, coupon))

    assert CustomerCredit.objects.get(customer=customer).revenue == 4500


@pytest.mark.django_db
def test_issue_form_shows_a_past_expiry_as_a_form_error(desk, customer, coupon):
    response = desk.post(ISSUE, issue_form(customer, coupon, expiry_date_0="2020-01-01", expiry_date_1="10:00:00"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expiry_date"] == ["Must be in the future."]
    assert not CustomerCredit.objects.exists()
    assert not CreditEvent.objects.exists()


@pytest.mark.django_db
def test_issue_form_refuses_a_membership_of_another_customer(desk, account, customer, coupon):
    other = customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bob")
    membership_type = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    membership = customer_services.membership_create(
        customer=other, membership_type_id=membership_type.pk, actor=SYSTEM
    )

    response = desk.post(ISSUE, issue_form(customer, coupon, membership=str(membership.pk)))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["membership"] == ["Must be a membership of this customer."]
    assert not CustomerCredit.objects.exists()


@pytest.mark.django_db
def test_issue_form_is_prefilled_from_the_customer_and_offers_only_active_coupons(desk, account, customer, coupon):
    credit_services.coupon_create(account=account, actor=SYSTEM, name="Retired sauna", offering="Sauna", active=False)

    response = desk.get(f"{ISSUE}?customer={customer.pk}")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["customer"] == customer.pk
    assert list(form.fields["coupon"].queryset) == [coupon]
    assert str(customer) in response.content.decode()


@pytest.mark.django_db
def test_issue_form_ignores_a_malformed_customer_parameter(desk, coupon):
    response = desk.get(f"{ISSUE}?customer=not-a-uuid")

    assert response.status_code == 200
    assert "customer" not in response.context["adminform"].form.initial


@pytest.mark.django_db
def test_credit_desk_revokes_a_credit_with_a_reason(desk, desk_user, credit):
    confirmation = desk.post(CREDITS, revoke_action(credit))

    assert confirmation.status_code == 200
    assert 'name="reason"' in confirmation.content.decode()
    credit.refresh_from_db()
    assert credit.revoked_at is None

    response = desk.post(CREDITS, revoke_confirmation(credit, reason="Booked twice"))

    assert response.status_code == 302
    credit.refresh_from_db()
    assert credit.revoked_at is not None
    assert credit.revoked_by == "staff:alice"
    assert credit.revoke_reason == "Booked twice"
    event = credit.events.get(action=CreditEvent.Action.REVOKED)
    assert (event.actor, event.user, event.reason) == ("staff:alice", desk_user, "Booked twice")
    assert any(message.startswith("Revoked 1 credit") for message in messages_of(response))


@pytest.mark.django_db
def test_revoking_needs_a_reason(desk, credit):
    response = desk.post(CREDITS, revoke_confirmation(credit, reason=""))

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    credit.refresh_from_db()
    assert credit.revoked_at is None


@pytest.mark.django_db
def test_revoking_a_redeemed_credit_is_reported_and_changes_nothing(desk, credit):
    redeem(credit)
    events = CreditEvent.objects.count()

    confirmation = desk.post(CREDITS, revoke_action(credit))
    assert "Will not be revoked: redeemed" in confirmation.content.decode()

    response = desk.post(CREDITS, revoke_confirmation(credit))

    assert response.status_code == 302
    assert f"Could not revoke {credit}: A redeemed credit cannot be revoked." in messages_of(response)
    credit.refresh_from_db()
    assert credit.revoked_at is None
    assert credit.revoked_by is None
    assert CreditEvent.objects.count() == events


@pytest.mark.django_db
def test_revoking_several_reports_each_outcome(desk, customer, coupon, credit):
    redeemed = credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="api")
    redeem(redeemed)

    response = desk.post(CREDITS, revoke_confirmation(credit, redeemed))

    messages = messages_of(response)
    assert f"Revoked 1 credit (reference revoke-test-1): {credit}." in messages
    assert f"Could not revoke {redeemed}: A redeemed credit cannot be revoked." in messages
    credit.refresh_from_db()
    redeemed.refresh_from_db()
    assert credit.revoked_at is not None
    assert redeemed.revoked_at is None


@pytest.mark.django_db
def test_credit_desk_redeems_through_the_action_and_sees_why_a_second_redeem_fails(desk, desk_user, credit):
    action = {"action": "redeem_selected", "_selected_action": [str(credit.pk)], "index": "0"}

    asked = desk.post(CREDITS, action)
    assert asked.status_code == 200 and credit.use_records.count() == 0
    reference = asked.context["form"]["reference"].value()
    first = desk.post(CREDITS, {**action, "confirm": "yes", "reference": reference, "note": ""})
    second = desk.post(CREDITS, {**action, "confirm": "yes", "reference": "R-2", "note": ""})

    assert first.status_code == second.status_code == 302
    credit.refresh_from_db()
    assert credit.uses == 1
    use = credit.use_records.get()
    assert (use.used_by, use.used_by_user, use.reference) == ("staff:alice", desk_user, reference)
    assert f"Redeemed 1 credit (reference {reference}): {credit}." in messages_of(first)
    assert f"Could not redeem {credit}: The credit is redeemed; only an active credit can be used." in messages_of(
        second
    )


@pytest.mark.django_db
def test_credit_desk_has_revoke_and_redeem_actions_without_change_permission(desk, desk_user, credit):
    assert not desk_user.has_perm("credits.change_customercredit")

    response = desk.get(CREDITS)

    assert response.status_code == 200
    assert set(action_names(response)) == {"redeem_selected", "revoke_selected"}


@pytest.mark.django_db
def test_viewer_can_look_but_not_issue_or_revoke(viewer, customer, coupon, credit):
    assert viewer.get(CREDITS).status_code == 200
    page = viewer.get(change_url(credit))
    assert page.status_code == 200
    assert "Issued" in page.content.decode()
    events = CreditEvent.objects.count()

    assert viewer.get(ISSUE).status_code == 403
    assert viewer.post(ISSUE, issue_form(customer, coupon)).status_code == 403
    assert CustomerCredit.objects.count() == 1

    listing = viewer.get(CREDITS)
    assert action_names(listing) == []
    viewer.post(CREDITS, revoke_action(credit))
    viewer.post(CREDITS, revoke_confirmation(credit))

    credit.refresh_from_db()
    assert credit.revoked_at is None
    assert CreditEvent.objects.count() == events


@pytest.mark.django_db
def test_viewer_cannot_edit_a_credit(viewer, credit):
    response = viewer.post(change_url(credit), {"revenue": "1"})

    assert response.status_code == 403


@pytest.mark.django_db
def test_credit_desk_reverses_a_use_from_the_credit_page(desk, desk_user, credit):
    redeem(credit)
    use = credit.use_records.get()
    url = reverse_use_url(credit, use)

    assert url in desk.get(change_url(credit)).content.decode()
    assert desk.get(url).status_code == 200
    response = desk.post(url, {"reason": "test"})

    assert response.status_code == 302
    assert response["Location"] == change_url(credit)
    use.refresh_from_db()
    credit.refresh_from_db()
    assert use.reversed_at is not None
    assert use.reversed_by == "staff:alice"
    assert credit.uses == 0
    assert credit.status == CustomerCredit.Status.ACTIVE
    event = credit.events.get(action=CreditEvent.Action.USE_REVERSED)
    assert (event.actor, event.user, event.use) == ("staff:alice", desk_user, use)


@pytest.mark.django_db
def test_reversing_a_use_twice_reports_the_conflict(desk, credit):
    redeem(credit)
    use = credit.use_records.get()
    desk.post(reverse_use_url(credit, use), {"reason": "test"})
    events = CreditEvent.objects.count()

    response = desk.post(reverse_use_url(credit, use), {"reason": "test"})

    assert response.status_code == 302
    assert "Could not reverse the use: The use is already reversed." in messages_of(response)
    assert CreditEvent.objects.count() == events


@pytest.mark.django_db
def test_viewer_cannot_reverse_a_use(viewer, credit):
    redeem(credit)
    use = credit.use_records.get()
    url = reverse_use_url(credit, use)

    assert url not in viewer.get(change_url(credit)).content.decode()
    assert viewer.get(url).status_code == 403
    assert viewer.post(url).status_code == 403

    use.refresh_from_db()
    credit.refresh_from_db()
    assert use.reversed_at is None
    assert credit.uses == 1


@pytest.mark.django_db
def test_credit_list_filters_by_computed_status_and_searches_by_id_and_number(desk, customer, coupon, credit):
    redeemed = credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="api")
    redeem(redeemed)

    by_status = desk.get(CREDITS, {"status": "redeemed"})
    assert list(by_status.context["cl"].result_list) == [redeemed]
    assert [c.pk for c in desk.get(CREDITS, {"status": "active"}).context["cl"].result_list] == [credit.pk]
    by_id = desk.get(CREDITS, {"q": str(credit.pk)})
    assert [c.pk for c in by_id.context["cl"].result_list] == [credit.pk]
    by_number = desk.get(CREDITS, {"q": str(customer.number)})
    assert {c.pk for c in by_number.context["cl"].result_list} == {credit.pk, redeemed.pk}
    page = desk.get(CREDITS).content.decode()
    assert "1/1" in page
    assert "0/1" in page


@pytest.mark.django_db
def test_nothing_financial_can_be_deleted(root, credit):
    assert root.get(reverse("admin:credits_customercredit_delete", args=[credit.pk])).status_code == 403
    assert "delete_selected" not in action_names(root.get(CREDITS))


@pytest.mark.django_db
def test_issue_form_autocompletes_customers_by_number_and_memberships(desk, account, customer):
    membership_type = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    membership = customer_services.membership_create(
        customer=customer, membership_type_id=membership_type.pk, actor=SYSTEM
    )
    autocomplete = reverse("admin:autocomplete")
    source = {"app_label": "credits", "model_name": "customercredit"}

    customers = desk.get(autocomplete, {**source, "field_name": "customer", "term": str(customer.number)})
    memberships = desk.get(autocomplete, {**source, "field_name": "membership", "term": "Gold"})

    assert [row["id"] for row in customers.json()["results"]] == [str(customer.pk)]
    assert [row["id"] for row in memberships.json()["results"]] == [str(membership.pk)]


@pytest.mark.django_db
def test_every_admin_page_renders_for_a_superuser(root, account, customer, coupon, credit):
    membership_type = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    membership = customer_services.membership_create(
        customer=customer, membership_type_id=membership_type.pk, actor=SYSTEM
    )
    rule = credit_services.membership_credit_rule_create(
        account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM
    )
    client, _secret = customer_services.api_client_create(
        account=account, name="POS", scopes=["credits:read"], actor=SYSTEM
    )
    redeem(credit)
    objects = [account, customer, membership_type, membership, coupon, rule, client, credit]

    for obj in objects:
        opts = obj._meta
        for url in (
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_add"),
            change_url(obj),
        ):
            assert root.get(url).status_code == 200, url

    customer_page = root.get(change_url(customer)).content.decode()
    assert "Issue credit" in customer_page
    assert f"{ISSUE}?customer={customer.pk}" in customer_page
    assert "Massage" in customer_page  # the customer's credits
    assert "Gold" in customer_page  # and memberships
    credit_page = root.get(change_url(credit)).content.decode()
    assert reverse_use_url(credit, credit.use_records.get()) in credit_page
    assert root.get(reverse("admin:index")).status_code == 200


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
    assert desk.get(changelist, {"issued_by": SYSTEM.label}).status_code == 200
    assert desk.get(changelist, {"expiry_from": "nope"}).status_code in (200, 302)
    credit_services.credit_redeem(
        account=customer.account, customer_id=customer.pk, credit_id=soon.pk, reference="X9", actor=SYSTEM
    )
    uses = viewer.get(reverse("admin:credits_customercredit_uses_export", args=[soon.pk]))
    lines = list(csv.DictReader(io.StringIO(b"".join(uses.streaming_content).decode())))
    assert [(u["reference"], u["revenue_minor"]) for u in lines] == [("X9", "4500")]


def test_credit_history_button_shows_the_credit_history(desk, customer, massage):
    credit = issue(customer, massage)
    page = desk.get(reverse("admin:credits_customercredit_history", args=[credit.pk])).content.decode()
    assert "Issued" in page or "issued" in page
    assert "tests (system)" in page  # the actor of tests.world.SYSTEM
