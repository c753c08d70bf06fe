"""KPI cards (the period and the previous one) and the 26-week trend: one query.

A UNION ALL of one plain aggregate (no GROUP BY) per bucket — the period, the previous period and
each of the 26 weeks — each over its own `submitted_at` range. Every branch is an index-only range
scan of `req_dashboard_window_idx` feeding an aggregate directly: no sort of the whole window by a
computed bucket key; only the percentile sorts remain, each over its own bucket's values, and
PostgreSQL runs the branches side by side (Parallel Append). The SQL is compiled twice (a period
branch, a week branch) and repeated with each bucket's range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Aggregate, CharField, Count, DateTimeField, Q, Value
from django.utils import timezone

from analysis.metrics import dialect
from analysis.metrics.figures import Kpi, RequestFigures, TrendWeek, hours
from analysis.metrics.filters import TREND_WEEKS, DashboardFilter, local_midnight, requests_in
from requests_app import clocks
from requests_app.models import Outcome, Status

FILLED = (Outcome.WON, Outcome.ALTERNATIVE_ACCEPTED)

KPI_FIELDS = [
    ("open_now", "Open now", "", False),  # snapshots: see SNAPSHOTS
    ("breached_now", "Breached now", "", False),
    ("due_soon", "Due in the next 24 business hours", "", False),
    ("ack_median_hours", "Time to acknowledge, median", "h", False),
    ("ack_p90_hours", "Time to acknowledge, p90", "h", False),
    ("answer_median_hours", "Time to answer, median", "h", False),
    ("answer_p90_hours", "Time to answer, p90", "h", False),
    ("ack_met_pct", "Acknowledge SLA met", "%", True),
    ("answer_met_pct", "Answer SLA met", "%", True),
    ("fill_rate", "Fill rate", "%", True),
    ("evaporation_rate", "Evaporation rate", "%", False),
]
"""(attribute, label, unit, higher is better) of each KPI card."""

SNAPSHOTS = {"open_now", "breached_now", "due_soon"}
"""Figures of this instant. The previous period's requests counted *now* say nothing about how many
were open a period ago (most have closed since), and the state a period ago is not stored (due times
move with pauses and revisions): so these cards get no comparison at all."""

def kpis(current: RequestFigures, previous: RequestFigures) -> list[Kpi]:
    return [Kpi(key=key, label=label, unit=unit, value=getattr(current, key),
                previous=None if key in SNAPSHOTS else getattr(previous, key), higher_is_better=better,
                snapshot=key in SNAPSHOTS)
            for key, label, unit, better in KPI_FIELDS]


def _request_aggregates(now: datetime, soon: datetime) -> dict[str, Aggregate]:
    open_ = Q(status__in=Status.open_values())
    ack_breached = Q(status=Status.SUBMITTED, acknowledge_due__lt=now)
    answer_breached = Q(status=Status.IN_ANALYSIS, answer_due__lt=now)
    breached = clocks.breached_q(now)  # the clock state every page reads; the two parts above are its halves
    due_soon = ~breached & (
        Q(status=Status.SUBMITTED, acknowledge_due__lte=soon) | Q(status=Status.IN_ANALYSIS, answer_due__lte=soon)
    )
    closed_answered = Q(status=Status.CLOSED, answered_at__isnull=False)
    return {
        "filed": Count("id"),
        "open_now": Count("id", filter=open_),
        "breached_now": Count("id", filter=breached),
        "due_soon": Count("id", filter=due_soon),
        # median and p90 from one sort per clock
        "ack_p": dialect.Percentiles("acknowledge_seconds", (0.5, 0.9)),
        "answer_p": dialect.Percentiles("answer_seconds", (0.5, 0.9)),
        "answered": Count("answer_seconds"),
        "ack_met": Count("id", filter=Q(acknowledge_met=True)),
        "ack_counted": Count("id", filter=Q(acknowledge_met__isnull=False) | ack_breached),
        "answer_met_n": Count("id", filter=Q(answer_met=True)),  # not "answer_met": that is a field
        "answer_counted": Count("id", filter=Q(answer_met__isnull=False) | answer_breached),
        "closed_answered": Count("id", filter=closed_answered),
        "filled": Count("id", filter=closed_answered & Q(outcome__in=FILLED)),
        "evaporated": Count("id", filter=closed_answered & Q(outcome=Outcome.EVAPORATED)),
    }


def _figures(row: dict[str, Any]) -> RequestFigures:
    row = {k: (0 if v is None and not k.endswith("_p") else v) for k, v in row.items()}
    (ack_p50, ack_p90), (answer_p50, answer_p90) = dialect.percentiles(row["ack_p"]), dialect.percentiles(row["answer_p"])
    return RequestFigures(
        filed=row["filed"], open_now=row["open_now"], breached_now=row["breached_now"], due_soon=row["due_soon"],
        ack_median_hours=hours(ack_p50), ack_p90_hours=hours(ack_p90),
        answer_median_hours=hours(answer_p50), answer_p90_hours=hours(answer_p90),
        ack_met=row["ack_met"], ack_counted=row["ack_counted"], answer_met=row["answer_met_n"],
        answer_counted=row["answer_counted"], closed_answered=row["closed_answered"], filled=row["filled"],
        evaporated=row["evaporated"], answered=row["answered"],
        seconds={"ack_p50": ack_p50, "ack_p90": ack_p90, "answer_p50": answer_p50, "answer_p90": answer_p90},
    )


# Stand-ins for a branch's range while its SQL is compiled once.
_START = datetime(1901, 1, 1, tzinfo=UTC)
_END = datetime(1902, 1, 1, tzinfo=UTC)


def _with_range(params: tuple, start: datetime, end: datetime) -> list:
    """A compiled branch's parameters with the stand-in range replaced by [start, end)."""
    swap = {dialect.adapt(_START): dialect.adapt(start), dialect.adapt(_END): dialect.adapt(end)}
    return [swap.get(p, p) if isinstance(p, str | datetime) else p for p in params]


def trend_mondays(f: DashboardFilter) -> list[date]:
    first_monday = timezone.localtime(f.trend_start, timezone.get_current_timezone()).date()
    return [first_monday + timedelta(weeks=i) for i in range(TREND_WEEKS)]


def period_and_trend(
    f: DashboardFilter, *, now: datetime, soon: datetime
) -> tuple[RequestFigures, RequestFigures, list[TrendWeek]]:
    """Figures for the period, the previous period, and each week of the trend (module docstring)."""
    aggregates = _request_aggregates(now, soon)
    text: CharField[str, str] = CharField()
    moment: DateTimeField[datetime, datetime] = DateTimeField()
    # The trend shows fewer figures: the others are NULL columns (a UNION needs the same columns),
    # which spares a percentile sort and nine counts per week.
    weekly = {"filed", "answer_p", "answered", "ack_met", "ack_counted", "answer_met_n", "answer_counted"}
    week_aggregates = {k: v if k in weekly else Value(None, output_field=v.output_field) for k, v in aggregates.items()}

    def template(kind: str, aggs: dict) -> tuple[str, tuple]:
        # Constant annotations are not grouped by: a branch is one aggregate row (none if empty).
        qs = (
            requests_in(f, _START, _END)
            .annotate(kind=Value(kind, output_field=text), bucket=Value(_START, output_field=moment))
            .values("kind", "bucket")
            .annotate(**aggs)
        )
        return qs.query.sql_with_params()

    mondays = trend_mondays(f)
    bounds = [local_midnight(m) for m in mondays] + [f.end]
    # Django compiles each branch in ~3 ms; 28 of them cost more than their SQL at 100k requests.
    period_sql, period_params = template("period", aggregates)
    week_sql, week_params = template("week", week_aggregates)
    branches = [(period_sql, _with_range(period_params, f.start, f.end)),
                (period_sql, _with_range(period_params, f.previous_start, f.start))]
    branches += [(week_sql, _with_range(week_params, bounds[i], bounds[i + 1])) for i in range(TREND_WEEKS)]
    # Plain `… UNION ALL …` (no ORDER BY/LIMIT in a branch): the weeks' NULL columns take the periods' types.
    sql = " UNION ALL ".join(branch for branch, _ in branches)
    with connection.cursor() as cursor:
        cursor.execute(sql, [p for _, params in branches for p in params])
        names = [c[0] for c in cursor.description]
        fetched = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    tz = timezone.get_current_timezone()
    current, previous, by_week = RequestFigures(), RequestFigures(), {}
    for row in fetched:
        if not row["filed"]:
            continue  # the aggregate row of an empty range
        start = dialect.parse_datetime(row["bucket"])
        if row["kind"] == "week":
            by_week[timezone.localtime(start, tz).date()] = _figures(row)
        elif start == f.start:
            current = _figures(row)
        else:
            previous = _figures(row)
    trend = []
    for week in mondays:
        fig = by_week.get(week, RequestFigures())
        trend.append(TrendWeek(week=week, filed=fig.filed, answered=fig.answered, answer_median_hours=fig.answer_median_hours,
                               answer_met_pct=fig.answer_met_pct, ack_met_pct=fig.ack_met_pct,
                               answer_median_seconds=fig.seconds.get("answer_p50")))
    return current, previous, trend
