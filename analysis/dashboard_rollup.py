"""Keeping the dashboard's day rollup (`DayFigure`, `DayMinute`) equal to its definition.

The definition, one SQL function per source table (`s2o_request_day_items`,
`s2o_assessment_day_items`): what a request or an assessment contributes, as (kind, scope, day,
bucket, minute) items — one per figure it counts under (FILED, ACK_MET, …, bucket 0) and one per
clock it has a time for (bucket = the whole business hour, minute = the whole business minute). The
day is the request's submission day in the site's time zone (`settings.TIME_ZONE`, written into the
function when it is installed). A table holds, for each key, how many items have it.

How it stays exact — synchronously, whatever writes:
* Row triggers on the requests and the assessments apply the difference between a row's old and
  new items (`-1` each old item, `+1` each new one, netted per key; an update that changes no item
  writes nothing) in the same statement, so in the same transaction, as the write. A rollback takes
  them with it; a write outside the application (SQL fixes, imports, the bench generator) is kept
  too. The percentile and count tests of the dashboard run against rows maintained this way.
* Counters are updated with `INSERT … ON CONFLICT DO UPDATE SET n = n + delta`: two writers of the
  same day wait for each other's commit on that one row, never lose an increment.
* `manage.py dashboard_rollup` compares the tables with the definition recomputed from the source
  tables (exit 1 on any difference); `--rebuild` reinstalls the functions (after a change of
  `TIME_ZONE`, say) and recomputes both tables, with them locked against the triggers meanwhile.

PostgreSQL only. On SQLite (the embedded mode, laptop-sized data) nothing is installed and the
dashboard computes every figure live.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from analysis.models import Assessment, DayFigure, DayMinute, Verdict
from requests_app.models import FeasibilityRequest, Outcome, Status

K = DayFigure.Kind
_FIGURE, _MINUTE = DayFigure._meta.db_table, DayMinute._meta.db_table
_REQUEST, _ASSESSMENT = FeasibilityRequest._meta.db_table, Assessment._meta.db_table
ZONE_FUNCTION = "s2o_day_rollup_zone"

# Columns each definition reads, in its arguments' order (OLD./NEW. or a table alias in front).
_REQUEST_COLUMNS = ("submitted_at", "status", "outcome", "answered_at", "acknowledge_seconds", "acknowledge_met",
                    "answer_seconds", "answer_met")
_ASSESSMENT_COLUMNS = ("department_id", "request_submitted_at", "assessed_at", "met", "verdict", "assessment_seconds")


def _quoted(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)  # our own constants, never user input


def _functions_sql(time_zone: str) -> list[str]:
    zone = time_zone.replace("'", "")  # a time zone name; a quote cannot be part of one
    closed_answered = f"status = '{Status.CLOSED.value}' AND answered_at IS NOT NULL"
    filled = _quoted(Outcome.WON.value, Outcome.ALTERNATIVE_ACCEPTED.value)
    return [
        f"CREATE OR REPLACE FUNCTION {ZONE_FUNCTION}() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '{zone}'::text $$",
        f"""
        CREATE OR REPLACE FUNCTION s2o_request_day_items(
            submitted_at timestamptz, status text, outcome text, answered_at timestamptz,
            ack_s integer, ack_met boolean, answer_s integer, answer_met boolean)
        RETURNS TABLE (kind smallint, scope integer, day date, bucket integer, minute integer)
        LANGUAGE sql IMMUTABLE AS $$
            SELECT i.kind::smallint, 0, (submitted_at AT TIME ZONE '{zone}')::date, i.bucket, i.minute
            FROM (VALUES
                ({K.FILED}, 0, NULL::integer, true),
                ({K.ACK_MET}, 0, NULL, ack_met IS TRUE),
                ({K.ACK_DONE}, 0, NULL, ack_met IS NOT NULL),
                ({K.ANSWER_MET}, 0, NULL, answer_met IS TRUE),
                ({K.ANSWER_DONE}, 0, NULL, answer_met IS NOT NULL),
                ({K.CLOSED_ANSWERED}, 0, NULL, {closed_answered}),
                ({K.FILLED}, 0, NULL, {closed_answered} AND outcome IN ({filled})),
                ({K.EVAPORATED}, 0, NULL, {closed_answered} AND outcome = '{Outcome.EVAPORATED.value}'),
                ({K.ACK_TIME}, ack_s / 3600, ack_s / 60, ack_s IS NOT NULL),
                ({K.ANSWER_TIME}, answer_s / 3600, answer_s / 60, answer_s IS NOT NULL)
            ) AS i(kind, bucket, minute, wanted)
            WHERE i.wanted AND submitted_at IS NOT NULL AND status <> '{Status.DRAFT.value}'
        $$""",  # nosec B608
        f"""
        CREATE OR REPLACE FUNCTION s2o_assessment_day_items(
            department bigint, submitted_at timestamptz, assessed_at timestamptz, met boolean, verdict text,
            seconds integer)
        RETURNS TABLE (kind smallint, scope integer, day date, bucket integer, minute integer)
        LANGUAGE sql IMMUTABLE AS $$
            SELECT i.kind::smallint, department::integer, (submitted_at AT TIME ZONE '{zone}')::date, i.bucket, i.minute
            FROM (VALUES
                ({K.ROUTED}, 0, NULL::integer, true),
                ({K.ASSESSED}, 0, NULL, assessed_at IS NOT NULL),
                ({K.ASSESSMENT_MET}, 0, NULL, met IS TRUE),
                ({K.ASSESSMENT_LATE}, 0, NULL, met IS FALSE),
                ({K.CANNOT}, 0, NULL, verdict = '{Verdict.CANNOT.value}'),
                ({K.ASSESSMENT_TIME}, seconds / 3600, seconds / 60, seconds IS NOT NULL)
            ) AS i(kind, bucket, minute, wanted)
            WHERE i.wanted AND submitted_at IS NOT NULL
        $$""",  # nosec B608
        _trigger_function_sql("s2o_request_day_rollup", "s2o_request_day_items", _REQUEST_COLUMNS),
        _trigger_function_sql("s2o_assessment_day_rollup", "s2o_assessment_day_items", _ASSESSMENT_COLUMNS),
    ]


def _trigger_function_sql(name: str, items: str, columns: tuple[str, ...]) -> str:
    old = ", ".join(f"OLD.{c}" for c in columns)  # NULL on INSERT: no items
    new = ", ".join(f"NEW.{c}" for c in columns)  # NULL on DELETE: no items
    return f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            WITH delta AS (
                SELECT kind, scope, day, bucket, minute, SUM(d) AS d FROM (
                    SELECT i.*, -1 AS d FROM {items}({old}) i
                    UNION ALL
                    SELECT i.*, 1 FROM {items}({new}) i
                ) x GROUP BY kind, scope, day, bucket, minute HAVING SUM(d) <> 0
            ), figures AS (
                INSERT INTO {_FIGURE} AS t (kind, scope, day, bucket, n)
                SELECT kind, scope, day, bucket, SUM(d) FROM delta GROUP BY kind, scope, day, bucket HAVING SUM(d) <> 0
                ON CONFLICT (kind, scope, day, bucket) DO UPDATE SET n = t.n + EXCLUDED.n
            )
            INSERT INTO {_MINUTE} AS t (kind, scope, hour, day, minute, n)
            SELECT kind, scope, bucket, day, minute, d FROM delta WHERE minute IS NOT NULL
            ON CONFLICT (kind, scope, hour, day, minute) DO UPDATE SET n = t.n + EXCLUDED.n;
            RETURN NULL;
        END $$"""  # nosec B608


def _triggers_sql() -> list[str]:
    out = []
    for table, name, columns in ((_REQUEST, "s2o_request_day_rollup", _REQUEST_COLUMNS),
                                 (_ASSESSMENT, "s2o_assessment_day_rollup", _ASSESSMENT_COLUMNS)):
        changed = f"({', '.join(f'OLD.{c}' for c in columns)}) IS DISTINCT FROM ({', '.join(f'NEW.{c}' for c in columns)})"
        out += [
            f"DROP TRIGGER IF EXISTS {name}_write ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_update ON {table}",
            f"CREATE TRIGGER {name}_write AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
            # Only updates that change what the rollup reads (a title, a version, a due time do not).
            f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW WHEN ({changed}) "
            f"EXECUTE FUNCTION {name}()",
        ]
    return out


def install(time_zone: str | None = None) -> None:
    """Create (or replace) the definition functions and the triggers. PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in [*_functions_sql(time_zone or settings.TIME_ZONE), *_triggers_sql()]:
            cursor.execute(sql)


def _definition_sql() -> tuple[str, str]:
    """SELECTs of the rows both tables must hold, recomputed from the requests and assessments."""
    r_args = ", ".join(f"r.{c}" for c in _REQUEST_COLUMNS)
    a_args = ", ".join(f"a.{c}" for c in _ASSESSMENT_COLUMNS)
    items = f"""
        SELECT i.* FROM {_REQUEST} r CROSS JOIN LATERAL s2o_request_day_items({r_args}) i
        UNION ALL
        SELECT i.* FROM {_ASSESSMENT} a CROSS JOIN LATERAL s2o_assessment_day_items({a_args}) i"""  # nosec B608
    figures = f"SELECT kind, scope, day, bucket, COUNT(*)::integer AS n FROM ({items}) x GROUP BY kind, scope, day, bucket"  # nosec B608
    minutes = (f"SELECT kind, scope, bucket AS hour, day, minute, COUNT(*)::integer AS n FROM ({items}) x "
               f"WHERE minute IS NOT NULL GROUP BY kind, scope, bucket, day, minute")  # nosec B608
    return figures, minutes


def rebuild() -> tuple[int, int]:
    """Reinstall the definition with the current time zone and recompute both tables; returns the
    numbers of rows written. Concurrent writers wait for it, then apply their change on top."""
    with transaction.atomic():
        install()
        figures, minutes = _definition_sql()
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {_FIGURE}, {_MINUTE} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(f"DELETE FROM {_FIGURE}")  # nosec B608
            cursor.execute(f"DELETE FROM {_MINUTE}")  # nosec B608
            cursor.execute(f"INSERT INTO {_FIGURE} (kind, scope, day, bucket, n) {figures}")
            written = cursor.rowcount
            cursor.execute(f"INSERT INTO {_MINUTE} (kind, scope, hour, day, minute, n) {minutes}")
            return written, cursor.rowcount


def installed_time_zone() -> str | None:
    """The time zone the installed definition counts days in, or None when it is not installed."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regproc(%s) IS NOT NULL", [ZONE_FUNCTION])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT {ZONE_FUNCTION}()")
        return cursor.fetchone()[0]


def differences(limit: int = 20) -> tuple[int, list[str]]:
    """How many rows differ between the tables and their definition, and a few of them, described.
    Rows whose count went back to zero are the same as no row."""
    figures, minutes = _definition_sql()
    out: list[str] = []
    total = 0
    with connection.cursor() as cursor:
        for table, definition, columns in ((_FIGURE, figures, "kind, scope, day, bucket, n"),
                                           (_MINUTE, minutes, "kind, scope, hour, day, minute, n")):
            stored = f"SELECT {columns} FROM {table} WHERE n <> 0"  # nosec B608
            cursor.execute(f"""
                SELECT 'missing', x.* FROM ({definition} EXCEPT {stored}) x
                UNION ALL
                SELECT 'unexpected', y.* FROM ({stored} EXCEPT {definition}) y""")  # nosec B608
            rows = cursor.fetchall()
            total += len(rows)
            out += [f"{table} {kind}: {dict(zip(columns.split(', '), rest, strict=True))}" for kind, *rest in rows]
    return total, out[:limit]
