import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.credentials import api_client_for_secret
from customers.models import Account, ApiClient, Customer
from tests.conftest import Api

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_account():
    output = run(
        "create_account", "T12345678", "--name", "Nordic Spa", "--currency", "sek", "--timezone", "Europe/Stockholm"
    )
    account = Account.objects.get(pk="T12345678")
    assert (account.name, account.currency, account.timezone) == ("Nordic Spa", "SEK", "Europe/Stockholm")
    assert "T12345678" in output


@pytest.mark.parametrize("account_id", ["X12345678", "T1234", "t12345678"])
def test_create_account_refuses_bad_ids(account_id):
    with pytest.raises(CommandError, match="id"):
        run("create_account", account_id, "--name", "Bad")
    assert not Account.objects.exists()


def test_create_account_twice_fails():
    run("create_account", "T12345678", "--name", "A")
    with pytest.raises(CommandError, match="already exists"):
        run("create_account", "T12345678", "--name", "B")
    assert Account.objects.get().name == "A"


def test_create_api_client_json_prints_only_the_credentials(account):
    output = run(
        "create_api_client",
        account.pk,
        "--name",
        "pos",
        "--scope",
        "credits:read",
        "--scope",
        "credits:write",
        "--json",
    )
    payload = json.loads(output)
    assert set(payload) == {"client_id", "secret"}
    client = api_client_for_secret(secret=payload["secret"])
    assert client.client_id == payload["client_id"] and client.scopes == ["credits:read", "credits:write"]
    assert Api(payload["secret"]).get("/customers/coupons").status_code == 200


def test_create_api_client_plain_output_shows_the_secret_once(account):
    output = run("create_api_client", account.pk, "--name", "pos", "--scope", "customers:read")
    assert "client_id:" in output and "secret:" in output and "shown only now" in output


def test_create_api_client_refuses_unknown_scopes_and_accounts(account):
    with pytest.raises(CommandError, match="Unknown scope"):
        run("create_api_client", account.pk, "--name", "pos", "--scope", "everything")
    with pytest.raises(CommandError, match="No account"):
        run("create_api_client", "T99999999", "--name", "pos", "--scope", "credits:read")
    assert not ApiClient.objects.exists()


def test_load_demo_data_is_idempotent_and_prints_a_working_key():
    first = run("load_demo_data")
    counts = (Customer.objects.count(), ApiClient.objects.count())
    second = run("load_demo_data")
    assert Customer.objects.count() == counts[0] == 5
    assert ApiClient.objects.count() == counts[1] + 1  # a fresh key each run
    key = next(line.split()[-1] for line in second.splitlines() if "Demo API key" in line)
    customer = Customer.objects.get(external_ref="demo-1")
    response = Api(key).get(f"/customers/customers/{customer.pk}/credits")
    assert response.status_code == 200 and response.json()["meta"]["total"] == 2
    assert "password" in first
