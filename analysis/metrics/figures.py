"""The dashboard's results: small dataclasses, each figure's derived rates beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


def ratio(num: int | None, den: int | None) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return None if not den else round(100.0 * (num or 0) / den, 1)


def hours(seconds: float | None) -> float | None:
    """Business seconds as hours with one decimal (what the page shows)."""
    return None if seconds is None else round(seconds / 3600.0, 1)


class OutcomeRates:
    """Fill and evaporation rates over closed answered requests (the package docstring), for any
    figures with `closed_answered`, `filled` and `evaporated`."""

    closed_answered: int
    filled: int
    evaporated: int

    @property
    def fill_rate(self) -> float | None:
        return ratio(self.filled, self.closed_answered)

    @property
    def evaporation_rate(self) -> float | None:
        return ratio(self.evaporated, self.closed_answered)


# A period without requests has no percentiles: every key present, each None.
PERCENTILE_KEYS = ("ack_p50", "ack_p90", "answer_p50", "answer_p90")


@dataclass
class RequestFigures(OutcomeRates):
    """One set of request figures (a period, or one week of the trend)."""

    filed: int = 0
    open_now: int = 0
    breached_now: int = 0
    due_soon: int = 0
    ack_median_hours: float | None = None
    ack_p90_hours: float | None = None
    answer_median_hours: float | None = None
    answer_p90_hours: float | None = None
    ack_met: int = 0
    ack_counted: int = 0
    answer_met: int = 0
    answer_counted: int = 0
    closed_answered: int = 0
    filled: int = 0
    evaporated: int = 0
    answered: int = 0  # requests with a time to answer (the sample of its median and p90)
    # The percentiles before rounding, in business seconds ("ack_p50", "ack_p90", "answer_p50", "answer_p90").
    seconds: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(PERCENTILE_KEYS), repr=False)

    @property
    def ack_met_pct(self) -> float | None:
        return ratio(self.ack_met, self.ack_counted)

    @property
    def answer_met_pct(self) -> float | None:
        return ratio(self.answer_met, self.answer_counted)


@dataclass
class Kpi:
    key: str
    label: str
    unit: str
    value: float | int | None
    previous: float | int | None
    higher_is_better: bool
    snapshot: bool = False  # a figure of this instant: no previous period to compare with

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    @property
    def improved(self) -> bool | None:
        if not self.change:
            return None
        return (self.change > 0) == self.higher_is_better


@dataclass
class TrendWeek:
    """One week of the trend; `answered` is the sample of its median time to answer."""

    week: date
    filed: int
    answered: int
    answer_median_hours: float | None
    answer_met_pct: float | None
    ack_met_pct: float | None
    answer_median_seconds: float | None = field(default=None, repr=False)


@dataclass
class DepartmentRow:
    department_id: int
    department: str
    routed: int
    assessed: int
    median_hours: float | None
    met: int
    counted: int
    breaches: int
    cannot: int
    median_seconds: float | None = field(default=None, repr=False)

    @property
    def met_pct(self) -> float | None:
        return ratio(self.met, self.counted)

    @property
    def cannot_share(self) -> float | None:
        return ratio(self.cannot, self.assessed)


@dataclass
class GroupRow(OutcomeRates):
    """A sales team, a rep or a customer."""

    key: int | None
    label: str
    requests: int
    closed_answered: int
    filled: int
    evaporated: int
    answer_median_hours: float | None
    answer_median_seconds: float | None = None


@dataclass
class ParetoRow:
    """A constraint's row. Money is in `currency` (the reporting currency): `converted` sums the deal
    values at stake that have an exchange rate; `unconverted` counts the requests at stake whose
    currency had no rate in force on their submission day, left out of the sum."""

    code: str
    label: str
    blocked: int
    bent: int
    requests: int
    currency: str = ""
    converted: Decimal = Decimal(0)
    unconverted: int = 0
    unconverted_currencies: list[str] = field(default_factory=list)
    cumulative_pct: float = 0.0

    @property
    def both(self) -> int:
        """Requests both blocked and bent by this constraint: blocked + bent − both = requests."""
        return self.blocked + self.bent - self.requests

    @property
    def value_at_stake(self) -> Decimal | None:
        """The value at stake in the reporting currency; None (missing) when it could not be
        converted at all. With some requests unconverted it is a lower bound: see `unconverted`."""
        if self.unconverted and not self.converted:
            return None
        return self.converted


@dataclass
class ListedRequest:
    pk: int
    reference: str
    title: str
    customer: str
    status: str
    priority: str
    clock: str
    due: datetime
    url: str
