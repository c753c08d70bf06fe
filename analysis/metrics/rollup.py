"""KPI cards, trend and departments from the day rollup (`DayFigure`, `DayMinute`; kept by
analysis.dashboard_rollup), for the dashboard without filters: two queries whatever the data size.

1. One statement of UNION ALL branches: the rollup's counts and hour histograms of each bucket (the
   period, the previous period, the 26 weeks) — each an index range of a few hundred to a few
   thousand rows — and the figures that depend on "now", read live from the small partial indexes
   of open requests (`req_open_window_idx`) and pending assessments (`assess_pending_idx`).
2. The minutes of the one or two hours each percentile falls in (analysis.metrics.histograms).

The figures are those of the live queries (analysis.metrics.kpis and .departments), percentiles
within a minute of theirs (values rounded down to the minute); tests compare both ways. Used only
where the rollup can answer: PostgreSQL, no filter besides the dates (the rollup is per day, not per
team, rep, customer, priority or department), and the current time zone the one the rollup counts
days in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from analysis import dashboard_rollup
from analysis.metrics import dialect
from analysis.metrics.figures import DepartmentRow, RequestFigures, TrendWeek, hours
from analysis.metrics.filters import TREND_WEEKS, DashboardFilter, local_midnight
from analysis.metrics.histograms import Histogram
from analysis.metrics.kpis import trend_mondays
from analysis.models import Assessment, DayFigure, DayMinute
from requests_app.models import Department, FeasibilityRequest, Status

K = DayFigure.Kind
PERIOD, PREVIOUS, FIRST_WEEK = 0, 1, 2
REQUEST_KINDS = [K.FILED, K.ACK_MET, K.ACK_DONE, K.ANSWER_MET, K.ANSWER_DONE, K.CLOSED_ANSWERED, K.FILLED,
                 K.EVAPORATED, K.ACK_TIME, K.ANSWER_TIME]
WEEK_KINDS = [K.FILED, K.ACK_MET, K.ACK_DONE, K.ANSWER_MET, K.ANSWER_DONE, K.ANSWER_TIME]
DEPARTMENT_KINDS = [K.ROUTED, K.ASSESSED, K.ASSESSMENT_MET, K.ASSESSMENT_LATE, K.CANNOT, K.ASSESSMENT_TIME]
# Live rows: kind OPEN_NOW + a bit mask of the open request's state; PENDING + the assessment's met state.
OPEN_NOW, ACK_BREACHED, ANSWER_BREACHED, DUE_SOON, ACK_MET_SET, ANSWER_MET_SET = 1000, 1, 2, 4, 8, 16
PENDING_BREACHED = 2000  # + 0 (met unset), 1 (met), 2 (late)
REQUEST_FRACTIONS, WEEK_FRACTIONS, DEPARTMENT_FRACTIONS = (0.5, 0.9), (0.5,), (0.5,)

_zone: list[str | None] = []  # the rollup's time zone, read once per process (it changes with a rebuild)


def usable(f: DashboardFilter) -> bool:
    if not dialect.is_postgresql() or f.narrowed:
        return False
    if not _zone:
        _zone.append(dashboard_rollup.installed_time_zone())
    return _zone[0] == timezone.get_current_timezone_name()


def forget_time_zone() -> None:
    """After a rebuild in this process (tests, the management command)."""
    _zone.clear()


@dataclass
class _Bucket:
    counts: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    hours: dict[tuple[int, int], dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    live: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    pending: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))  # (department, met state)


def _day_ranges(f: DashboardFilter) -> dict[int, tuple[date, date]]:
    """Each bucket's local days [first, after last), as the live queries' [start, end) instants."""
    ranges = {PERIOD: (f.date_from, f.date_to + timedelta(days=1)),
              PREVIOUS: (f.date_from - timedelta(days=f.days), f.date_from)}
    mondays = trend_mondays(f)
    ends = [*mondays[1:], f.date_to + timedelta(days=1)]
    for i, (first, after) in enumerate(zip(mondays, ends, strict=True)):
        ranges[FIRST_WEEK + i] = (first, after)
    return ranges


def _first_query(f: DashboardFilter, ranges: dict[int, tuple[date, date]], departments: list[int], *,
                 now: datetime, soon: datetime) -> list[tuple]:
    figure_t, request_t, assessment_t = DayFigure._meta.db_table, FeasibilityRequest._meta.db_table, Assessment._meta.db_table
    open_statuses = ", ".join(f"'{s}'" for s in Status.open_values())  # our own constants
    # Breached: the rule of requests_app.clocks.breached_q, written out to number the states.
    state = (f"CASE WHEN r.status = '{Status.SUBMITTED}' AND r.acknowledge_due < %s THEN {ACK_BREACHED} ELSE 0 END"
             f" + CASE WHEN r.status = '{Status.IN_ANALYSIS}' AND r.answer_due < %s THEN {ANSWER_BREACHED} ELSE 0 END"
             f" + CASE WHEN NOT (r.status = '{Status.SUBMITTED}' AND r.acknowledge_due < %s)"
             f" AND NOT (r.status = '{Status.IN_ANALYSIS}' AND r.answer_due < %s)"
             f" AND ((r.status = '{Status.SUBMITTED}' AND r.acknowledge_due <= %s)"
             f" OR (r.status = '{Status.IN_ANALYSIS}' AND r.answer_due <= %s)) THEN {DUE_SOON} ELSE 0 END"
             f" + CASE WHEN r.acknowledge_met IS NOT NULL THEN {ACK_MET_SET} ELSE 0 END"
             f" + CASE WHEN r.answer_met IS NOT NULL THEN {ANSWER_MET_SET} ELSE 0 END")
    state_params = [now, now, now, now, soon, soon]
    branches: list[str] = []
    params: list[Any] = []

    def figures(label: int, kinds: Sequence[int], scopes: Sequence[int]) -> None:
        first, after = ranges[label]
        branches.append(f"""
            SELECT {label}::bigint AS label, kind::bigint, scope::bigint, bucket::bigint, SUM(n)::bigint AS n
            FROM {figure_t} WHERE kind = ANY(%s) AND scope = ANY(%s) AND day >= %s AND day < %s
            GROUP BY kind, scope, bucket HAVING SUM(n) <> 0""")  # nosec B608
        params.extend([list(map(int, kinds)), list(scopes), first, after])

    def open_now(label: int) -> None:
        first, after = ranges[label]
        branches.append(f"""
            SELECT {label}::bigint, ({OPEN_NOW} + {state})::bigint, 0::bigint, 0::bigint, COUNT(*)::bigint
            FROM {request_t} r
            WHERE r.status IN ({open_statuses}) AND r.submitted_at >= %s AND r.submitted_at < %s GROUP BY 2""")  # nosec B608
        params.extend([*state_params, local_midnight(first), local_midnight(after)])

    figures(PERIOD, REQUEST_KINDS, [0])
    figures(PERIOD, DEPARTMENT_KINDS, departments)
    figures(PREVIOUS, REQUEST_KINDS, [0])
    for week in range(FIRST_WEEK, FIRST_WEEK + TREND_WEEKS):
        figures(week, WEEK_KINDS, [0])
    for label in ranges:
        open_now(label)
    first, after = ranges[PERIOD]
    branches.append(f"""
        SELECT {PERIOD}::bigint, ({PENDING_BREACHED} + CASE WHEN a.met THEN 1 WHEN NOT a.met THEN 2 ELSE 0 END)::bigint,
               a.department_id::bigint, 0::bigint, COUNT(*)::bigint
        FROM {assessment_t} a
        WHERE a.assessed_at IS NULL AND a.due_at < %s AND a.request_submitted_at >= %s AND a.request_submitted_at < %s
          AND EXISTS (SELECT 1 FROM {request_t} r WHERE r.id = a.request_id AND r.status IN ({open_statuses}))
        GROUP BY 2, 3""")  # nosec B608
    params.extend([now, local_midnight(first), local_midnight(after)])
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        return cursor.fetchall()


def _minutes_query(targets: list[tuple[int, int, int, set[int]]], ranges: dict[int, tuple[date, date]]) -> dict:
    """Minute counts of the hours each (label, kind, scope) percentile needs, in one statement."""
    if not targets:
        return {}
    minute_t = DayMinute._meta.db_table
    branches: list[str] = []
    params: list[Any] = []
    for i, (label, kind, scope, needed) in enumerate(targets):
        first, after = ranges[label]
        branches.append(f"""
            SELECT {i} AS target, minute, SUM(n) FROM {minute_t}
            WHERE kind = %s AND scope = %s AND hour = ANY(%s) AND day >= %s AND day < %s GROUP BY minute""")  # nosec B608
        params.extend([int(kind), scope, sorted(needed), first, after])
    out: dict[tuple[int, int, int], dict[int, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        for target, minute, n in cursor.fetchall():
            label, kind, scope, _ = targets[target]
            out[(label, kind, scope)][minute] = int(n)
    return out


def figures(
    f: DashboardFilter, *, now: datetime, soon: datetime, known: Sequence[tuple[int, str]] | None = None,
) -> tuple[RequestFigures, RequestFigures, list[TrendWeek], list[DepartmentRow]]:
    """The same results as kpis.period_and_trend and departments.departments, from the rollup."""
    if known is None:
        known = list(Department.objects.order_by("name", "pk").values_list("pk", "name"))
    names = {int(pk): name for pk, name in known}
    ranges = _day_ranges(f)
    buckets: dict[int, _Bucket] = defaultdict(_Bucket)
    for label, kind, scope, bucket, n in _first_query(f, ranges, sorted(names), now=now, soon=soon):
        b = buckets[label]
        if kind >= PENDING_BREACHED:
            b.pending[(scope, kind - PENDING_BREACHED)] += n
        elif kind >= OPEN_NOW:
            b.live[kind - OPEN_NOW] += n
        elif kind in (K.ACK_TIME, K.ANSWER_TIME, K.ASSESSMENT_TIME):
            b.hours[(kind, scope)][bucket] = n
        else:
            b.counts[(kind, scope)] += n

    histograms: dict[tuple[int, int, int], Histogram] = {}
    targets = []
    for label, b in buckets.items():
        for (kind, scope), by_hour in b.hours.items():
            fractions = (DEPARTMENT_FRACTIONS if kind == K.ASSESSMENT_TIME
                         else REQUEST_FRACTIONS if label in (PERIOD, PREVIOUS) else WEEK_FRACTIONS)
            histogram = histograms[(label, kind, scope)] = Histogram(hours=by_hour)
            if needed := histogram.hours_needed(fractions):
                targets.append((label, kind, scope, needed))
    for key, by_minute in _minutes_query(targets, ranges).items():
        histograms[key].minutes = by_minute

    def seconds(label: int, kind: int, scope: int, fraction: float) -> float | None:
        histogram = histograms.get((label, kind, scope))
        return histogram.percentile_seconds(fraction) if histogram else None

    def request_figures(label: int) -> RequestFigures:
        b = buckets[label]
        c = {kind: b.counts[(kind, 0)] for kind in REQUEST_KINDS}
        live = b.live
        ack_open_breached = sum(n for s, n in live.items() if s & ACK_BREACHED and not s & ACK_MET_SET)
        answer_open_breached = sum(n for s, n in live.items() if s & ANSWER_BREACHED and not s & ANSWER_MET_SET)
        fractions = REQUEST_FRACTIONS if label in (PERIOD, PREVIOUS) else WEEK_FRACTIONS  # what the page shows
        p = {f"{clock}_p{int(q * 100)}": seconds(label, kind, 0, q) if q in fractions else None
             for clock, kind in (("ack", K.ACK_TIME), ("answer", K.ANSWER_TIME)) for q in REQUEST_FRACTIONS}
        answered = histograms[(label, K.ANSWER_TIME, 0)].total if (label, K.ANSWER_TIME, 0) in histograms else 0
        return RequestFigures(
            filed=c[K.FILED], open_now=sum(live.values()),
            breached_now=sum(n for s, n in live.items() if s & (ACK_BREACHED | ANSWER_BREACHED)),
            due_soon=sum(n for s, n in live.items() if s & DUE_SOON),
            ack_median_hours=hours(p["ack_p50"]), ack_p90_hours=hours(p["ack_p90"]),
            answer_median_hours=hours(p["answer_p50"]), answer_p90_hours=hours(p["answer_p90"]),
            ack_met=c[K.ACK_MET], ack_counted=c[K.ACK_DONE] + ack_open_breached,
            answer_met=c[K.ANSWER_MET], answer_counted=c[K.ANSWER_DONE] + answer_open_breached,
            closed_answered=c[K.CLOSED_ANSWERED], filled=c[K.FILLED], evaporated=c[K.EVAPORATED],
            answered=answered, seconds=p,
        )

    current, previous = request_figures(PERIOD), request_figures(PREVIOUS)
    trend = []
    for i, week in enumerate(trend_mondays(f)):
        fig = request_figures(FIRST_WEEK + i)
        trend.append(TrendWeek(week=week, filed=fig.filed, answered=fig.answered,
                               answer_median_hours=fig.answer_median_hours, answer_met_pct=fig.answer_met_pct,
                               ack_met_pct=fig.ack_met_pct, answer_median_seconds=fig.seconds["answer_p50"]))

    period = buckets[PERIOD]
    rows = []
    for pk in sorted(names):
        routed = period.counts[(K.ROUTED, pk)]
        if not routed:
            continue
        met, late = period.counts[(K.ASSESSMENT_MET, pk)], period.counts[(K.ASSESSMENT_LATE, pk)]
        pending = {state: period.pending[(pk, state)] for state in (0, 1, 2)}
        median = seconds(PERIOD, K.ASSESSMENT_TIME, pk, 0.5)
        rows.append(DepartmentRow(
            department_id=pk, department=names[pk], routed=routed, assessed=period.counts[(K.ASSESSED, pk)],
            median_hours=hours(median), met=met, counted=met + late + pending[0],
            breaches=late + pending[0] + pending[1], cannot=period.counts[(K.CANNOT, pk)], median_seconds=median,
        ))
    rows.sort(key=lambda row: (row.department, row.department_id))
    return current, previous, trend, rows
