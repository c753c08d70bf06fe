"""One CSV writer for every download (the request list here, the dashboard's tables in `analysis`).

* Excel opens UTF-8 correctly only with a byte-order mark: every file starts with one.
* A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by a
  spreadsheet (OWASP "CSV injection"): a rep's title, a new customer's name or a constraint label
  would run in a manager's spreadsheet. Such a cell is prefixed with `'`, which spreadsheets show
  as text and do not display. A plain number (`-7.5`, `-360.00`) is left alone, so it stays a
  number.
* Rows are produced lazily, so a long export can be streamed in constant memory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet may read it without running anything: None as an empty cell,
    numbers as numbers, text that would start a formula with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, so csv.writer yields text instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, a line at a time: the byte-order mark first, then each row, every cell made safe."""
    writer = csv.writer(_Echo())
    yield BOM
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def _disposition(filename: str) -> str:
    return f'attachment; filename="{filename}"'


def csv_response(rows: Iterable[Sequence[Any]], *, filename: str) -> HttpResponse:
    """A small table as one response."""
    response = HttpResponse("".join(csv_lines(rows)), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = _disposition(filename)
    return response


def streaming_csv_response(rows: Iterable[Sequence[Any]], *, filename: str) -> StreamingHttpResponse:
    """A table of any length, streamed: memory stays flat however many rows there are."""
    response = StreamingHttpResponse(csv_lines(rows), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = _disposition(filename)
    return response
