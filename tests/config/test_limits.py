"""Over-long URLs and headers: 414 and 431 as JSON in the family's dialect, from the application, up to
gunicorn's own limits (gunicorn.conf.py); beyond them gunicorn answers by itself (documented)."""

import json

import pytest

from tests.servers import call, free_port, gunicorn

LONG_URLS = [
    ("/customers/customers", "message"),
    ("/v1/customers/123/benefits", "errorCode"),
    ("/v1/accounts/T00000001/discounts/rules", "error"),
    ("/v1beta1/organizations/x/billing", "code"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "key"), LONG_URLS)
def test_long_url_and_header_are_json_in_the_dialect(api, path, key):
    response = api.get(path + "?q=" + "x" * 8100)
    assert response.status_code == 414 and response["Content-Type"] == "application/json"
    assert key in response.json()
    response = api.get(path, HTTP_X_NOTE="y" * 9000)
    assert response.status_code == 431 and key in response.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_under_gunicorn(account, make_client):
    _, secret = make_client(account)
    with gunicorn(free_port(), workers=1) as base:
        status, headers, body, _ = call("GET", base + "/v1/nonexistent")
        assert status == 404 and json.loads(body)["errorCode"]
        status, headers, body, _ = call(
            "GET", base + "/customers/customers?q=" + "x" * 8050, headers={"X-API-KEY": secret}
        )
        assert status == 414 and headers["Content-Type"] == "application/json" and json.loads(body)["message"]
        status, headers, body, _ = call(
            "GET", base + "/customers/customers", headers={"X-API-KEY": secret, "X-Note": "y" * 12000}
        )
        assert status == 431 and json.loads(body)["message"]
        # Beyond gunicorn's limits gunicorn answers itself (HTML): the documented exception.
        status, headers, _, _ = call("GET", base + "/customers/customers?q=" + "x" * 8200)
        assert status == 414 and headers["Content-Type"] == "text/html"
