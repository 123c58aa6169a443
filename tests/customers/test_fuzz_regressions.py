"""What schemathesis found in the customers part of the credits family (tests/fuzz), each pinned by its input."""

import base64

import pytest
from django.test import Client

from tests.fuzz.document import assert_conforms, document

pytestmark = pytest.mark.django_db


def test_a_customer_without_an_email_conforms_to_the_document(api, make_customer, account):
    # The document said `format: email`, but an unknown e-mail is stored and answered as "".
    created = api.post("/customers/customers", {})
    assert created.status_code == 201, created.content
    assert created.json()["data"]["email"] == ""
    assert_conforms(created, "POST", "/customers/customers")
    customer_id = created.json()["data"]["id"]
    make_customer(account, email="ada@example.com")

    one = api.get(f"/customers/customers/{customer_id}")
    assert one.status_code == 200
    assert_conforms(one, "GET", "/customers/customers/{customer_id}")
    listing = api.get("/customers/customers")
    assert {c["email"] for c in listing.json()["data"]} == {"", "ada@example.com"}
    assert_conforms(listing, "GET", "/customers/customers")
    patched = api.patch(f"/customers/customers/{customer_id}", {"email": ""})
    assert patched.status_code == 200
    assert_conforms(patched, "PATCH", "/customers/customers/{customer_id}")


def test_the_document_still_says_an_email_is_an_email():
    email = document()["components"]["schemas"]["CustomerOutput"]["properties"]["email"]
    assert email["anyOf"] == [{"format": "email"}, {"maxLength": 0}]


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"\x00:secret").decode()},
        {"HTTP_AUTHORIZATION": "Bearer abcdefghij\x00klmnopqrstuvwxyz"},
        {"HTTP_X_API_KEY": "abcdefghij\x00klmnopqrstuvwxyz"},
    ],
)
def test_credentials_with_a_nul_are_a_401_not_a_500(api, header):
    # The NUL reached the client_id / secret-prefix lookup, which PostgreSQL refused.
    response = Client().get("/customers/customers", **header)
    assert response.status_code == 401, response.content
    assert response.json() == {"message": "Invalid or missing credentials."}
