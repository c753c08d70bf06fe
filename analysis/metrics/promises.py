"""Promise kept: how often Operations answered by the answer-by it first promised at acknowledgement.

Kept = answered at or before `answer_due_promised` (the first "we will let you know by …", never
moved by an extension). Counted like the SLA's met %: answered requests, and open ones already past
their first promise (broken already); an open request still within it is not counted yet. Per
operations lead (who acknowledged, i.e. made the promise) and per department (routed to it).

Extensions (a moved promise) are counted apart: how many, on how many requests, by how much (wall
hours, median and largest) and the reasons given, newest first.

Where the day rollup can answer (`rollup.usable`: PostgreSQL, no filter besides the dates), kept and
counted come from it: per local submission day, the requests with a first promise, those answered
and those answered by it, overall, per department and per lead (`DayFigure` kinds PROMISED…,
kept exact by analysis.dashboard_rollup's triggers), plus the one figure of "now" read live — the
period's requests still unanswered past their first promise (`req_promise_unanswered_idx`) with
their assessments and acknowledgements. At a million requests that is a few thousand rollup rows
and index entries instead of joining the period's ~125k requests to their ~220k assessments. The
live queries below give the same figures (tests compare both ways); a filtered view uses them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from analysis.metrics import rollup
from analysis.metrics.filters import DashboardFilter, requests_in
from analysis.models import Assessment, DayFigure
from requests_app.models import Department, FeasibilityRequest, RequestEvent, Status

Kind = RequestEvent.Kind
K = DayFigure.Kind
# Each family's kinds are PROMISED, + 1 answered, + 2 kept (analysis.dashboard_rollup).
OVERALL, DEPARTMENT, LEAD = K.PROMISED, K.DEPARTMENT_PROMISED, K.LEAD_PROMISED
BROKEN_OPEN = 3  # + the family: the live count of requests unanswered past their first promise
MAX_EXTENSIONS_READ = 5000
REASONS_SHOWN = 10


@dataclass(frozen=True)
class PromiseRow:
    label: str
    kept: int
    counted: int
    key: int | None = None  # the department's or the lead's id

    @property
    def kept_pct(self) -> float | None:
        return round(100.0 * self.kept / self.counted, 1) if self.counted else None


@dataclass(frozen=True)
class Extension:
    reference: str
    request_id: int
    hours: float
    reason: str
    at: datetime


@dataclass
class Promises:
    overall: PromiseRow
    per_lead: list[PromiseRow]
    per_department: list[PromiseRow]
    extensions: int = 0
    extended_requests: int = 0
    median_extension_hours: float | None = None
    max_extension_hours: float | None = None
    reasons: list[Extension] = field(default_factory=list)


def _counts(prefix: str, now: datetime) -> dict:
    p = prefix
    answered = Q(**{f"{p}answered_at__isnull": False})
    kept = answered & Q(**{f"{p}answered_at__lte": F(f"{p}answer_due_promised")})
    counted = answered | Q(**{f"{p}answer_due_promised__lt": now})
    return {"kept": Count("pk", filter=kept), "counted": Count("pk", filter=counted)}


def promises(f: DashboardFilter, *, now: datetime, use_rollup: bool | None = None) -> Promises:
    """The period's promise figures: two queries from the day rollup where it can answer, four live
    otherwise; `use_rollup` forces one way (tests compare both)."""
    base = requests_in(f, f.start, f.end).filter(answer_due_promised__isnull=False)
    ids = base.values("pk")
    if rollup.usable(f) if use_rollup is None else use_rollup:
        overall, per_lead, per_department = _kept_from_rollup(f, now=now)
    else:
        overall, per_lead, per_department = _kept_live(base, ids, now=now)
    result = Promises(overall=overall, per_lead=per_lead, per_department=per_department)
    events = list(
        RequestEvent.objects.filter(kind=Kind.ANSWER_BY_EXTENDED, request__in=ids)
        .select_related("request").order_by("-at", "-id")[:MAX_EXTENSIONS_READ]
    )
    moves = []
    for event in events:
        hours = _moved_hours(event.data)
        if hours is not None:
            moves.append(hours)
        result.reasons.append(Extension(event.request.reference or "", event.request_id, hours or 0.0,
                                        event.message, event.at))
    result.reasons = result.reasons[:REASONS_SHOWN]
    result.extensions = len(events)
    result.extended_requests = len({e.request_id for e in events})
    if moves:
        result.median_extension_hours = round(statistics.median(moves), 1)
        result.max_extension_hours = round(max(moves), 1)
    return result


Kept = tuple[PromiseRow, list[PromiseRow], list[PromiseRow]]  # overall, per lead, per department


def _kept_live(base: QuerySet[FeasibilityRequest], ids: QuerySet, *, now: datetime) -> Kept:
    overall = base.aggregate(**_counts("", now))
    leads = (
        RequestEvent.objects.filter(kind=Kind.ACKNOWLEDGED, request__in=ids, actor__isnull=False)
        .values("actor", "actor__first_name", "actor__last_name", "actor__username")
        .annotate(**_counts("request__", now)).order_by()
    )
    per_lead = sorted(
        (PromiseRow(_lead_label(row["actor__first_name"], row["actor__last_name"], row["actor__username"]),
                    row["kept"], row["counted"], row["actor"]) for row in leads),
        key=_order,
    )
    departments = (
        Assessment.objects.filter(request__in=ids).values("department", "department__name")
        .annotate(**_counts("request__", now)).order_by()
    )
    per_department = sorted(
        (PromiseRow(row["department__name"], row["kept"], row["counted"], row["department"]) for row in departments),
        key=_order,
    )
    return PromiseRow("All", overall["kept"], overall["counted"]), per_lead, per_department


def _kept_from_rollup(f: DashboardFilter, *, now: datetime) -> Kept:
    """The same rows as `_kept_live`, from the day rollup and the requests unanswered past their promise."""
    figure_t, request_t = DayFigure._meta.db_table, FeasibilityRequest._meta.db_table
    assessment_t, event_t = Assessment._meta.db_table, RequestEvent._meta.db_table
    department_t, user_t = Department._meta.db_table, User._meta.db_table
    kinds = [int(family) + k for family in (OVERALL, DEPARTMENT, LEAD) for k in (0, 1, 2)]
    sql = f"""
        WITH broken AS MATERIALIZED (
            SELECT r.id FROM {request_t} r
            WHERE r.answered_at IS NULL AND r.answer_due_promised IS NOT NULL AND r.answer_due_promised < %s
              AND r.status <> %s AND r.submitted_at >= %s AND r.submitted_at < %s
        ), figures AS (
            SELECT kind::integer AS kind, scope::bigint AS scope, SUM(n)::bigint AS n FROM {figure_t}
            WHERE kind = ANY(%s) AND day >= %s AND day < %s GROUP BY kind, scope HAVING SUM(n) <> 0
            UNION ALL
            SELECT {OVERALL + BROKEN_OPEN}, 0, COUNT(*) FROM broken
            UNION ALL
            SELECT {DEPARTMENT + BROKEN_OPEN}, a.department_id, COUNT(*)
            FROM broken b JOIN {assessment_t} a ON a.request_id = b.id GROUP BY a.department_id
            UNION ALL
            SELECT {LEAD + BROKEN_OPEN}, e.actor_id, COUNT(*)
            FROM broken b JOIN {event_t} e ON e.request_id = b.id
            WHERE e.kind = %s AND e.actor_id IS NOT NULL GROUP BY e.actor_id
        )
        SELECT x.kind, x.scope, x.n, d.name, u.first_name, u.last_name, u.username FROM figures x
        LEFT JOIN {department_t} d ON x.kind / 10 = {DEPARTMENT // 10} AND d.id = x.scope
        LEFT JOIN {user_t} u ON x.kind / 10 = {LEAD // 10} AND u.id = x.scope
    """  # nosec B608: table names and our own constants; every value is a parameter
    params: list[Any] = [now, Status.DRAFT.value, f.start, f.end, kinds, f.date_from, f.date_to + timedelta(days=1),
              Kind.ACKNOWLEDGED.value]
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    labels: dict[tuple[int, int], str] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, scope, n, department, first, last, username in cursor.fetchall():
            family = kind // 10 * 10
            counts[(family, scope)][kind - family] += n
            labels[(family, scope)] = department or _lead_label(first, last, username or "")

    def row(family: int, scope: int, label: str) -> PromiseRow:
        c = counts[(family, scope)]
        return PromiseRow(label, c[2], c[1] + c[BROKEN_OPEN], scope or None)

    # A department or lead is listed once it holds a promise of the period, due or not (as live).
    holders = {family: sorted((row(family, scope, labels[(family, scope)])
                               for (fam, scope), c in counts.items() if fam == family and c[0]), key=_order)
               for family in (DEPARTMENT, LEAD)}
    return row(OVERALL, 0, "All"), holders[LEAD], holders[DEPARTMENT]


def _lead_label(first: str | None, last: str | None, username: str) -> str:
    return f"{first or ''} {last or ''}".strip() or username


def _order(row: PromiseRow) -> tuple[str, int]:
    return row.label, row.key or 0


def _moved_hours(data: dict) -> float | None:
    """How far an extension moved the answer-by, in wall hours (its event records from and to)."""
    try:
        before, after = datetime.fromisoformat(data["from"]), datetime.fromisoformat(data["to"])
    except (KeyError, TypeError, ValueError):
        return None
    return round((after - before).total_seconds() / 3600, 1)
