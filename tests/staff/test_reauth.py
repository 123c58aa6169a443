"""Re-authentication before creating an API client: the password again, holding STAFF_REAUTH_SECONDS."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import ApiClient

PASSWORD = "a-long-test-password-1"


def test_creating_an_api_client_asks_for_the_password_first(account, settings):
    settings.STAFF_REAUTH_SECONDS = 300
    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client()
    client.force_login(root)
    add = reverse("admin:customers_apiclient_add")
    form = {"account": account.pk, "name": "pos", "scopes": ["credits:read"]}
    sent = client.post(add, form)
    assert (
        sent.status_code == 302
        and sent["Location"] == f"{reverse('staff:reauth')}?next=%2Fadmin%2Fcustomers%2Fapiclient%2Fadd%2F"
    )
    assert not ApiClient.objects.exists()
    wrong = client.post(reverse("staff:reauth"), {"password": "not-it", "next": add})
    assert wrong.status_code == 200 and "not your password" in wrong.content.decode()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert client.post(reverse("staff:reauth"), {"password": PASSWORD, "next": add})["Location"] == add
        assert client.get(add).status_code == 200
        assert client.post(add, form).status_code == 302 and ApiClient.objects.count() == 1
        clock.move_to(start + timedelta(seconds=301))
        assert client.get(add)["Location"].startswith(reverse("staff:reauth"))
