"""Dashboard metrics (issue 6): every figure aggregated in the database, returned as small dataclasses.

Design (why it stays fast at a million requests, shared/PERFORMANCE.md)
-----------------------------------------------------------------------
* Every milestone, duration (business seconds, pauses already removed) and met flag is stored on
  the row when it happens (`requests_app.clocks`), so no metric needs per-row calendar math or a
  join to an event table: the dashboard is a handful of GROUP BY queries over a bounded window
  (the filter's period, the previous period of the same length, 26 weeks of trend).
* A constant number of queries whatever the data size (pinned in tests): one for the KPI cards
  *and* the weekly trend, one for the departments, one for teams, reps and customers together, one
  for the capability-gap Pareto, one for both lists.
* Shapes that measured fastest at a million requests (bench/README.md has the figures):
  - KPI cards and trend: a UNION ALL of one *plain* aggregate (no GROUP BY) per bucket — period,
    previous period, 26 weeks — each an index-only range scan of `req_dashboard_window_idx`. No
    sort of the whole window by a computed bucket key; only each bucket's percentile sort remains,
    and PostgreSQL runs the branches with Parallel Append. The SQL is compiled twice and repeated.
  - Grouped figures group by integer ids only; names are joined to the few result rows afterwards
    (teams, reps and customers: one `GROUPING SETS` pass over the period's index-only scan).
  - The Pareto reads a rollup, `ConstraintHit` (one row per request and constraint), kept exact in
    the same transaction as every write that changes it (analysis.rollups), and hash-joins it to the
    period's requests for their live outcome and value.
  - The breached / at-risk lists read the small partial index `req_running_clock_idx`.
  What remains at 1M is proportional to the window: reading it and sorting it for the exact
  medians and p90s (~0.8 s of SQL on this 2-core machine, bench/README.md). Below that would
  take pre-aggregated histograms, i.e. approximate percentiles: a change of the contract.
* On PostgreSQL the big queries run inside one transaction with `SET LOCAL jit = off` (JIT
  compilation costs 15–50 ms per query and buys nothing here) and a `work_mem` that keeps the
  window's sorts in memory.
* Percentiles use `percentile_cont(p) WITHIN GROUP (ORDER BY …)` on PostgreSQL. SQLite (the
  embedded mode) has no ordered-set aggregates, so `Percentile.as_sqlite` calls an aggregate
  written in Python that we register on the SQLite connection (same linear interpolation as
  percentile_cont). Still one query; only the interpolation runs in Python, row by row, inside
  SQLite — fine for a laptop-sized database.

Definitions (shared/DESIGN.md is the contract; refinements documented here and on the page)
------------------------------------------------------------------------------------------
* Period: requests whose `submitted_at` is in [start, end); the previous period is the same
  length immediately before. Every card — the "now" cards too — is computed over the requests
  submitted in the period, so each card has a like-for-like comparison with the previous period.
* Open now: status SUBMITTED, IN_ANALYSIS or WAITING_ON_SALES.
* Breached now: SUBMITTED past its acknowledge due, or IN_ANALYSIS past its answer due. A request
  WAITING_ON_SALES has its answer clock paused (its due moves on resume), so it is not breached.
* Due in the next 24 business hours: open, not breached, and its running clock's due is at or
  before `add_business_time(default calendar, now, 24 h)` — one instant for every request, an
  approximation that ignores a request's own calendar (the default calendar is what the company
  works by; a per-row calendar would need per-row math).
* Time to acknowledge / answer: median and p90 of the stored business seconds (answer: pauses
  removed), shown in business hours.
* SLA met % = met ÷ (done + open already breached) among requests submitted in the period.
  Acknowledge: done = `acknowledge_met` set, open breached = SUBMITTED past `acknowledge_due`.
  Answer: done = `answer_met` set, open breached = IN_ANALYSIS past `answer_due`.
* Fill rate = (WON + ALTERNATIVE_ACCEPTED) ÷ closed answered requests (closed with `answered_at`).
  Evaporation rate = EVAPORATED ÷ closed answered requests (same denominator, so the two compare).
* Per department: assessments routed; median assessment business time; own due met % =
  met ÷ (assessed + pending past due on an open request); breaches = assessed late + pending past
  due on an open request; share of CANNOT = CANNOT verdicts ÷ assessments made.
* Capability-gap Pareto, per constraint category: requests it *blocked* (a CANNOT assessment
  citing it) and requests it *bent* (a published answer's alternative working around it); each
  request counts once per constraint. Value at stake = sum of `deal_value` of those requests not
  filled (outcome neither WON nor ALTERNATIVE_ACCEPTED, open ones included), per currency — we
  hold no exchange rates, so currencies are never added together. Sorted by requests affected
  (then requests blocked); the cumulative share is over the sum of requests affected of all constraints.
  Drafts never count: an alternative bends a request only once its answer is published (a
  superseded answer still counts — Sales saw it), and a verdict blocks only while it says CANNOT.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from analysis.models import Assessment, ConstraintCategory, ConstraintHit, Verdict
from requests_app import businesstime
from requests_app.models import Customer, Department, FeasibilityRequest, Outcome, SalesTeam, Status

TREND_WEEKS = 26
LIST_LIMIT = 50
DEFAULT_PERIOD_DAYS = 90
SOON = timedelta(hours=24)
WORK_MEM = "64MB"
FILLED = (Outcome.WON, Outcome.ALTERNATIVE_ACCEPTED)


# --- a portable percentile aggregate -------------------------------------------------------------


class _SqlitePercentile:
    """percentile_cont for SQLite: collects the group's values, interpolates like PostgreSQL."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction) -> None:
        if value is not None:
            self.values.append(float(value))
            self.fraction = float(fraction)

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction)


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Percentile(Aggregate):
    """`percentile_cont(fraction) WITHIN GROUP (ORDER BY expr)`; see the module docstring for SQLite."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra) -> None:
        self.fraction = float(fraction)
        super().__init__(expression, fraction=repr(self.fraction), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        # Idempotent; done here rather than on connection_created so it also covers a connection
        # opened before this module was imported.
        connection.connection.create_aggregate("S2O_PERCENTILE", 2, _SqlitePercentile)
        return self.as_sql(
            compiler, connection, function="S2O_PERCENTILE", template="%(function)s(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


class _SqlitePercentiles(_SqlitePercentile):
    def step(self, value, fractions) -> None:
        if value is not None:
            self.values.append(float(value))
            self.fraction = fractions

    def finalize(self) -> str | None:
        if not self.values:
            return None
        return json.dumps([percentile_cont(self.values, float(p)) for p in json.loads(self.fraction)])


class Percentiles(Aggregate):
    """Several percentiles from one sort: `percentile_cont(ARRAY[…]) WITHIN GROUP (ORDER BY expr)`.

    The value is a list (PostgreSQL float8[]; a JSON text from SQLite): read it with `percentiles()`.
    A text output field keeps Django from converting it."""

    function = "PERCENTILE_CONT"
    name = "Percentiles"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = TextField()

    def __init__(self, expression, fractions: tuple[float, ...], **extra) -> None:
        self.fractions = tuple(float(p) for p in fractions)
        super().__init__(expression, fractions=", ".join(repr(p) for p in self.fractions), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_aggregate("S2O_PERCENTILES", 2, _SqlitePercentiles)
        return self.as_sql(
            compiler, connection, function="S2O_PERCENTILES", template="%(function)s(%(expressions)s, '[%(fractions)s]')",
            **extra_context,
        )


def percentiles(value, n: int = 2) -> list[float | None]:
    if value is None:
        return [None] * n
    return json.loads(value) if isinstance(value, str) else list(value)


# --- the filter -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilter:
    """What the URL asks for; dates are local calendar days, `date_to` inclusive."""

    date_from: date
    date_to: date
    department: int | None = None
    customer: int | None = None
    sales_team: int | None = None
    rep: int | None = None
    priority: str = ""

    @classmethod
    def default(cls, *, today: date) -> DashboardFilter:
        return cls(date_from=today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), date_to=today)

    @property
    def start(self) -> datetime:
        return _local_midnight(self.date_from)

    @property
    def end(self) -> datetime:
        return _local_midnight(self.date_to + timedelta(days=1))

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    @property
    def trend_start(self) -> datetime:
        last_day = self.date_to
        monday = last_day - timedelta(days=last_day.weekday())
        return _local_midnight(monday - timedelta(weeks=TREND_WEEKS - 1))


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0)), timezone.get_current_timezone())


def _request_q(f: DashboardFilter, prefix: str = "") -> Q:
    """Every filter except the date range, on FeasibilityRequest (or through `prefix`)."""
    q = ~Q(**{f"{prefix}status": Status.DRAFT})
    for name, value in (("customer_id", f.customer), ("sales_team_id", f.sales_team), ("requested_by_id", f.rep)):
        if value:
            q &= Q(**{f"{prefix}{name}": value})
    if f.priority:
        q &= Q(**{f"{prefix}priority": f.priority})
    return q


def _requests(f: DashboardFilter, start: datetime, end: datetime):
    qs = FeasibilityRequest.objects.filter(_request_q(f), submitted_at__gte=start, submitted_at__lt=end)
    if f.department:
        # EXISTS rather than a join: a request routed to several departments must count once.
        qs = qs.filter(Exists(Assessment.objects.filter(request=OuterRef("pk"), department_id=f.department)))
    return qs.order_by()


# --- small results ----------------------------------------------------------------------------


def _ratio(num: int | None, den: int | None) -> float | None:
    return None if not den else round(100.0 * (num or 0) / den, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 1)


class _OutcomeRates:
    """Fill and evaporation rates over closed answered requests (module docstring), for any
    figures with `closed_answered`, `filled` and `evaporated`."""

    closed_answered: int
    filled: int
    evaporated: int

    @property
    def fill_rate(self) -> float | None:
        return _ratio(self.filled, self.closed_answered)

    @property
    def evaporation_rate(self) -> float | None:
        return _ratio(self.evaporated, self.closed_answered)


@dataclass
class RequestFigures(_OutcomeRates):
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

    @property
    def ack_met_pct(self) -> float | None:
        return _ratio(self.ack_met, self.ack_counted)

    @property
    def answer_met_pct(self) -> float | None:
        return _ratio(self.answer_met, self.answer_counted)


KPI_FIELDS = [
    ("open_now", "Open now", "", False),
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


@dataclass
class Kpi:
    key: str
    label: str
    unit: str
    value: float | int | None
    previous: float | int | None
    higher_is_better: bool

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
    week: date
    filed: int
    answer_median_hours: float | None
    answer_met_pct: float | None
    ack_met_pct: float | None


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

    @property
    def met_pct(self) -> float | None:
        return _ratio(self.met, self.counted)

    @property
    def cannot_share(self) -> float | None:
        return _ratio(self.cannot, self.assessed)


@dataclass
class GroupRow(_OutcomeRates):
    """A sales team, a rep or a customer."""

    key: int | None
    label: str
    requests: int
    closed_answered: int
    filled: int
    evaporated: int
    answer_median_hours: float | None


@dataclass
class ParetoRow:
    code: str
    label: str
    blocked: int
    bent: int
    requests: int
    value_at_stake: dict[str, Decimal] = field(default_factory=dict)
    cumulative_pct: float = 0.0

    @property
    def value_display(self) -> str:
        return " · ".join(f"{cur} {amount:,.0f}" for cur, amount in sorted(self.value_at_stake.items())) or "—"


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

    def as_json(self) -> dict:
        """Plain JSON-able figures (same numbers as the page)."""

        def rows(items, *props):
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
            "pareto": rows(self.pareto),
            "breached": rows(self.breached),
            "at_risk": rows(self.at_risk),
        }


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- the queries ------------------------------------------------------------------------------


@contextmanager
def _big_queries() -> Iterator[None]:
    """The dashboard's aggregates in one transaction, on PostgreSQL without JIT (PERFORMANCE.md:
    JIT compiles for 15–50 ms per big query and buys nothing here).

    `SET LOCAL` lasts until the end of the transaction. Inside an outer atomic block (a test, or
    ATOMIC_REQUESTS) we use that transaction instead of opening a savepoint: one query, not three.
    """
    if connection.vendor != "postgresql":
        yield
        return
    if connection.in_atomic_block:
        _jit_off()
        yield
        return
    with transaction.atomic():
        _jit_off()
        yield


def _jit_off() -> None:
    # One statement for both settings (set_config(..., true) is SET LOCAL). work_mem: sorting a
    # 90-day window at a million requests (percentiles, GROUP BY) takes ~20 MB; the default 4 MB
    # spills those sorts to disk.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)", [WORK_MEM])


def _request_aggregates(now: datetime, soon: datetime) -> dict:
    open_ = Q(status__in=Status.open_values())
    ack_breached = Q(status=Status.SUBMITTED, acknowledge_due__lt=now)
    answer_breached = Q(status=Status.IN_ANALYSIS, answer_due__lt=now)
    breached = ack_breached | answer_breached
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
        "ack_p": Percentiles("acknowledge_seconds", (0.5, 0.9)),
        "answer_p": Percentiles("answer_seconds", (0.5, 0.9)),
        "ack_met": Count("id", filter=Q(acknowledge_met=True)),
        "ack_counted": Count("id", filter=Q(acknowledge_met__isnull=False) | ack_breached),
        "answer_met_n": Count("id", filter=Q(answer_met=True)),  # not "answer_met": that is a field
        "answer_counted": Count("id", filter=Q(answer_met__isnull=False) | answer_breached),
        "closed_answered": Count("id", filter=closed_answered),
        "filled": Count("id", filter=closed_answered & Q(outcome__in=FILLED)),
        "evaporated": Count("id", filter=closed_answered & Q(outcome=Outcome.EVAPORATED)),
    }


def _figures(row: dict) -> RequestFigures:
    row = {k: (0 if v is None and not k.endswith("_p") else v) for k, v in row.items()}
    (ack_p50, ack_p90), (answer_p50, answer_p90) = percentiles(row["ack_p"]), percentiles(row["answer_p"])
    return RequestFigures(
        filed=row["filed"], open_now=row["open_now"], breached_now=row["breached_now"], due_soon=row["due_soon"],
        ack_median_hours=_hours(ack_p50), ack_p90_hours=_hours(ack_p90),
        answer_median_hours=_hours(answer_p50), answer_p90_hours=_hours(answer_p90),
        ack_met=row["ack_met"], ack_counted=row["ack_counted"], answer_met=row["answer_met_n"],
        answer_counted=row["answer_counted"], closed_answered=row["closed_answered"], filled=row["filled"],
        evaporated=row["evaporated"],
    )


# Stand-ins for a branch's range while its SQL is compiled once (see period_and_trend).
_START = datetime(1901, 1, 1, tzinfo=UTC)
_END = datetime(1902, 1, 1, tzinfo=UTC)


def _with_range(params: tuple, start: datetime, end: datetime) -> list:
    """A compiled branch's parameters with the stand-in range replaced by [start, end)."""
    adapt = connection.ops.adapt_datetimefield_value
    swap = {adapt(_START): adapt(start), adapt(_END): adapt(end)}
    return [swap.get(p, p) if isinstance(p, str | datetime) else p for p in params]


def _parse_db_datetime(value) -> datetime:
    """SQLite returns the bucket as text (UTC, naive under USE_TZ)."""
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def period_and_trend(
    f: DashboardFilter, *, now: datetime, soon: datetime
) -> tuple[RequestFigures, RequestFigures, list[TrendWeek]]:
    """KPI figures for the period and the previous one, and the weekly trend: one query.

    A UNION ALL of one plain aggregate (no GROUP BY) per bucket — the period, the previous period and
    each of the 26 weeks — each over its own `submitted_at` range. Every branch is an index-only range
    scan feeding an aggregate directly: no sort of the whole window by a computed bucket key; only the
    percentile sorts remain, each over its own bucket's values."""
    aggregates = _request_aggregates(now, soon)
    tz = timezone.get_current_timezone()
    text, moment = CharField(), DateTimeField()
    # The trend shows fewer figures: the others are NULL columns (a UNION needs the same columns),
    # which spares a percentile sort and nine counts per week.
    weekly = {"filed", "answer_p", "ack_met", "ack_counted", "answer_met_n", "answer_counted"}
    week_aggregates = {k: v if k in weekly else Value(None, output_field=v.output_field) for k, v in aggregates.items()}

    def template(kind: str, aggs: dict) -> tuple[str, list]:
        # Constant annotations are not grouped by: a branch is one aggregate row (none if empty).
        qs = (
            _requests(f, _START, _END)
            .annotate(kind=Value(kind, output_field=text), bucket=Value(_START, output_field=moment))
            .values("kind", "bucket")
            .annotate(**aggs)
        )
        return qs.query.sql_with_params()

    first_monday = timezone.localtime(f.trend_start, tz).date()
    mondays = [first_monday + timedelta(weeks=i) for i in range(TREND_WEEKS)]
    bounds = [_local_midnight(m) for m in mondays] + [f.end]
    # Django compiles each branch in ~3 ms; 28 of them cost more than their SQL at 100k requests.
    # So one period branch and one week branch are compiled, then repeated with their own range.
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
    current, previous, by_week = RequestFigures(), RequestFigures(), {}
    for row in fetched:
        if not row["filed"]:
            continue  # the aggregate row of an empty range
        start = row["bucket"]
        start = start if isinstance(start, datetime) else _parse_db_datetime(start)
        if row["kind"] == "week":
            by_week[timezone.localtime(start, tz).date()] = _figures(row)
        elif start == f.start:
            current = _figures(row)
        else:
            previous = _figures(row)
    trend = []
    for week in mondays:
        fig = by_week.get(week, RequestFigures())
        trend.append(TrendWeek(week=week, filed=fig.filed, answer_median_hours=fig.answer_median_hours,
                               answer_met_pct=fig.answer_met_pct, ack_met_pct=fig.ack_met_pct))
    return current, previous, trend


def kpis(current: RequestFigures, previous: RequestFigures) -> list[Kpi]:
    return [Kpi(key=key, label=label, unit=unit, value=getattr(current, key), previous=getattr(previous, key),
                higher_is_better=better) for key, label, unit, better in KPI_FIELDS]


def departments(
    f: DashboardFilter, *, now: datetime, known: Sequence[tuple[int, str]] | None = None
) -> list[DepartmentRow]:
    """Per department: one query, a UNION ALL of one plain aggregate (no GROUP BY) per department.

    Each branch is an index-only range scan of `assess_dept_window_idx` (department, the request's
    submission copied onto the assessment): no join to the requests and no sort by department, and
    PostgreSQL runs the branches side by side (Parallel Append). At a million requests that is ~80 ms
    against ~210 ms for a GROUP BY over the assessments joined to the period's requests. A request
    is consulted only where a figure needs it: whether a pending assessment past due belongs to a
    request still open (EXISTS, evaluated for those few rows only), and the request filters
    (customer, team, rep, priority: a semi-join to the period's matching requests, only when set).
    Assessments exist only for submitted requests, so drafts need no condition.

    `known`: (id, name) of the departments, when the caller has them already (the page's filter
    list does); otherwise they are read here. Departments with nothing routed in the period are
    left out."""
    if known is None:
        known = list(Department.objects.order_by("name", "pk").values_list("pk", "name"))
    wanted = {int(pk): name for pk, name in known if not f.department or pk == f.department}
    if not wanted:
        return []
    adapt = connection.ops.adapt_datetimefield_value
    assessment_t, request_t = Assessment._meta.db_table, FeasibilityRequest._meta.db_table
    open_statuses = ", ".join(f"'{s}'" for s in Status.open_values())  # our own constants
    pending_breached = (
        f"(a.assessed_at IS NULL AND a.due_at < %s AND EXISTS ("
        f"SELECT 1 FROM {request_t} r WHERE r.id = a.request_id AND r.status IN ({open_statuses})))"
    )
    extra, extra_params = "", []
    if f.customer or f.sales_team or f.rep or f.priority:
        matching = FeasibilityRequest.objects.filter(_request_q(f), submitted_at__gte=f.start, submitted_at__lt=f.end)
        matching_sql, extra_params = matching.order_by().values("id").query.sql_with_params()
        extra = f" AND a.request_id IN ({matching_sql})"
        extra_params = list(extra_params)
    branches, params = [], []
    for pk in sorted(wanted):
        branches.append(f"""
            SELECT {pk} AS department_id, COUNT(*) AS routed,
                   COUNT(*) FILTER (WHERE a.assessed_at IS NOT NULL) AS assessed,
                   {_percentile_sql("a.assessment_seconds", 0.5)} AS p50,
                   COUNT(*) FILTER (WHERE a.met) AS met_n,
                   COUNT(*) FILTER (WHERE a.met IS NOT NULL OR {pending_breached}) AS counted,
                   COUNT(*) FILTER (WHERE NOT a.met OR {pending_breached}) AS breaches,
                   COUNT(*) FILTER (WHERE a.verdict = %s) AS cannot
            FROM {assessment_t} a
            WHERE a.department_id = {pk} AND a.request_submitted_at >= %s AND a.request_submitted_at < %s{extra}""")
        params += [adapt(now), adapt(now), Verdict.CANNOT.value, adapt(f.start), adapt(f.end), *extra_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        fetched = cursor.fetchall()
    rows = [
        DepartmentRow(department_id=pk, department=wanted[pk], routed=routed, assessed=assessed or 0,
                      median_hours=_hours(p50), met=met or 0, counted=counted or 0, breaches=breaches or 0,
                      cannot=cannot or 0)
        for pk, routed, assessed, p50, met, counted, breaches, cannot in fetched
        if routed
    ]
    return sorted(rows, key=lambda row: (row.department, row.department_id))


def _percentile_sql(column: str, fraction: float) -> str:
    """The median/percentile expression for hand-written SQL, per database (see `Percentile`)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_aggregate("S2O_PERCENTILE", 2, _SqlitePercentile)
        return f"S2O_PERCENTILE({column}, {float(fraction)!r})"
    return f"PERCENTILE_CONT({float(fraction)!r}) WITHIN GROUP (ORDER BY {column})"


def groups(f: DashboardFilter) -> tuple[list[GroupRow], list[GroupRow], list[GroupRow]]:
    """Per sales team, per rep and per customer: one query.

    On PostgreSQL the period's requests are read once (an index-only scan) and grouped three ways by
    `GROUPING SETS`: one pass over the input, re-sorted for each key, no intermediate copy of the
    window (at a million requests a MATERIALIZED CTE read three times cost ~40% more). SQLite has no
    grouping sets: there the window is a CTE grouped three times, the same figures. Keys are
    integers and the three flags stand for status, outcome and answered_at, so the sorted rows stay
    narrow. Labels are joined to the ≤ few thousand result rows afterwards, and the rep's full
    name is put together here, not per request."""
    flag = BooleanField()
    window = _requests(f, f.start, f.end).annotate(
        ca=ExpressionWrapper(Q(status=Status.CLOSED, answered_at__isnull=False), output_field=flag),
        fl=ExpressionWrapper(Q(outcome__in=FILLED), output_field=flag),
        ev=ExpressionWrapper(Q(outcome=Outcome.EVAPORATED), output_field=flag),
    ).values("sales_team_id", "requested_by_id", "customer_id", "ca", "fl", "ev", "answer_seconds")
    window_sql, params = window.query.sql_with_params()
    team_t, user_t = SalesTeam._meta.db_table, User._meta.db_table
    customer_t = Customer._meta.db_table
    figures = f"""COUNT(*) AS requests,
                   COUNT(*) FILTER (WHERE ca) AS closed_answered,
                   COUNT(*) FILTER (WHERE ca AND fl) AS filled,
                   COUNT(*) FILTER (WHERE ca AND ev) AS evaporated,
                   {_percentile_sql("answer_seconds", 0.5)} AS p50"""
    if connection.vendor == "postgresql":
        # GROUPING(a, b, c) is a bit mask of the columns *not* grouped by: 3 = team, 5 = rep, 6 = customer.
        grouped = f"""
            SELECT CASE GROUPING(sales_team_id, requested_by_id, customer_id)
                       WHEN 3 THEN 'team' WHEN 5 THEN 'rep' ELSE 'customer' END AS kind,
                   COALESCE(sales_team_id, requested_by_id, customer_id) AS k, {figures}
            FROM ({window_sql}) w
            GROUP BY GROUPING SETS ((sales_team_id), (requested_by_id), (customer_id))"""
        head = ""
    else:
        head = f"WITH w AS ({window_sql})"
        grouped = " UNION ALL ".join(
            f"SELECT '{kind}' AS kind, {key} AS k, {figures} FROM w GROUP BY {key}"
            for kind, key in (("team", "sales_team_id"), ("rep", "requested_by_id"), ("customer", "customer_id"))
        )
    sql = f"""
        {head}
        SELECT g.kind, g.k, g.requests, g.closed_answered, g.filled, g.evaporated, g.p50,
               COALESCE(t.name, u.username, c.name), u.first_name, u.last_name
        FROM ({grouped}) g
        LEFT JOIN {team_t} t ON g.kind = 'team' AND t.id = g.k
        LEFT JOIN {user_t} u ON g.kind = 'rep' AND u.id = g.k
        LEFT JOIN {customer_t} c ON g.kind = 'customer' AND c.id = g.k
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    out: dict[str, list[GroupRow]] = {"team": [], "rep": [], "customer": []}
    for kind, key, requests, closed, filled_n, evaporated, p50, label, first, last in fetched:
        full_name = f"{first or ''} {last or ''}".strip()
        label = "(no team)" if kind == "team" and key is None else full_name or label or ""
        out[kind].append(GroupRow(key=key, label=label, requests=requests, closed_answered=closed, filled=filled_n,
                                  evaporated=evaporated, answer_median_hours=_hours(p50)))
    for rows in out.values():
        rows.sort(key=lambda row: (-row.requests, row.label))
    return out["team"], out["rep"], out["customer"]


def pareto(f: DashboardFilter) -> list[ParetoRow]:
    """Capability-gap Pareto: one query over the rollup `ConstraintHit` (one row per request and
    constraint, kept exact by analysis.rollups), so each request counts once per constraint however
    many departments or alternatives cite it.

    The period bounds the hits by their copied `submitted_at` (index-only scan of
    `hit_window_idx`); they are hash-joined once to the period's requests (index-only scan of
    `req_dashboard_window_idx`), which apply the other filters and bring the live outcome, value
    and currency. Grouping is on integer ids; labels are joined to the few result rows."""
    requests = _requests(f, f.start, f.end)
    base_sql, base_params = requests.values("id", "currency", "deal_value", "outcome").query.sql_with_params()
    hit_t, category_t = ConstraintHit._meta.db_table, ConstraintCategory._meta.db_table
    filled = ", ".join(f"'{o.value}'" for o in FILLED)  # our own constants, not user input
    sql = f"""
        SELECT c.code, c.label, x.currency, x.blocked, x.bent, x.requests, x.value FROM (
            SELECT h.constraint_id, r.currency,
                   SUM(CASE WHEN h.blocked THEN 1 ELSE 0 END) AS blocked,
                   SUM(CASE WHEN h.bent THEN 1 ELSE 0 END) AS bent,
                   COUNT(*) AS requests,
                   SUM(CASE WHEN r.outcome NOT IN ({filled}) THEN COALESCE(r.deal_value, 0) ELSE 0 END) AS value
            FROM {hit_t} h JOIN ({base_sql}) r ON r.id = h.request_id
            WHERE h.submitted_at >= %s AND h.submitted_at < %s
            GROUP BY h.constraint_id, r.currency
        ) x JOIN {category_t} c ON c.id = x.constraint_id
    """
    with connection.cursor() as cursor:
        adapt = connection.ops.adapt_datetimefield_value  # as the ORM would (SQLite stores UTC text)
        cursor.execute(sql, [*base_params, adapt(f.start), adapt(f.end)])
        fetched = cursor.fetchall()
    rows: dict[str, ParetoRow] = {}
    for code, label, currency, blocked, bent, requests, value in fetched:
        row = rows.setdefault(code, ParetoRow(code=code, label=label, blocked=0, bent=0, requests=0))
        row.blocked += int(blocked)
        row.bent += int(bent)
        row.requests += int(requests)
        value = Decimal(value or 0).quantize(Decimal("0.01"))
        if value:
            row.value_at_stake[currency] = row.value_at_stake.get(currency, Decimal(0)) + value
    ordered = sorted(rows.values(), key=lambda r: (-r.requests, -r.blocked, r.code))
    total = sum(r.requests for r in ordered)
    running = 0
    for row in ordered:
        running += row.requests
        row.cumulative_pct = round(100.0 * running / total, 1) if total else 0.0
    return ordered


def breached_and_at_risk(f: DashboardFilter, *, now: datetime, soon: datetime) -> tuple[list[ListedRequest], list[ListedRequest]]:
    """Both lists in one query: the first LIST_LIMIT of each, most overdue / soonest due first."""
    running_due = Case(
        When(status=Status.SUBMITTED, then=F("acknowledge_due")),
        When(status=Status.IN_ANALYSIS, then=F("answer_due")),
        output_field=DateTimeField(),
    )
    kind = Case(When(running_due__lt=now, then=Value("breached")), default=Value("at_risk"), output_field=CharField())
    qs = (
        _requests(f, f.start, f.end)
        .filter(status__in=[Status.SUBMITTED, Status.IN_ANALYSIS])
        .alias(running_due=running_due)
        .filter(running_due__lte=soon)
        .annotate(due=running_due, kind=kind)
        .annotate(rank=Window(RowNumber(), partition_by=[F("kind")], order_by=[F("due").asc(), F("id").asc()]))
        .filter(rank__lte=LIST_LIMIT)
        .values("id", "reference", "title", "customer__name", "status", "priority", "due", "kind")
    )
    breached: list[ListedRequest] = []
    at_risk: list[ListedRequest] = []
    labels = dict(Status.choices)
    linkable = _detail_url_exists()
    for r in sorted(qs, key=lambda r: (r["due"], r["id"])):
        item = ListedRequest(
            pk=r["id"], reference=r["reference"] or "", title=r["title"], customer=r["customer__name"],
            status=labels.get(r["status"], r["status"]), priority=r["priority"],
            clock="acknowledge" if r["status"] == Status.SUBMITTED else "answer", due=r["due"],
            url=reverse("requests_app:detail", args=[r["id"]]) if linkable else "",  # no model instance per row
        )
        (breached if r["kind"] == "breached" else at_risk).append(item)
    return breached, at_risk


def _detail_url_exists() -> bool:
    try:
        reverse("requests_app:detail", args=[1])
    except NoReverseMatch:  # the request page is built by another feature
        return False
    return True


def due_soon_until(now: datetime, work_calendar: businesstime.WorkCalendar) -> datetime:
    """'Next 24 business hours' as one instant: now + 24 h of the default calendar."""
    return businesstime.add_business_time(work_calendar, now, SOON)


def dashboard(
    f: DashboardFilter, *, now: datetime, work_calendar: businesstime.WorkCalendar,
    known_departments: Sequence[tuple[int, str]] | None = None,
) -> Dashboard:
    soon = due_soon_until(now, work_calendar)
    with _big_queries():
        current, previous, trend = period_and_trend(f, now=now, soon=soon)
        dept_rows = departments(f, now=now, known=known_departments)
        teams, reps, customers = groups(f)
        pareto_rows = pareto(f)
        breached, at_risk = breached_and_at_risk(f, now=now, soon=soon)
    return Dashboard(
        filter=f, now=now, soon=soon, current=current, previous=previous, kpis=kpis(current, previous), trend=trend,
        departments=dept_rows, teams=teams, reps=reps, customers=customers, pareto=pareto_rows,
        breached=breached, at_risk=at_risk,
    )
