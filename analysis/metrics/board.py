"""The whole dashboard: every part, computed in one transaction, and its JSON twin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from analysis.metrics import dialect, rollup
from analysis.metrics.departments import departments
from analysis.metrics.figures import (
    DepartmentRow,
    GroupRow,
    Kpi,
    ListedRequest,
    ParetoRow,
    RequestFigures,
    TrendWeek,
)
from analysis.metrics.filters import DashboardFilter
from analysis.metrics.groups import groups
from analysis.metrics.kpis import kpis, period_and_trend
from analysis.metrics.lists import breached_and_at_risk
from analysis.metrics.pareto import pareto
from requests_app import businesstime, clocks
from requests_app.exchange_rates import reporting_currency


@dataclass
class Dashboard:
    filter: DashboardFilter
    now: datetime
    soon: datetime
    current: RequestFigures
    previous: RequestFigures
    kpis: list[Kpi]
    trend: list[TrendWeek]
    departments: list[DepartmentRow]
    teams: list[GroupRow]
    reps: list[GroupRow]
    customers: list[GroupRow]
    pareto: list[ParetoRow]
    breached: list[ListedRequest]
    at_risk: list[ListedRequest]
    reporting_currency: str = ""
    # When set (the page), the rollup gave the medians of the first `group_rows` reps and customers
    # only; the others' `answer_median_hours` is None (the page does not show them).
    group_rows: int | None = None

    @property
    def unconverted_currencies(self) -> list[str]:
        """Currencies of requests at stake left out of the Pareto's money for want of a rate."""
        return sorted({c for row in self.pareto for c in row.unconverted_currencies})

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-able figures (same numbers as the page)."""

        def rows(items: Sequence[Any], *props: str) -> list[dict[str, Any]]:
            return [{**_jsonable(asdict(item)), **{p: getattr(item, p) for p in props}} for item in items]

        return {
            "filter": _jsonable(asdict(self.filter)),
            "period": {"start": self.filter.start.isoformat(), "end": self.filter.end.isoformat(),
                       "previous_start": self.filter.previous_start.isoformat()},
            "now": self.now.isoformat(),
            "due_soon_until": self.soon.isoformat(),
            "kpis": rows(self.kpis, "change"),
            "trend": rows(self.trend),
            "departments": rows(self.departments, "met_pct", "cannot_share"),
            "teams": rows(self.teams, "fill_rate", "evaporation_rate"),
            "reps": rows(self.reps, "fill_rate", "evaporation_rate"),
            "customers": rows(self.customers, "fill_rate", "evaporation_rate"),
            "reporting_currency": self.reporting_currency,
            "pareto": rows(self.pareto, "value_at_stake"),
            "breached": rows(self.breached),
            "at_risk": rows(self.at_risk),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def dashboard(
    f: DashboardFilter, *, now: datetime, work_calendar: businesstime.WorkCalendar,
    known_departments: Sequence[tuple[int, str]] | None = None, use_rollup: bool | None = None,
    group_rows: int | None = None,
) -> Dashboard:
    """Every part of the dashboard. KPI cards, trend, departments, teams, reps, customers and the
    Pareto come from the day rollup where it can answer (`rollup.usable`: PostgreSQL, no filter but
    the dates), live otherwise; `use_rollup` forces one way (tests compare both). `group_rows`: the
    rows of the rep and customer tables that need their median (the page's)."""
    # "Due in the next 24 business hours" is the clocks' UPCOMING horizon (badges' "due soon" is DUE_SOON).
    soon = clocks.upcoming_until(now, work_calendar)
    fast = rollup.usable(f) if use_rollup is None else use_rollup
    with dialect.big_queries(parallel=not fast):  # the rollup's statements read a few thousand rows each
        if fast:
            current, previous, trend, dept_rows = rollup.figures(f, now=now, soon=soon, known=known_departments)
        else:
            current, previous, trend = period_and_trend(f, now=now, soon=soon)
            dept_rows = departments(f, now=now, known=known_departments)
        teams, reps, customers = groups(f, top=group_rows, use_rollup=fast)
        pareto_rows = pareto(f, use_rollup=fast)
        breached, at_risk = breached_and_at_risk(f, now=now, soon=soon)
    return Dashboard(
        filter=f, now=now, soon=soon, current=current, previous=previous, kpis=kpis(current, previous), trend=trend,
        departments=dept_rows, teams=teams, reps=reps, customers=customers, pareto=pareto_rows,
        breached=breached, at_risk=at_risk, reporting_currency=reporting_currency(),
        group_rows=group_rows if fast else None,
    )
