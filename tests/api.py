"""A REST client of one API client, for the tests (served by tests/conftest.py as before)."""

from __future__ import annotations

import base64
import json as _json

from django.test import Client


class Api:
    """A REST client of one API client, speaking JSON, with the credential in one of the four forms."""

    def __init__(self, secret: str | None, *, client_id: str | None = None, form: str = "api-key"):
        self.http = Client()
        self.headers: dict[str, str] = {}
        if secret is not None:
            if form == "api-key":
                self.headers["HTTP_X_API_KEY"] = secret
            elif form == "bearer":
                self.headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
            elif form == "basic":
                token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
                self.headers["HTTP_AUTHORIZATION"] = f"Basic {token}"

    def request(self, method: str, path: str, body=None, *, raw: str | bytes | None = None, **extra):
        kwargs = {**self.headers, **extra}
        if raw is not None:
            return self.http.generic(method, path, raw, content_type="application/json", **kwargs)
        if body is None:
            return self.http.generic(method, path, **kwargs)
        return self.http.generic(method, path, _json.dumps(body), content_type="application/json", **kwargs)

    def get(self, path, params=None, **extra):
        return self.http.get(path, params or {}, **{**self.headers, **extra})

    def post(self, path, body=None, **extra):
        return self.request("POST", path, body, **extra)

    def patch(self, path, body=None, **extra):
        return self.request("PATCH", path, body, **extra)

    def put(self, path, body=None, **extra):
        return self.request("PUT", path, body, **extra)

    def delete(self, path, body=None, **extra):
        return self.request("DELETE", path, body, **extra)
