"""Honest forecasts at filing: when to expect the acknowledgement and the answer for a request like this.

Not the SLA (what Operations promises at most) but what actually happened lately: the business-time
median and 90th percentile of acknowledgement and answer times of similar requests submitted in the
last `WINDOW_DAYS`, added to the filing time in the request's business calendar, so the rep reads
calendar dates ("half are answered by Tue 10 Mar, 9 in 10 by Thu 12 Mar").

Similar means the same priority and, the narrowest that has enough history (`MIN_HISTORY` answered
requests):
1. the same part;
2. routed to the departments usually routed for that part (each department that assessed at least
   half of the part's requests of the last year);
3. the priority alone.
With fewer than `MIN_HISTORY` answered requests even at the priority level, the forecast says there
is too little history and the SLA's own times are shown instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from analysis.metrics.dialect import Percentiles, percentiles
from analysis.models import Assessment
from requests_app import businesstime, clocks, permissions
from requests_app.businesstime import WorkCalendar
from requests_app.models import Department, FeasibilityRequest, Priority, Status
from requests_app.roles import AnyUser

WINDOW_DAYS = 90
MIN_HISTORY = 10
USUAL_SHARE = 0.5


class Basis:
    PART = "part"
    DEPARTMENTS = "departments"
    PRIORITY = "priority"
    NONE = ""


@dataclass(frozen=True)
class Span:
    """One clock: business hours (median, p90) and the calendar instants they fall on."""

    median_hours: float
    p90_hours: float
    median_at: datetime
    p90_at: datetime


@dataclass(frozen=True)
class Forecast:
    priority: str
    basis: str  # Basis: what "similar" meant; empty: too little history
    count: int  # answered similar requests the figures come from
    acknowledge: Span | None
    answer: Span | None
    sla_acknowledge_at: datetime
    sla_answer_at: datetime
    departments: tuple[str, ...] = ()  # the usual departments (basis DEPARTMENTS)
    time_zone: str = ""

    @property
    def too_little_history(self) -> bool:
        return self.basis == Basis.NONE

    @property
    def priority_label(self) -> str:
        return Priority(self.priority).label


def usual_departments(product_id: int, *, now: datetime) -> list[Department]:
    """The departments that assessed at least half of this part's requests of the last year."""
    since = now - timedelta(days=365)
    total = FeasibilityRequest.objects.filter(product_id=product_id, submitted_at__gte=since).count()
    if not total:
        return []
    rows = (
        Assessment.objects.filter(request__product_id=product_id, request_submitted_at__gte=since)
        .values("department_id").annotate(n=Count("request_id", distinct=True))
    )
    wanted = [row["department_id"] for row in rows if row["n"] >= USUAL_SHARE * total]
    return list(Department.objects.filter(pk__in=wanted).order_by("name"))


def _figures(rows: QuerySet[FeasibilityRequest]) -> tuple[int, list, list]:
    """Answered count, and (median, p90) business seconds of acknowledgement and answer."""
    agg = rows.aggregate(
        n=Count("pk", filter=Q(answer_seconds__isnull=False)),
        ack=Percentiles("acknowledge_seconds", (0.5, 0.9), filter=Q(acknowledge_seconds__isnull=False)),
        ans=Percentiles("answer_seconds", (0.5, 0.9), filter=Q(answer_seconds__isnull=False)),
    )
    return agg["n"], percentiles(agg["ack"]), percentiles(agg["ans"])


def _span(cal: WorkCalendar, start: datetime, values: list) -> Span | None:
    median, p90 = values
    if median is None or p90 is None:
        return None
    return Span(
        median_hours=round(median / 3600, 1), p90_hours=round(p90 / 3600, 1),
        median_at=businesstime.add_business_time(cal, start, timedelta(seconds=round(median))),
        p90_at=businesstime.add_business_time(cal, start, timedelta(seconds=round(p90))),
    )


def forecast(*, priority: str, product_id: int | None, start: datetime, now: datetime,
             calendar: WorkCalendar, sla_acknowledge_hours: float, sla_answer_hours: float) -> Forecast:
    """The forecast for a request of `priority` (and part) filed at `start`, from the history up to `now`."""
    recent = FeasibilityRequest.objects.filter(priority=priority, submitted_at__gte=now - timedelta(days=WINDOW_DAYS),
                                               submitted_at__lt=now)
    candidates: list[tuple[str, QuerySet[FeasibilityRequest], tuple[str, ...]]] = []
    if product_id:
        candidates.append((Basis.PART, recent.filter(product_id=product_id), ()))
        usual = usual_departments(product_id, now=now)
        if usual:
            routed = recent
            for department in usual:
                routed = routed.filter(pk__in=Assessment.objects.filter(department=department).values("request_id"))
            candidates.append((Basis.DEPARTMENTS, routed, tuple(d.name for d in usual)))
    candidates.append((Basis.PRIORITY, recent, ()))
    sla_acknowledge_at = businesstime.add_business_time(calendar, start, timedelta(hours=sla_acknowledge_hours))
    sla_answer_at = businesstime.add_business_time(calendar, start, timedelta(hours=sla_answer_hours))
    for basis, rows, departments in candidates:
        n, ack, ans = _figures(rows)
        if n >= MIN_HISTORY:
            return Forecast(priority=priority, basis=basis, count=n, acknowledge=_span(calendar, start, ack),
                            answer=_span(calendar, start, ans), departments=departments,
                            time_zone=calendar.time_zone, sla_acknowledge_at=sla_acknowledge_at, sla_answer_at=sla_answer_at)
    return Forecast(priority=priority, basis=Basis.NONE, count=n, acknowledge=None, answer=None,
                    time_zone=calendar.time_zone, sla_acknowledge_at=sla_acknowledge_at, sla_answer_at=sla_answer_at)


def shown_to(user: AnyUser, req: FeasibilityRequest) -> bool:
    """The forecast of an existing request is for the author of a draft (if filed now)."""
    return req.status == Status.DRAFT and permissions.allowed(user, "s2o.edit_request", req)


def forecast_for_request(req: FeasibilityRequest, *, now: datetime) -> Forecast:
    """The forecast for this request: from its submission if submitted, else as if filed `now`."""
    policy = clocks.policy_for(req)
    return forecast(
        priority=req.priority, product_id=req.product_id, start=req.submitted_at or now, now=req.submitted_at or now,
        calendar=clocks.work_calendar(req), sla_acknowledge_hours=float(policy.acknowledge_hours),
        sla_answer_hours=float(policy.answer_hours),
    )
