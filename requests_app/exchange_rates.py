"""Dated exchange rates into the reporting currency: reading them, and the managers' CSV upload.

A rate says what one unit of a request's currency is worth in `settings.S2O_REPORTING_CURRENCY`
from a day on; the rate in force on a day is the latest one on or before it. Nothing is fetched
from the internet: managers keep the rates (admin, or a CSV upload checked row by row first).

The upload is all or nothing: a file with any error saves nothing, and a file without errors is
saved in one transaction, so a manager never has to find out which half of a file went in.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction

from requests_app import permissions
from requests_app.models import Currency, ExchangeRate
from requests_app.roles import Actor

MAX_BYTES = 256 * 1024
MAX_ROWS = 5000
EARLIEST = date(2000, 1, 1)
AHEAD = timedelta(days=365)
HEADER = ("currency", "valid_from", "rate")
_HEADER_ALIASES = {"currency": "currency", "valid_from": "valid_from", "date": "valid_from", "rate": "rate"}
RATE_DIGITS, RATE_DECIMALS = 10, 8  # the model's max_digits=18, decimal_places=8


def reporting_currency() -> str:
    return settings.S2O_REPORTING_CURRENCY


def rate_on(currency: str, day: date) -> Decimal | None:
    """The rate in force on `day` for `currency` (1 for the reporting currency itself), or None."""
    if currency == reporting_currency():
        return Decimal(1)
    found = (
        ExchangeRate.objects.filter(reporting_currency=reporting_currency(), currency=currency, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    return found


def current_rates(today: date) -> list[ExchangeRate]:
    """The rate in force today for each currency that has one."""
    latest: dict[str, ExchangeRate] = {}
    rates = ExchangeRate.objects.filter(reporting_currency=reporting_currency(), valid_from__lte=today)
    for rate in rates.order_by("currency", "-valid_from"):
        latest.setdefault(rate.currency, rate)
    return list(latest.values())


def recent_rates(limit: int = 50) -> list[ExchangeRate]:
    return list(ExchangeRate.objects.filter(reporting_currency=reporting_currency())
                .select_related("updated_by").order_by("-valid_from", "currency")[:limit])


# --- the CSV upload ---------------------------------------------------------------------------


@dataclass
class RateRow:
    """One line of an uploaded file, as understood, with what is wrong with it."""

    line: int
    cells: list[str]
    currency: str = ""
    valid_from: date | None = None
    rate: Decimal | None = None
    stored: Decimal | None = None  # the rate already stored for that currency and day, if any
    errors: list[str] = field(default_factory=list)

    @property
    def change(self) -> str:
        if self.errors or self.rate is None:
            return ""
        if self.stored is None:
            return "new"
        return "unchanged" if self.stored == self.rate else f"replaces {self.stored.normalize():f}"


@dataclass
class RateImport:
    """What a file holds; `saved` is True once its rates are in the database."""

    rows: list[RateRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    saved: bool = False

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(1 for row in self.rows if row.errors)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.error_count


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")  # with or without the byte-order mark Excel writes
    except UnicodeDecodeError:
        return None


def _parse_rate(text: str, delimiter: str) -> Decimal:
    if delimiter == ";" and "," in text and "." not in text:
        text = text.replace(",", ".")  # a spreadsheet set to a decimal comma writes "1,0850" with semicolons
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def parse_rates_csv(data: bytes, *, today: date) -> RateImport:
    """Read an uploaded file: `currency,valid_from,rate` (header first; `date` is accepted for
    `valid_from`; a semicolon-separated file with decimal commas too). Nothing is saved."""
    result = RateImport()
    if len(data) > MAX_BYTES:
        result.errors.append(f"The file is larger than {MAX_BYTES // 1024} KB: split it.")
        return result
    text = _decode(data)
    if text is None:
        result.errors.append("The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again.")
        return result
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        result.errors.append("The file is empty: its first line must be the header currency,valid_from,rate.")
        return result
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_HEADER_ALIASES.get(cell.strip().lower(), cell.strip()) for cell in next(reader)]
    if tuple(header) != HEADER:
        result.errors.append(f"The first line must be the header currency,valid_from,rate (found: {delimiter.join(header)}).")
        return result
    allowed = sorted(c for c in Currency.values if c != reporting_currency())
    latest = today + AHEAD
    seen: dict[tuple[str, date], int] = {}
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave at the end
        row = RateRow(line=reader.line_num, cells=cells)
        result.rows.append(row)
        if len(result.rows) > MAX_ROWS:
            result.errors.append(f"The file has more than {MAX_ROWS:,} rates: split it.")
            result.rows.pop()
            return result
        if len(cells) != 3:
            row.errors.append(f"Expected 3 values (currency, valid_from, rate), found {len(cells)}.")
            continue
        currency, day_text, rate_text = (cell.strip() for cell in cells)
        row.currency = currency.upper()
        if row.currency == reporting_currency():
            row.errors.append(f"{row.currency} is the reporting currency: it needs no rate.")
        elif row.currency not in allowed:
            row.errors.append(f"Unknown currency “{currency}”: use one of {', '.join(allowed)}.")
        try:
            row.valid_from = date.fromisoformat(day_text)
        except ValueError:
            row.errors.append(f"“{day_text}” is not a date: write it as YYYY-MM-DD.")
        else:
            if not EARLIEST <= row.valid_from <= latest:
                row.errors.append(f"The date must be between {EARLIEST:%-d %b %Y} and {latest:%-d %b %Y}.")
        try:
            row.rate = _parse_rate(rate_text, delimiter)
        except (InvalidOperation, ValueError):
            row.errors.append(f"“{rate_text}” is not a number.")
        else:
            sign, digits, exponent = row.rate.normalize().as_tuple()
            decimals = -int(exponent) if isinstance(exponent, int) and exponent < 0 else 0
            if row.rate <= 0:
                row.errors.append("The rate must be more than 0.")
            elif decimals > RATE_DECIMALS or len(digits) - decimals > RATE_DIGITS:
                row.errors.append(f"The rate may have at most {RATE_DIGITS} digits before the decimal point "
                                  f"and {RATE_DECIMALS} after it.")
        if not row.errors and row.valid_from is not None:
            key = (row.currency, row.valid_from)
            if key in seen:
                row.errors.append(f"Line {seen[key]} already gives {row.currency} from {row.valid_from}.")
            seen[key] = row.line
    if not result.rows and not result.errors:
        result.errors.append("The file has a header but no rates.")
    _attach_stored(result)
    return result


def _attach_stored(result: RateImport) -> None:
    """Each valid row's currently stored rate for the same day (one query), for the preview."""
    keys = {(row.currency, row.valid_from) for row in result.rows if not row.errors}
    if not keys:
        return
    stored: dict[tuple[str, date | None], Decimal] = {
        (currency, day): rate
        for currency, day, rate in ExchangeRate.objects.filter(
            reporting_currency=reporting_currency(),
            currency__in={c for c, _ in keys}, valid_from__in={d for _, d in keys},
        ).values_list("currency", "valid_from", "rate")
    }
    for row in result.rows:
        row.stored = stored.get((row.currency, row.valid_from))


def exchange_rates_import(*, actor: Actor, data: bytes, today: date, save: bool) -> RateImport:
    """Check an uploaded file and, when `save` is set and it has no error at all, store every rate
    in it in one transaction (a rate for a currency and day already stored is replaced)."""
    permissions.require(actor, "s2o.manage_exchange_rates")
    result = parse_rates_csv(data, today=today)
    if not save or not result.ok:
        return result
    with transaction.atomic():
        for row in result.rows:
            if row.stored == row.rate:
                continue  # unchanged: no write, no history row
            ExchangeRate.objects.update_or_create(
                reporting_currency=reporting_currency(), currency=row.currency, valid_from=row.valid_from,
                defaults={"rate": row.rate, "updated_by": actor},
            )
    result.saved = True
    return result
