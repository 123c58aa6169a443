"""What schemathesis found in the billing family (tests/fuzz), each pinned by its input."""

import uuid

import pytest

from billing import services
from billing.models import BillingAccount, BillingTransaction, Project
from tests.conftest import SYSTEM
from tests.fuzz.document import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta1/organizations/billing/usages",
        "/v1beta1/billing/check",
        "/v1beta1/organizations/{org}/billing",
        "/v1beta1/organizations/{org}/billing/{billing}/credits",
        "/v1beta1/organizations/{org}/billing/{billing}/limits",
        "/v1beta1/organizations/{org}/projects",
    ],
)
def test_options_describes_the_view_instead_of_failing(api, customer, path):
    # DRF's default metadata built the body's fields from `serializer_class`, which these views do not set: a 500.
    response = api.request("OPTIONS", path.format(org=customer.pk, billing=uuid.uuid4()))
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"name", "description", "renders", "parses"}


@pytest.fixture
def wallet(account, customer):
    return services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)


def usage_body(wallet, raw_usage_fields: str) -> str:
    usage = f'{{"id": "{uuid.uuid4()}", "amount": 1, {raw_usage_fields}}}'
    return f'{{"billing_id": "{wallet.pk}", "usages": [{usage}]}}'


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ('"description": "a\\u0000b"', "usages.0.description: Null characters are not allowed."),
        ('"source": "\\udfff"', "usages.0.source: Surrogate characters are not allowed: U+DFFF."),
        ('"user_id": "\\u0000"', "usages.0.user_id: Null characters are not allowed."),
        ('"metadata": {"k": ["\\u0000"]}', "usages.0.metadata: Null characters are not allowed."),
        ('"metadata": {"\\ud800": 1}', "usages.0.metadata: Surrogate characters are not allowed: U+D800."),
        # Deep, yet with room below Python's recursion limit for the request's own stack (the
        # middleware chain): deeper bodies are the parser's "nested too deeply" instead.
        ('"metadata": {"k": ' + "[" * 800 + "]" * 800 + "}", "usages.0.metadata: Nested deeper than 32 levels."),
    ],
)
def test_usage_text_postgresql_cannot_store_is_a_400_and_nothing_is_applied(api, wallet, fields, message):
    before = BillingTransaction.objects.count()
    response = api.post("/v1beta1/organizations/billing/usages", raw=usage_body(wallet, fields))
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], body["message"]) == (3, message)
    assert BillingTransaction.objects.count() == before
    assert_conforms(response, "POST", "/v1beta1/organizations/billing/usages")


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1beta1/organizations/{org}/projects", '{"name": "p\\u0000"}'),
        ("/v1beta1/organizations/{org}/billing", '{"currency": "\\ud800"}'),
        ("/v1beta1/organizations/{org}/billing/{billing}/credits", '{"id": "{id}", "amount": 5, "source": "\\u0000"}'),
        (
            "/v1beta1/organizations/{org}/billing/{billing}/credits",
            '{"id": "{id}", "amount": 5, "metadata": {"\\u0000": 1}}',
        ),
    ],
)
def test_other_text_postgresql_cannot_store_is_a_400(api, wallet, path, raw):
    before = (Project.objects.count(), BillingAccount.objects.count(), BillingTransaction.objects.count())
    url = path.format(org=wallet.customer_id, billing=wallet.pk)
    response = api.post(url, raw=raw.replace("{id}", str(uuid.uuid4())))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == 3
    assert (Project.objects.count(), BillingAccount.objects.count(), BillingTransaction.objects.count()) == before


def test_a_body_nested_too_deeply_is_a_400_not_a_500(api, customer):
    response = api.post("/v1beta1/billing/check", raw="[" * 50_000 + "]" * 50_000)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == 3
    assert_conforms(response, "POST", "/v1beta1/billing/check")
