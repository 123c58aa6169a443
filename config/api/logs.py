"""The log formatter: what a client sent (a path, a header) may hold control characters, and none of them
reaches a log line raw. A NUL or an escape sequence would corrupt the line or the terminal that shows it,
and a newline or carriage return in a message would forge a second line."""

from __future__ import annotations

import logging
import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _escape(found: re.Match) -> str:
    return found.group().encode("unicode_escape").decode("ascii")


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character written as its escape (NUL as \\x00)."""
    return (_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL).sub(_escape, text)


class Formatter(logging.Formatter):
    """logging.Formatter whose message is one line without control characters; a traceback keeps its line
    breaks and nothing else."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return escape_controls(super().formatException(ei), keep_newlines=True)

    def formatStack(self, stack_info: str) -> str:
        return escape_controls(super().formatStack(stack_info), keep_newlines=True)
