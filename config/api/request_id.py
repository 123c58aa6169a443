"""The request id: the caller's X-Request-ID when it sent a sane one, else a new one. It is echoed on
every response, carried into every log line and, in the benefits dialect, is the error's traceId."""

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"  # HEADER in the WSGI environ
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_current: ContextVar[str] = ContextVar("request_id", default="-")


def choose(incoming: str | None) -> str:
    if incoming and _SANE.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current() -> str:
    return _current.get()


def bind(value: str):
    return _current.set(value)


def unbind(token) -> None:
    _current.reset(token)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current()
        return True
