"""The served OpenAPI document as a test oracle: regression tests for what the fuzzer found check a Django
test response the way schemathesis does (status code documented, body matching the documented schema)."""

from __future__ import annotations

import functools

import requests
import schemathesis
from django.test import Client
from schemathesis.core.transport import Response


@functools.cache
def document() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@functools.cache
def _schema():
    return schemathesis.openapi.from_dict(document())


def documented_statuses(method: str, path: str) -> set[str]:
    return set(document()["paths"][path][method.lower()]["responses"])


def assert_conforms(response, method: str, path: str) -> None:
    """`response` (from django.test.Client) to `method path` (the document's path template) has a documented
    status code and a body that matches the schema documented for it; raises schemathesis' failure if not."""
    assert str(response.status_code) in documented_statuses(method, path), (
        f"{method} {path}: {response.status_code} is not documented: {response.content[:300]!r}"
    )
    operation = _schema()[path][method.upper()]
    request = requests.Request(method.upper(), f"http://testserver{response.wsgi_request.get_full_path()}").prepare()
    wrapped = Response(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.headers.items()},
        content=response.content,
        request=request,
        elapsed=0.0,
        verify=False,
    )
    operation.validate_response(wrapped)
