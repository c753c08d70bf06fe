"""Exchange rates: the rate in force on a day, and the managers' CSV upload (checked row by row,
saved all or nothing)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from requests_app import exchange_rates, permissions
from requests_app.models import ExchangeRate

TODAY = date(2026, 12, 1)


def upload(text: str, user, *, save: bool = True) -> exchange_rates.RateImport:
    return exchange_rates.exchange_rates_import(actor=user, data=text.encode("utf-8"), today=TODAY, save=save)


def test_the_rate_in_force_is_the_latest_on_or_before_the_day(db):
    ExchangeRate.objects.create(currency="USD", reporting_currency="EUR", valid_from=date(2026, 1, 1), rate=Decimal("0.8"))
    ExchangeRate.objects.create(currency="USD", reporting_currency="EUR", valid_from=date(2026, 6, 1), rate=Decimal("0.9"))
    assert exchange_rates.rate_on("USD", date(2025, 12, 31)) is None
    assert exchange_rates.rate_on("USD", date(2026, 5, 31)) == Decimal("0.8")
    assert exchange_rates.rate_on("USD", date(2026, 6, 1)) == Decimal("0.9")
    assert exchange_rates.rate_on("EUR", date(2020, 1, 1)) == 1  # the reporting currency itself


def test_a_clean_file_is_saved_in_one_go_and_replaces_a_day_s_rate(manager):
    ExchangeRate.objects.create(currency="USD", reporting_currency="EUR", valid_from=date(2026, 11, 2), rate=Decimal("0.9"))
    text = "\ufeffcurrency,valid_from,rate\r\nUSD,2026-11-02,0.9215\r\nCHF,2026-11-02,1.07\r\n\r\n"
    preview = upload(text, manager, save=False)
    assert preview.ok and not preview.saved and ExchangeRate.objects.count() == 1  # checking saves nothing
    assert [row.change for row in preview.rows] == ["replaces 0.9", "new"]
    result = upload(text, manager)
    assert result.saved
    stored = {(r.currency, r.valid_from): (r.rate, r.updated_by) for r in ExchangeRate.objects.all()}
    assert stored == {("USD", date(2026, 11, 2)): (Decimal("0.92150000"), manager),
                      ("CHF", date(2026, 11, 2)): (Decimal("1.07000000"), manager)}


def test_a_spreadsheet_s_semicolons_and_decimal_commas_are_understood(manager):
    result = upload("Currency;Date;Rate\nGBP;2026-10-01;1,1420\n", manager)
    assert result.saved and ExchangeRate.objects.get().rate == Decimal("1.142")


def test_any_error_saves_nothing_and_each_row_says_what_is_wrong(manager):
    text = "\n".join([
        "currency,valid_from,rate",
        "USD,2026-11-02,0.92",         # line 2: fine
        "XYZ,2026-11-02,1",            # 3: unknown currency
        "EUR,2026-11-02,1",            # 4: the reporting currency
        "CHF,2026-13-01,1",            # 5: not a date
        "GBP,1999-12-31,1",            # 6: out of range
        "GBP,2026-11-02,-1",           # 7: not positive
        "GBP,2026-11-03,abc",          # 8: not a number
        "GBP,2026-11-04,12345678901",  # 9: too many digits
        "USD,2026-11-02,0.93",         # 10: repeats line 2
        "USD,2026-11-05",              # 11: a value missing
    ])
    result = upload(text, manager)
    assert not result.saved and ExchangeRate.objects.count() == 0
    problems = {row.line: row.errors for row in result.rows if row.errors}
    assert problems == {
        3: ["Unknown currency “XYZ”: use one of CHF, GBP, USD."],
        4: ["EUR is the reporting currency: it needs no rate."],
        5: ["“2026-13-01” is not a date: write it as YYYY-MM-DD."],
        6: ["The date must be between 1 Jan 2000 and 1 Dec 2027."],
        7: ["The rate must be more than 0."],
        8: ["“abc” is not a number."],
        9: ["The rate may have at most 10 digits before the decimal point and 8 after it."],
        10: ["Line 2 already gives USD from 2026-11-02."],
        11: ["Expected 3 values (currency, valid_from, rate), found 2."],
    }
    assert result.error_count == 9


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty"),
    (b"cur,day,value\nUSD,2026-11-02,1\n", "The first line must be the header"),
    (b"currency,valid_from,rate\n", "The file has a header but no rates."),
    ("currency,valid_from,rate\nUSD,2026-11-02,1\n".encode("utf-16"), "The file is not UTF-8 text"),
    (b"currency,valid_from,rate\n" + b"USD,2026-11-02,1\n" * 20000, "The file is larger than 256 KB"),
])
def test_a_file_that_is_not_a_rates_table_is_refused_whole(manager, data, message):
    result = exchange_rates.exchange_rates_import(actor=manager, data=data, today=TODAY, save=True)
    assert not result.ok and result.errors[0].startswith(message)
    assert ExchangeRate.objects.count() == 0


def test_only_managers_may_upload_rates(rep, ops_lead):
    for user in (rep, ops_lead):
        with pytest.raises(permissions.NotAllowed):
            upload("currency,valid_from,rate\nUSD,2026-11-02,0.92\n", user)
    assert ExchangeRate.objects.count() == 0
