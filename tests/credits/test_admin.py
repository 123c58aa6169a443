"""The staff admin: every write goes through the services and names the staff user; permissions follow
the "Credit desk" and "Viewer" groups; domain errors are shown, never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from config.kernel.actors import Actor
from credits import services as credit_services
from credits.models import Coupon, CreditEvent, CustomerCredit, MembershipCreditRule
from customers import services as customer_services
from customers.credentials import secret_digest
from customers.models import Account, ApiClient, Customer, Membership
from tests.staff.two_factor import reauthenticated

SYSTEM = Actor.system("test")
CREDITS = reverse("admin:credits_customercredit_changelist")
ISSUE = reverse("admin:credits_customercredit_add")


# --- fixtures ------------------------------------------------------------------------------------


def make_staff(username, group=None):
    user = get_user_model().objects.create_user(username=username, password="unused", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def account(db):
    return Account.objects.create(id="T00000042", name="Spa")


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
def desk_user(db):
    return make_staff("alice", "Credit desk")


@pytest.fixture
def viewer_user(db):
    return make_staff("victor", "Viewer")


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "unused")


@pytest.fixture
def desk(desk_user):
    return client_for(desk_user)


@pytest.fixture
def viewer(viewer_user):
    return client_for(viewer_user)


@pytest.fixture
def root(superuser):
    """A superuser who has just typed the password again (creating API clients asks for it: staff/sudo.py)."""
    return reauthenticated(client_for(superuser))


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


# --- issuing -------------------------------------------------------------------------------------


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


# --- revoking and redeeming ------------------------------------------------------------------------


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


# --- the viewer ----------------------------------------------------------------------------------


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


# --- reversing a use -----------------------------------------------------------------------------


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


# --- API clients ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_client_secret_is_shown_once_and_only_its_hash_is_stored(root, account):
    form = root.get(reverse("admin:customers_apiclient_add")).content.decode()
    assert 'type="checkbox" name="scopes" value="credits:revoke"' in form

    response = root.post(
        reverse("admin:customers_apiclient_add"),
        {"account": account.pk, "name": "POS front desk", "scopes": ["credits:read", "credits:write"], "_save": "Save"},
    )

    # POST-redirect-GET: the secret is shown on the page the POST redirects to, once.
    assert response.status_code == 302
    response = root.get(response["Location"])
    assert response.status_code == 200
    secret = response.context["secret"]
    page = response.content.decode()
    client = ApiClient.objects.get(name="POS front desk")
    reloaded = root.get(reverse("admin:customers_apiclient_secret", args=[client.pk])).content.decode()
    assert secret not in reloaded and "shown once" in reloaded
    assert ApiClient.objects.filter(name="POS front desk").count() == 1
    assert secret in page
    assert client.client_id in page
    assert "not stored" in page
    assert client.secret_hash == secret_digest(secret)
    assert client.scopes == ["credits:read", "credits:write"]
    assert client.created_by == "staff:root"
    for field in ApiClient._meta.concrete_fields:
        assert secret not in str(getattr(client, field.attname))

    change_page = root.get(change_url(client)).content.decode()
    assert client.secret_hash not in change_page
    assert client.secret_prefix not in change_page
    assert secret not in change_page
    assert client.client_id in change_page


@pytest.mark.django_db
def test_api_client_add_rejects_an_unknown_scope(root, account):
    response = root.post(
        reverse("admin:customers_apiclient_add"), {"account": account.pk, "name": "POS", "scopes": ["root:all"]}
    )

    assert response.status_code == 200
    assert "scopes" in response.context["adminform"].form.errors
    assert not ApiClient.objects.exists()


@pytest.mark.django_db
def test_api_client_deactivate_action(root, account):
    client, _secret = customer_services.api_client_create(
        account=account, name="POS", scopes=["credits:read"], actor=SYSTEM
    )

    root.post(
        reverse("admin:customers_apiclient_changelist"),
        {"action": "deactivate_selected", "_selected_action": [str(client.pk)], "index": "0"},
    )

    client.refresh_from_db()
    assert client.is_active is False
    assert client.deactivated_at is not None


# --- coupons, customers, memberships, rules ------------------------------------------------------


def coupon_form(account, **overrides):
    data = {
        "account": account.pk,
        "name": "Gift card",
        "description": "",
        "benefit_key": "",
        "active": "on",
        "kind": "monetary",
        "offering": "",
        "value": "",
        "currency": "",
        "max_uses": "",
        "valid_for": "",
        "default_revenue": "0",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_monetary_coupon_without_value_is_a_form_error_not_a_500(root, account):
    response = root.post(reverse("admin:credits_coupon_add"), coupon_form(account))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["value"] == [
        "A monetary coupon needs a value greater than 0 (minor units)."
    ]
    assert not Coupon.objects.exists()


@pytest.mark.django_db
def test_coupon_is_created_and_edited_through_the_services(root, account):
    response = root.post(reverse("admin:credits_coupon_add"), coupon_form(account, value="500.00"))

    assert response.status_code == 302
    coupon = Coupon.objects.get(name="Gift card")
    assert (coupon.value, coupon.currency) == (50000, "NOK")

    edit = coupon_form(account, value="500.00", currency="NOK", max_uses="2")
    del edit["account"]
    response = root.post(change_url(coupon), edit)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["max_uses"] == ["max_uses is only allowed on a multi_use coupon."]
    coupon.refresh_from_db()
    assert coupon.max_uses is None


@pytest.mark.django_db
def test_coupon_deactivate_action_and_no_delete(root, coupon):
    response = root.get(reverse("admin:credits_coupon_changelist"))
    assert "delete_selected" not in action_names(response)

    root.post(
        reverse("admin:credits_coupon_changelist"),
        {"action": "deactivate_selected", "_selected_action": [str(coupon.pk)], "index": "0"},
    )

    coupon.refresh_from_db()
    assert coupon.active is False


@pytest.mark.django_db
def test_customer_is_added_through_the_service_and_found_by_number(root, account):
    response = root.post(
        reverse("admin:customers_customer_add"),
        {
            "account": account.pk,
            "email": "grace@example.com",
            "first_name": "Grace",
            "last_name": "Hopper",
            "external_ref": "",
            "card_number": "12345",
            "barcode": "",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    customer = Customer.objects.get(email="grace@example.com")
    assert customer.number > 0
    assert customer.barcode is None
    changelist = reverse("admin:customers_customer_changelist")
    by_number = root.get(changelist, {"q": str(customer.number)})
    assert list(by_number.context["cl"].result_list) == [customer]
    by_card = root.get(changelist, {"q": "12345"})
    assert list(by_card.context["cl"].result_list) == [customer]
    assert root.get(changelist, {"q": "Hopper"}).context["cl"].result_count == 1


@pytest.mark.django_db
def test_customer_card_number_clash_is_a_form_error(root, account, customer):
    customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bob", card_number="777")
    data = {
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "external_ref": "",
        "card_number": "777",
        "barcode": "",
        "_save": "Save",
    }
    for prefix in ("credits", "memberships"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})

    response = root.post(change_url(customer), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["card_number"] == [
        "Another customer already has this card number."
    ]
    customer.refresh_from_db()
    assert customer.card_number is None


@pytest.mark.django_db
def test_membership_is_added_and_cancelled_through_the_services(root, account, customer):
    membership_type = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    response = root.post(
        reverse("admin:customers_membership_add"),
        {
            "customer": str(customer.pk),
            "membership_type": str(membership_type.pk),
            "started_at_0": "",
            "started_at_1": "",
            "ends_at_0": "",
            "ends_at_1": "",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    membership = Membership.objects.get(customer=customer)
    assert membership.created_by == "staff:root"

    root.post(
        reverse("admin:customers_membership_changelist"),
        {"action": "cancel_selected", "_selected_action": [str(membership.pk)], "index": "0"},
    )
    again = root.post(
        reverse("admin:customers_membership_changelist"),
        {"action": "cancel_selected", "_selected_action": [str(membership.pk)], "index": "0"},
    )

    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert membership.cancelled_by == "staff:root"
    assert f"Could not cancel {membership}: The membership is cancelled, not active." in messages_of(again)


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


# --- credit list ---------------------------------------------------------------------------------


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


# --- smoke ---------------------------------------------------------------------------------------


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


@pytest.mark.django_db
def test_credit_desk_sees_the_issue_credit_link_and_the_viewer_does_not(desk, viewer, customer):
    link = f"{ISSUE}?customer={customer.pk}"

    assert link in desk.get(change_url(customer)).content.decode()
    assert link not in viewer.get(change_url(customer)).content.decode()


@pytest.mark.django_db
def test_nothing_financial_can_be_deleted(root, credit):
    assert root.get(reverse("admin:credits_customercredit_delete", args=[credit.pk])).status_code == 403
    assert "delete_selected" not in action_names(root.get(CREDITS))


@pytest.mark.django_db
def test_a_service_write_is_undone_when_the_form_is_shown_again(root, customer):
    # Without the inline management forms the page is shown again with an error, after the customer
    # form (and so customer_update) has already run: the update must not stick.
    data = {"email": customer.email, "first_name": "Changed", "last_name": customer.last_name, "_save": "Save"}

    response = root.post(change_url(customer), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.is_valid()
    customer.refresh_from_db()
    assert customer.first_name == "Ada"
    assert "Changed" in response.content.decode()  # the user's input is shown back to them


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


def test_api_client_name_and_scopes_are_edited_through_the_service(db):
    from django.contrib.auth import get_user_model

    from config.kernel.actors import Actor as _Actor
    from customers import services as customer_services
    from customers.credentials import api_client_for_secret
    from customers.models import Account as _Account

    account = _Account.objects.create(id="T00000077", name="Edit")
    client_obj, secret = customer_services.api_client_create(
        account=account, name="pos", scopes=["credits:read"], actor=_Actor.system("test")
    )
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    http = Client()
    http.force_login(admin_user)
    url = f"/admin/customers/apiclient/{client_obj.pk}/change/"
    asked = http.post(url, {"name": "pos-2", "scopes": ["credits:write"]})
    assert asked["Location"].startswith("/admin/security/reauth/")  # the password again first
    client_obj.refresh_from_db()
    assert client_obj.scopes == ["credits:read"]
    reauthenticated(http)
    page = http.get(url)
    assert page.status_code == 200 and client_obj.secret_hash not in page.content.decode()
    response = http.post(url, {"name": "pos-2", "scopes": ["credits:read", "credits:write"]})
    assert response.status_code == 302, response.content
    client_obj.refresh_from_db()
    assert client_obj.name == "pos-2" and client_obj.scopes == ["credits:read", "credits:write"]
    assert client_obj.updated_by == "staff:root"
    assert api_client_for_secret(secret=secret) == client_obj  # the secret still works


def test_customer_page_shows_benefits_with_validity_and_uses_left(superuser, customer, coupon):
    multi = credit_services.coupon_create(
        account=customer.account,
        actor=SYSTEM,
        name="Sauna",
        kind="offering",
        offering="Sauna",
        benefit_key="sauna",
        multi_use=True,
        max_uses=5,
    )
    credit_services.coupon_update(coupon=coupon, actor=SYSTEM, benefit_key="massage")
    massage = credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="manual")
    credit_services.credit_redeem(account=customer.account, customer_id=customer.pk, credit_id=massage.pk, actor=SYSTEM)
    sauna = credit_services.credit_issue(customer=customer, coupon=multi, actor=SYSTEM, source="manual")
    credit_services.credit_redeem(account=customer.account, customer_id=customer.pk, credit_id=sauna.pk, actor=SYSTEM)
    page = client_for(superuser).get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert "<tr><td>massage</td><td>no</td><td>0</td></tr>" in page
    assert "<tr><td>sauna</td><td>yes</td><td>4</td></tr>" in page
