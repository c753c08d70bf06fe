"""Promise kept: how often Operations answered by the answer-by it first promised at acknowledgement.

Kept = answered at or before `answer_due_promised` (the first "we will let you know by …", never
moved by an extension). Counted like the SLA's met %: answered requests, and open ones already past
their first promise (broken already); an open request still within it is not counted yet. Per
operations lead (who acknowledged, i.e. made the promise) and per department (routed to it).

Extensions (a moved promise) are counted apart: how many, on how many requests, by how much (wall
hours, median and largest) and the reasons given, newest first.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Q

from analysis.metrics.filters import DashboardFilter, requests_in
from analysis.models import Assessment
from requests_app.models import RequestEvent

Kind = RequestEvent.Kind
MAX_EXTENSIONS_READ = 5000
REASONS_SHOWN = 10


@dataclass(frozen=True)
class PromiseRow:
    label: str
    kept: int
    counted: int

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


def promises(f: DashboardFilter, *, now: datetime) -> Promises:
    """The period's promise figures, in four queries."""
    base = requests_in(f, f.start, f.end).filter(answer_due_promised__isnull=False)
    overall = base.aggregate(**_counts("", now))
    ids = base.values("pk")

    leads = (
        RequestEvent.objects.filter(kind=Kind.ACKNOWLEDGED, request__in=ids, actor__isnull=False)
        .values("actor", "actor__first_name", "actor__last_name", "actor__username")
        .annotate(**_counts("request__", now)).order_by()
    )
    per_lead = sorted(
        (PromiseRow(f"{row['actor__first_name']} {row['actor__last_name']}".strip() or row["actor__username"],
                    row["kept"], row["counted"]) for row in leads),
        key=lambda r: r.label,
    )
    departments = (
        Assessment.objects.filter(request__in=ids).values("department", "department__name")
        .annotate(**_counts("request__", now)).order_by()
    )
    per_department = sorted(
        (PromiseRow(row["department__name"], row["kept"], row["counted"]) for row in departments),
        key=lambda r: r.label,
    )

    result = Promises(overall=PromiseRow("All", overall["kept"], overall["counted"]), per_lead=per_lead,
                      per_department=per_department)
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


def _moved_hours(data: dict) -> float | None:
    """How far an extension moved the answer-by, in wall hours (its event records from and to)."""
    try:
        before, after = datetime.fromisoformat(data["from"]), datetime.fromisoformat(data["to"])
    except (KeyError, TypeError, ValueError):
        return None
    return round((after - before).total_seconds() / 3600, 1)
