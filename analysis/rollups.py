"""Keeping `ConstraintHit` (the capability-gap Pareto's rollup) equal to its definition.

The definition (analysis.metrics, shared/DESIGN.md): a constraint *blocked* a request when a CANNOT
assessment of the request cites it; it *bent* the request when an alternative of one of the
request's published answers works around it. One row per (request, constraint), drafts excluded.

How it stays exact — synchronously, not eventually:
* Every write that can change a request's hits calls `refresh_constraint_hits` for that request
  inside its own transaction: saving an assessment (`services.assessment_save`), publishing an
  answer (`services.answer_publish`), and the admin's edits and deletions of assessments and
  answers. A rollback takes the refresh with it, so the table never shows a write that did not
  happen, and no background job has to catch up.
* The refresh recomputes the request's rows from the source tables (delete, then insert the
  definition's rows): idempotent, and correct whatever changed — a verdict, the cited
  constraints, an alternative, a deletion.
* Writes outside the application (SQL fixes, imports, the bench generator) are followed by
  `manage.py constraint_hits --rebuild`; `manage.py constraint_hits` (no flag) compares the table
  with the definition and exits non-zero on any difference, for monitoring.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from analysis import dashboard_rollup
from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, ConstraintHit, Verdict
from requests_app.models import FeasibilityRequest

_HIT = ConstraintHit._meta.db_table


def _definition_sql(condition: str = "") -> str:
    """SELECT of the rows the table must hold: (request_id, constraint_id, submitted_at, blocked, bent).

    `condition` restricts the requests: an SQL condition on a request id written with `{id}`, e.g.
    `{id} IN (%s, %s)`. It goes into both branches, so a refresh reads only those requests' rows
    through the request_id indexes (applied once on the outside, an IN list of three made PostgreSQL
    hash the whole table: 2.2 s at a million requests, against 14 ms). Parameters: the CANNOT
    verdict, then the condition's, then the condition's again — see `_params`."""
    assessment_t = Assessment._meta.db_table
    through_t = Assessment.constraints.through._meta.db_table
    answer_t, alternative_t = Answer._meta.db_table, Alternative._meta.db_table
    request_t = FeasibilityRequest._meta.db_table
    blocked_if = f" AND {condition.format(id='a.request_id')}" if condition else ""
    bent_if = f" AND {condition.format(id='ans.request_id')}" if condition else ""
    # MAX(…) = 1 is a boolean on both databases (PostgreSQL refuses an integer for a boolean column).
    return f"""
        SELECT h.request_id, h.constraint_id, r.submitted_at, MAX(h.blocked) = 1, MAX(h.bent) = 1
        FROM (
            SELECT a.request_id AS request_id, ac.constraintcategory_id AS constraint_id, 1 AS blocked, 0 AS bent
            FROM {assessment_t} a JOIN {through_t} ac ON ac.assessment_id = a.id
            WHERE a.verdict = %s{blocked_if}
            UNION ALL
            SELECT ans.request_id, alt.works_around_id, 0, 1
            FROM {answer_t} ans JOIN {alternative_t} alt ON alt.answer_id = ans.id
            WHERE ans.published_at IS NOT NULL AND alt.works_around_id IS NOT NULL{bent_if}
        ) h
        JOIN {request_t} r ON r.id = h.request_id
        WHERE r.submitted_at IS NOT NULL
        GROUP BY h.request_id, h.constraint_id, r.submitted_at
    """  # nosec B608


def _params(condition_params: list | None = None) -> list:
    condition_params = condition_params or []
    return [Verdict.CANNOT.value, *condition_params, *condition_params]


_COLUMNS = "request_id, constraint_id, submitted_at, blocked, bent"


def refresh_constraint_hits(request_ids: Iterable[int]) -> None:
    """Rewrite the hits of these requests from their assessments and published answers.

    Call it inside the transaction that changed them. The requests' rows are locked first, so two
    writers refreshing the same request take turns instead of colliding on the primary key (the
    services already hold that lock; taking it again costs nothing)."""
    ids = sorted({int(pk) for pk in request_ids})
    if not ids:
        return
    with transaction.atomic():
        list(FeasibilityRequest.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        marks = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_HIT} WHERE request_id IN ({marks})", ids)  # nosec B608
            cursor.execute(f"INSERT INTO {_HIT} ({_COLUMNS}) {_definition_sql(f'{{id}} IN ({marks})')}", _params(ids))


def rebuild_constraint_hits(*, first_request_id: int | None = None, day_rollup: bool = True) -> int:
    """Recompute the whole table (or the requests from `first_request_id` on, for a bulk load that
    only appended requests). Returns the number of rows written.

    On PostgreSQL the table is locked against concurrent refreshes for the duration (they wait,
    then apply their own change on top: nothing is lost). The dashboard's per-day Pareto
    (`ConstraintDay`), which triggers keep from every hit written, is recomputed once at the end
    instead of row by row (`day_rollup=False`: the caller rebuilds it, as the bench generator does)."""
    condition, params = ("{id} >= %s", [first_request_id]) if first_request_id is not None else ("", [])
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            cursor.execute(f"LOCK TABLE {_HIT} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT set_config(%s, 'on', true)", [dashboard_rollup.HITS_REWRITTEN])
        if first_request_id is not None:
            cursor.execute(f"DELETE FROM {_HIT} WHERE request_id >= %s", params)  # nosec B608
        else:
            cursor.execute(f"DELETE FROM {_HIT}")  # nosec B608
        cursor.execute(f"INSERT INTO {_HIT} ({_COLUMNS}) {_definition_sql(condition)}", _params(params))
        written = cursor.rowcount
        if postgresql:
            cursor.execute("SELECT set_config(%s, 'off', true)", [dashboard_rollup.HITS_REWRITTEN])
            if day_rollup:
                dashboard_rollup.rebuild_constraint_days()
        return written


def constraint_hit_differences(limit: int = 20) -> tuple[int, list[str]]:
    """How many rows differ between the table and its definition, and a few of them, described."""
    definition, stored = _definition_sql(), f"SELECT {_COLUMNS} FROM {_HIT}"  # nosec B608
    # Each side EXCEPT the other: a row that differs in any column shows up on both sides.
    sql = f"""
        SELECT 'missing', x.* FROM ({definition} EXCEPT {stored}) x
        UNION ALL
        SELECT 'unexpected', y.* FROM ({stored} EXCEPT {definition}) y
    """  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, _params() + _params())  # the definition appears twice
        rows = cursor.fetchall()
    codes = dict(ConstraintCategory.objects.values_list("pk", "code"))
    described = [
        f"{kind}: request {request_id}, {codes.get(constraint_id, constraint_id)}"
        f" (blocked={bool(blocked)}, bent={bool(bent)})"
        for kind, request_id, constraint_id, _submitted, blocked, bent in rows[:limit]
    ]
    return len(rows), described
