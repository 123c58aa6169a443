"""The one CSV writer every export uses (admin downloads, management command reports).

A spreadsheet evaluates a cell that starts with `=`, `+`, `-` or `@` (and some treat a leading tab or
carriage return the same way) as a formula: text an API client wrote (a customer's name, a note, a
reference) could run in the office of whoever opens the file (OWASP "CSV injection"). Such text is
written with a leading apostrophe, which spreadsheets show as text and never evaluate. Numbers are left
alone, so a negative amount stays a number."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value):
    """The value as a spreadsheet must see it: numbers as they are, text that would be evaluated
    prefixed with an apostrophe."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer's writerow/writerows, with every cell passed through safe_cell."""

    def __init__(self, stream, **options):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file-like object whose write() returns the line, for streaming the writer's output."""

    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A CSV download, streamed row by row through SafeWriter."""
    writer = SafeWriter(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
