"""The customers' staff pages (customers/admin.py): accounts, customers, memberships and API clients, each
written through the services."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from customers import services as customer_services
from customers.credentials import secret_digest
from customers.models import ApiClient, Customer, Membership
from tests.conftest import SYSTEM
from tests.credits.admin.conftest import (
    change_url,
    messages_of,
)
from tests.staff.two_factor import reauthenticated

pytestmark = pytest.mark.django_db


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


def test_api_client_name_and_scopes_are_edited_through_the_service(db):

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
