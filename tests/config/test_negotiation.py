"""config/api/negotiation.py: the remembered choice of renderer is the one DRF's own negotiation makes, for
every Accept header and format; a refusal (406) is answered every time and never remembered; and the
memo stops growing at its bound."""

import pytest
from django.http import Http404
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.api import negotiation
from config.api.negotiation import ContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "text/html",
    "text/html;q=0.9, application/json",
    "application/json;q=0.1, text/html",
    "application/vnd.oai.openapi+json",
]


def _request(accept: str | None, query: str = "") -> Request:
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get("/customers/customers" + query, **extra))


@pytest.fixture(autouse=True)
def empty_memo(monkeypatch):
    monkeypatch.setattr(negotiation, "_CHOSEN", {})


@pytest.mark.parametrize("renderer_classes", [[JSONRenderer], [JSONRenderer, BrowsableAPIRenderer]])
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api"])
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_remembered_choice_is_drfs(accept, query, renderer_classes):
    def choice(negotiator):
        """(renderer class, media type) chosen for a new request, or (the refusal's class, None)."""
        renderers = [cls() for cls in renderer_classes]
        try:
            renderer, media_type = negotiator.select_renderer(_request(accept, query), renderers)
        except (exceptions.NotAcceptable, Http404) as exc:  # Http404: a format no renderer has
            return type(exc), None
        assert any(renderer is each for each in renderers)  # one of this request's own renderers
        return type(renderer), media_type

    expected = choice(DefaultContentNegotiation())
    assert choice(ContentNegotiation()) == expected  # negotiated
    assert choice(ContentNegotiation()) == expected  # remembered (or refused again)
    assert bool(negotiation._CHOSEN) == (expected[1] is not None)


def test_a_refusal_is_answered_every_time_and_never_remembered():
    for _ in range(2):
        with pytest.raises(exceptions.NotAcceptable):
            ContentNegotiation().select_renderer(_request("text/csv"), [JSONRenderer()])
    assert negotiation._CHOSEN == {}


def test_the_memo_stops_growing_at_its_bound(monkeypatch):
    monkeypatch.setattr(negotiation, "_CHOSEN_MAX", 3)
    for n in range(6):
        _, media_type = ContentNegotiation().select_renderer(_request(f"application/json; indent={n}"), [JSONRenderer()])
        assert media_type == f"application/json; indent={n}"  # still negotiated, just not remembered
    assert len(negotiation._CHOSEN) == 3


def test_an_api_request_is_answered_in_the_accepted_media_type(api, customer):
    response = api.get("/customers/customers", HTTP_ACCEPT="application/json; indent=2")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content.startswith(b"{\n  ")  # indented as asked, the first time and the next
    again = api.get("/customers/customers", HTTP_ACCEPT="application/json; indent=2")
    assert again.content == response.content
    refused = api.get("/customers/customers", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 406


def _posted(content_type: str) -> Request:
    return Request(APIRequestFactory().generic("POST", "/x", b"{}", content_type=content_type))


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/JSON", "text/plain", "application/*", ""],
)
def test_the_remembered_parser_is_drfs(content_type):
    parsers = [JSONParser(), FormParser()]
    expected = DefaultContentNegotiation().select_parser(_posted(content_type), parsers)
    for _ in range(2):  # negotiated, then remembered
        found = ContentNegotiation().select_parser(_posted(content_type), parsers)
        assert found is expected
    assert bool(negotiation._CHOSEN) == (expected is not None)


def test_an_unsupported_body_is_refused_every_time(api, credit):
    path = f"/customers/customers/{credit.customer_id}/credits/{credit.pk}/redeem"
    for _ in range(2):
        response = api.post(path, raw=None, data=b"{}", content_type="text/plain")
        assert response.status_code == 415
    credit.refresh_from_db()
    assert credit.uses == 0
