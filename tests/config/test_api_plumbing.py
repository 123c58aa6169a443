"""Authentication in every form, request ids, and errors that never reach a view, all in the dialect."""

import base64

import pytest
from django.test import override_settings

from customers.models import ApiClient
from tests.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("form", ["api-key", "bearer", "basic"])
def test_each_credential_form_authenticates(account, make_api, form):
    api = make_api(account, form=form)
    assert api.get("/customers/customers").status_code == 200


def test_basic_with_the_wrong_client_id_is_401(account, make_client, other_account):
    _, secret = make_client(account)
    other, _ = make_client(other_account, name="other")
    token = base64.b64encode(f"{other.client_id}:{secret}".encode()).decode()
    response = Api(None).get("/customers/customers", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header, message",
    [
        ("Basic !!!notbase64", "Invalid or missing credentials."),
        ("Basic " + base64.b64encode(b"no-colon").decode(), "Invalid or missing credentials."),
        ("Token abc", "Invalid or missing credentials."),
        ("Bearer", "Invalid or missing credentials."),
        ("Bearer a.b.c", "Invalid or expired access token."),
    ],
)
def test_malformed_authorization_is_401(account, header, message):
    response = Api(None).get("/customers/customers", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json() == {"message": message}
    assert response["WWW-Authenticate"]


def test_secret_is_stored_only_as_a_hash(account, make_client):
    client, secret = make_client(account)
    stored = ApiClient.objects.filter(pk=client.pk).values().get()
    assert secret not in repr(stored)
    assert len(stored["secret_hash"]) == 64


def test_last_used_is_recorded(account, make_api):
    api = make_api(account)
    api.get("/customers/customers")
    api.client.refresh_from_db()
    assert api.client.last_used_at is not None


def test_sane_request_id_is_echoed(api):
    response = api.get("/customers/customers", HTTP_X_REQUEST_ID="abc-123.x:y")
    assert response["X-Request-ID"] == "abc-123.x:y"


@pytest.mark.parametrize("incoming", [None, "bad id with spaces", "x" * 200, "<script>"])
def test_missing_or_insane_request_id_is_replaced(api, incoming):
    extra = {"HTTP_X_REQUEST_ID": incoming} if incoming else {}
    response = api.get("/customers/customers", **extra)
    assert response["X-Request-ID"] != incoming and len(response["X-Request-ID"]) == 32


def test_errors_carry_the_request_id_header_too(anonymous):
    response = anonymous.get("/customers/customers", HTTP_X_REQUEST_ID="trace-1")
    assert response.status_code == 401 and response["X-Request-ID"] == "trace-1"


def test_unknown_path_under_the_family_is_json_404(api):
    response = api.get("/customers/nowhere")
    assert response.status_code == 404
    assert response.json() == {"message": "The requested path does not exist."}


def test_trailing_slash_is_not_a_path(api):
    assert api.get("/customers/customers/").status_code == 404


def test_method_not_allowed_is_json_405(api, credit):
    response = api.put(f"/customers/customers/{credit.customer_id}/credits/{credit.pk}", {})
    assert response.status_code == 405
    assert set(response.json()) == {"message"}


def test_body_over_one_mib_is_413_and_writes_nothing(api, customer):
    response = api.post(f"/customers/customers/{customer.pk}/credits", raw='{"x": "' + "a" * (1024 * 1024) + '"}')
    assert response.status_code == 413
    assert response.json() == {"message": "The request body is larger than 1 MiB."}


def test_unexpected_error_is_a_json_500_without_a_stack_trace(api, customer, monkeypatch, caplog):
    from credits import selectors

    def explode(**kwargs):
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(selectors, "credits_of", explode)
    response = api.get(f"/customers/customers/{customer.pk}/credits", HTTP_X_REQUEST_ID="req-500")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"message"} and "req-500" in body["message"] and "boom" not in body["message"]
    assert any(getattr(r, "request_id", None) == "req-500" for r in caplog.records)


def test_injection_strings_are_plain_data(api):
    response = api.get("/customers/customers", {"email": "' OR 1=1 --"})
    assert response.status_code == 200 and response.json()["data"] == []


@override_settings(DEBUG=True)
def test_unknown_path_is_json_even_in_debug(api):
    response = api.get("/customers/nowhere/at/all")
    assert response.status_code == 404 and response.json()["message"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not_configured",
        "throttle_fail_open_total": response.json()["throttle_fail_open_total"],
    }


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/nonexistent", "errorCode"),
        ("/v1", "errorCode"),
        ("/v1beta1/nope", "code"),
        ("/v1beta1", "code"),
        ("/customers", "message"),
        ("/customers/nowhere", "message"),
        ("/v1/accounts/T1/nowhere", "error"),
    ],
)
def test_every_unknown_path_under_the_api_prefixes_is_json_in_a_dialect(client, path, key):
    for method in ("get", "post", "delete"):
        response = getattr(client, method)(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert key in response.json()


def test_openapi_document_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert "/customers/customers/{customer_id}/credits/{credit_id}/redeem" in document["paths"]
    operation = document["paths"]["/customers/customers/{customer_id}/credits"]["get"]
    assert operation["tags"] == ["credits"]
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
    assert "CreditsError" in document["components"]["schemas"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    assert b"//cdn" not in docs.content.lower()  # the page carries a random CSRF token: "cdn" alone may occur in it


def test_api_requests_pass_the_admins_session_login_and_messages_middleware_by(rf):
    """An API request is authenticated by its key or token only: Django's session, login and messages
    middleware (the admin's) do not run for it; for the admin they do."""
    from django.http import HttpResponse

    from config.api.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware

    seen = {}

    def view(request):
        seen[request.path] = [hasattr(request, name) for name in ("session", "user", "_messages")]
        return HttpResponse()

    chain = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    api_paths = [
        "/customers/coupons",
        "/v1/customers/1/benefits",
        "/v1/accounts/T00000001/discounts/rules",
        "/v1beta1/organizations/x/billing",
        "/v1/nonexistent",
        "/healthz",
    ]
    for path in [*api_paths, "/admin/", "/api/docs/"]:
        chain(rf.get(path))
    assert all(seen[path] == [False, False, False] for path in api_paths), seen
    assert seen["/admin/"] == seen["/api/docs/"] == [True, True, True]
