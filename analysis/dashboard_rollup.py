"""Keeping the dashboard's day rollup (`DayFigure`, `DayMinute`) equal to its definition.

The definition, one SQL function per source table (`s2o_request_day_items`,
`s2o_assessment_day_items`): what a request or an assessment contributes, as (kind, scope, day,
bucket, minute) items — one per figure it counts under (FILED, ACK_MET, …, bucket 0) and one per
clock it has a time for (bucket = the whole business hour, minute = the whole business minute). The
day is the request's submission day in the site's time zone (`settings.TIME_ZONE`, written into the
function when it is installed). A table holds, for each key, how many items have it.

The promises kept (analysis.metrics.promises) add a third function, `s2o_promise_day_items`: a
request with a first promise counts under PROMISED, PROMISE_ANSWERED once answered and PROMISE_KEPT
when answered by that promise — once for the whole (scope 0), once per assessment of the request
(scope = the department) and once per acknowledgement event with an actor (scope = the operations
lead who made the promise). Those last two are a join of the request with its assessments or
events, so each side's trigger reads the other side: a write to the request re-counts its
assessments and acknowledgements with the old and new values; an assessment or an acknowledgement
event written or deleted counts with its request's current values, read under a share lock so a
concurrent change of the request waits for it (or it for the change) instead of being missed.
Whichever side is written first (deferred foreign keys allow either), the sum is the join's.

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

from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction

from analysis.models import Assessment, ConstraintDay, ConstraintHit, DayFigure, DayMinute, GroupDay, Verdict
from requests_app.models import FeasibilityRequest, Outcome, RequestEvent, Status

K = DayFigure.Kind
G = GroupDay.Dimension
_FIGURE, _MINUTE = DayFigure._meta.db_table, DayMinute._meta.db_table
_REQUEST, _ASSESSMENT = FeasibilityRequest._meta.db_table, Assessment._meta.db_table
_EVENT, _HIT, _CONSTRAINT_DAY = RequestEvent._meta.db_table, ConstraintHit._meta.db_table, ConstraintDay._meta.db_table
_GROUP_DAY = GroupDay._meta.db_table
_ACKNOWLEDGED = RequestEvent.Kind.ACKNOWLEDGED.value
ZONE_FUNCTION = "s2o_day_rollup_zone"
# Set (SET LOCAL) by a bulk rewrite of the hits that recomputes ConstraintDay once at its end.
HITS_REWRITTEN = "s2o.constraint_hits_rewritten"

# Columns each definition reads, in its arguments' order (OLD./NEW. or a table alias in front).
_REQUEST_COLUMNS = ("submitted_at", "status", "outcome", "answered_at", "acknowledge_seconds", "acknowledge_met",
                    "answer_seconds", "answer_met", "sales_team_id")
_OLD_REQUEST_ITEMS_ARGS = "timestamptz, text, text, timestamptz, integer, boolean, integer, boolean"
# What a group item reads of its request.
_GROUP_COLUMNS = ("submitted_at", "status", "outcome", "answered_at", "sales_team_id", "requested_by_id", "customer_id")
_GROUP_DAY_SUMS = ("requests", "closed_answered", "filled", "evaporated")
_ASSESSMENT_COLUMNS = ("department_id", "request_submitted_at", "assessed_at", "met", "verdict", "assessment_seconds")
# What a promise item reads of its request (after the family and the scope).
_PROMISE_COLUMNS = ("submitted_at", "status", "answered_at", "answer_due_promised")
# What a constraint-day item reads of its hit, then of its request.
_HIT_COLUMNS = ("constraint_id", "blocked", "bent")
_DEAL_COLUMNS = ("submitted_at", "status", "outcome", "deal_value", "currency")
_CONSTRAINT_DAY_SUMS = ("blocked", "bent", "requests", "valued", "value")


def _quoted(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)  # our own constants, never user input


def _functions_sql(time_zone: str) -> list[str]:
    zone = time_zone.replace("'", "")  # a time zone name; a quote cannot be part of one
    closed_answered = f"status = '{Status.CLOSED.value}' AND answered_at IS NOT NULL"
    filled = _quoted(Outcome.WON.value, Outcome.ALTERNATIVE_ACCEPTED.value)
    return [
        f"CREATE OR REPLACE FUNCTION {ZONE_FUNCTION}() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '{zone}'::text $$",
        # Before the sales team was an argument (the team's time to answer): not to be called any more.
        f"DROP FUNCTION IF EXISTS s2o_request_day_items({_OLD_REQUEST_ITEMS_ARGS})",
        f"""
        CREATE OR REPLACE FUNCTION s2o_request_day_items(
            submitted_at timestamptz, status text, outcome text, answered_at timestamptz,
            ack_s integer, ack_met boolean, answer_s integer, answer_met boolean, sales_team bigint)
        RETURNS TABLE (kind smallint, scope integer, day date, bucket integer, minute integer)
        LANGUAGE sql IMMUTABLE AS $$
            SELECT i.kind::smallint, i.scope::integer, (submitted_at AT TIME ZONE '{zone}')::date, i.bucket, i.minute
            FROM (VALUES
                ({K.FILED}, 0, 0, NULL::integer, true),
                ({K.ACK_MET}, 0, 0, NULL, ack_met IS TRUE),
                ({K.ACK_DONE}, 0, 0, NULL, ack_met IS NOT NULL),
                ({K.ANSWER_MET}, 0, 0, NULL, answer_met IS TRUE),
                ({K.ANSWER_DONE}, 0, 0, NULL, answer_met IS NOT NULL),
                ({K.CLOSED_ANSWERED}, 0, 0, NULL, {closed_answered}),
                ({K.FILLED}, 0, 0, NULL, {closed_answered} AND outcome IN ({filled})),
                ({K.EVAPORATED}, 0, 0, NULL, {closed_answered} AND outcome = '{Outcome.EVAPORATED.value}'),
                ({K.ACK_TIME}, 0, ack_s / 3600, ack_s / 60, ack_s IS NOT NULL),
                ({K.ANSWER_TIME}, 0, answer_s / 3600, answer_s / 60, answer_s IS NOT NULL),
                ({K.TEAM_ANSWER_TIME}, COALESCE(sales_team, 0), answer_s / 3600, answer_s / 60, answer_s IS NOT NULL)
            ) AS i(kind, scope, bucket, minute, wanted)
            WHERE i.wanted AND submitted_at IS NOT NULL AND status <> '{Status.DRAFT.value}'
        $$""",  # nosec B608
        # Per team, rep and customer (GroupDay): one request, closed answered, filled, evaporated.
        f"""
        CREATE OR REPLACE FUNCTION s2o_request_group_items(
            submitted_at timestamptz, status text, outcome text, answered_at timestamptz, sales_team bigint,
            rep bigint, customer bigint)
        RETURNS TABLE (day date, dimension smallint, group_key integer, n_requests integer, n_closed_answered integer,
                       n_filled integer, n_evaporated integer)
        LANGUAGE sql IMMUTABLE AS $$
            SELECT (submitted_at AT TIME ZONE '{zone}')::date, g.dimension::smallint, g.group_key::integer, 1,
                   c.ca::integer, (c.ca AND outcome IN ({filled}))::integer,
                   (c.ca AND outcome = '{Outcome.EVAPORATED.value}')::integer
            FROM (SELECT {closed_answered} AS ca) c,
                 (VALUES ({G.TEAM}, COALESCE(sales_team, 0)), ({G.REP}, rep), ({G.CUSTOMER}, COALESCE(customer, 0)))
                 AS g(dimension, group_key)
            WHERE submitted_at IS NOT NULL AND status <> '{Status.DRAFT.value}'
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
        # Kept = answered at or before the first promise; an unanswered request past its promise is
        # counted too, but that depends on "now": the dashboard reads it live (metrics.promises).
        f"""
        CREATE OR REPLACE FUNCTION s2o_promise_day_items(
            family smallint, holder bigint, submitted_at timestamptz, status text, answered_at timestamptz,
            promised timestamptz)
        RETURNS TABLE (kind smallint, scope integer, day date, bucket integer, minute integer)
        LANGUAGE sql IMMUTABLE AS $$
            SELECT (family + i.k)::smallint, holder::integer, (submitted_at AT TIME ZONE '{zone}')::date, 0,
                   NULL::integer
            FROM (VALUES (0, true), (1, answered_at IS NOT NULL), (2, answered_at <= promised)) AS i(k, wanted)
            WHERE i.wanted AND promised IS NOT NULL AND submitted_at IS NOT NULL AND status <> '{Status.DRAFT.value}'
        $$""",  # nosec B608
        # A hit of the Pareto: what it counts under (blocked, bent, one request) and, when its
        # request is not filled and has a deal value, that value (the live rule, metrics.pareto).
        f"""
        CREATE OR REPLACE FUNCTION s2o_constraint_day_items(
            constraint_id bigint, blocked boolean, bent boolean, submitted_at timestamptz, status text,
            outcome text, deal_value numeric, currency text)
        RETURNS TABLE (day date, hit_constraint bigint, deal_currency text, n_blocked integer, n_bent integer,
                       n_requests integer, n_valued integer, at_stake numeric)
        LANGUAGE sql IMMUTABLE AS $$
            SELECT (submitted_at AT TIME ZONE '{zone}')::date, constraint_id, currency, blocked::integer,
                   bent::integer, 1, x.stake::integer, CASE WHEN x.stake THEN deal_value ELSE 0 END
            FROM (SELECT outcome NOT IN ({filled}) AND deal_value IS NOT NULL AND deal_value <> 0 AS stake) x
            WHERE submitted_at IS NOT NULL AND status <> '{Status.DRAFT.value}'
        $$""",  # nosec B608
        _trigger_function_sql("s2o_request_day_rollup", "s2o_request_day_items", _REQUEST_COLUMNS),
        _trigger_function_sql("s2o_assessment_day_rollup", "s2o_assessment_day_items", _ASSESSMENT_COLUMNS),
        *_promise_trigger_functions_sql(),
        *_constraint_day_trigger_functions_sql(),
        _group_day_trigger_function_sql(),
    ]


def _group_day_trigger_function_sql() -> str:
    """The difference between a request's old and new group items, added to GroupDay."""
    n = ("n_requests", "n_closed_answered", "n_filled", "n_evaporated")
    sums = ", ".join(f"SUM(d * {c})" for c in n)
    nonzero = " OR ".join(f"SUM(d * {c}) <> 0" for c in n)
    added = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in _GROUP_DAY_SUMS)
    old, new = (", ".join(f"{row}.{c}" for c in _GROUP_COLUMNS) for row in ("OLD", "NEW"))
    return _join_trigger_function_sql("s2o_request_group_day", "", f"""
            INSERT INTO {_GROUP_DAY} AS t (day, dimension, key, {", ".join(_GROUP_DAY_SUMS)})
            SELECT day, dimension, group_key, {sums} FROM (
                    SELECT i.*, -1 AS d FROM s2o_request_group_items({old}) i
                    UNION ALL
                    SELECT i.*, 1 AS d FROM s2o_request_group_items({new}) i
            ) x GROUP BY day, dimension, group_key HAVING {nonzero}
            ON CONFLICT (day, dimension, key) DO UPDATE SET {added};""")  # nosec B608


def _promise_items(family: int, holder: str, request: str) -> str:
    """A call of s2o_promise_day_items for `request` (OLD, NEW or a table alias) under `holder`."""
    return f"s2o_promise_day_items({int(family)}::smallint, {holder}, {', '.join(f'{request}.{c}' for c in _PROMISE_COLUMNS)})"


def _acknowledgement(alias: str) -> str:
    """An event that names the lead who made the promise."""
    return f"{alias}.kind = '{_ACKNOWLEDGED}' AND {alias}.actor_id IS NOT NULL"


def _union(signed_items: list[tuple[int, str]], columns: str) -> str:
    """`SELECT columns, sign AS d FROM source` for each (sign, FROM … clause), as one UNION ALL."""
    return "\n                    UNION ALL\n                    ".join(
        f"SELECT {columns}, {sign} AS d FROM {source}"  # nosec B608: this module's own column lists and FROM clauses
        for sign, source in signed_items)


def _join_trigger_function_sql(name: str, lock: str, upsert: str, *, skip_if: str = "") -> str:
    """A trigger function of a rollup over a join: lock the rows read on the other side, upsert."""
    skip = f"IF {skip_if} THEN RETURN NULL; END IF;" if skip_if else ""
    return f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {skip}
            {lock}
            {upsert}
            RETURN NULL;
        END $$"""


# The request's current values, locked against a concurrent change of them until this commits.
_LOCK_REQUEST = f"PERFORM 1 FROM {_REQUEST} WHERE id IN (OLD.request_id, NEW.request_id) FOR SHARE;"


def _promise_trigger_function_sql(name: str, lock: str, signed_items: list[tuple[int, str]]) -> str:
    """The promise items of each (sign, FROM … clause) added to DayFigure, netted per key."""
    return _join_trigger_function_sql(name, lock, f"""
            INSERT INTO {_FIGURE} AS t (kind, scope, day, bucket, n)
            SELECT kind, scope, day, 0, SUM(d) FROM (
                    {_union(signed_items, "i.kind, i.scope, i.day")}
            ) x GROUP BY kind, scope, day HAVING SUM(d) <> 0
            ON CONFLICT (kind, scope, day, bucket) DO UPDATE SET n = t.n + EXCLUDED.n;""")  # nosec B608


def _promise_trigger_functions_sql() -> list[str]:
    request_side = []
    for sign, row in ((-1, "OLD"), (1, "NEW")):
        request_side += [
            (sign, f"{_promise_items(K.PROMISED, '0', row)} i"),
            (sign, f"{_ASSESSMENT} a CROSS JOIN LATERAL {_promise_items(K.DEPARTMENT_PROMISED, 'a.department_id', row)} i"
                   f" WHERE a.request_id = {row}.id"),
            (sign, f"{_EVENT} e CROSS JOIN LATERAL {_promise_items(K.LEAD_PROMISED, 'e.actor_id', row)} i"
                   f" WHERE e.request_id = {row}.id AND {_acknowledgement('e')}"),
        ]
    assessment_side = [
        (sign, f"{_REQUEST} r CROSS JOIN LATERAL {_promise_items(K.DEPARTMENT_PROMISED, f'{row}.department_id', 'r')} i"
               f" WHERE r.id = {row}.request_id")
        for sign, row in ((-1, "OLD"), (1, "NEW"))
    ]
    event_side = [
        (sign, f"{_REQUEST} r CROSS JOIN LATERAL {_promise_items(K.LEAD_PROMISED, f'{row}.actor_id', 'r')} i"
               f" WHERE r.id = {row}.request_id AND {_acknowledgement(row)}")
        for sign, row in ((-1, "OLD"), (1, "NEW"))
    ]
    return [
        _promise_trigger_function_sql("s2o_request_promise_rollup", "", request_side),
        _promise_trigger_function_sql("s2o_assessment_promise_rollup", _LOCK_REQUEST, assessment_side),
        _promise_trigger_function_sql("s2o_event_promise_rollup", _LOCK_REQUEST, event_side),
    ]


def _constraint_day_items(hit: str, request: str) -> str:
    """A call of s2o_constraint_day_items for the hit `hit` of the request `request` (OLD, NEW or aliases)."""
    args = [f"{hit}.{c}" for c in _HIT_COLUMNS] + [f"{request}.{c}" for c in _DEAL_COLUMNS]
    return f"s2o_constraint_day_items({', '.join(args)})"


def _constraint_day_trigger_function_sql(name: str, lock: str, signed_items: list[tuple[int, str]], *,
                                         skip_if: str = "") -> str:
    """The constraint-day items of each (sign, FROM … clause) added to ConstraintDay, netted per key."""
    sums = ", ".join(f"SUM(d * {c})" for c in ("n_blocked", "n_bent", "n_requests", "n_valued", "at_stake"))
    nonzero = " OR ".join(f"SUM(d * {c}) <> 0" for c in ("n_blocked", "n_bent", "n_requests", "n_valued", "at_stake"))
    added = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in _CONSTRAINT_DAY_SUMS)
    return _join_trigger_function_sql(name, lock, f"""
            INSERT INTO {_CONSTRAINT_DAY} AS t (day, constraint_id, currency, {", ".join(_CONSTRAINT_DAY_SUMS)})
            SELECT day, hit_constraint, deal_currency, {sums} FROM (
                    {_union(signed_items, "i.*")}
            ) x GROUP BY day, hit_constraint, deal_currency HAVING {nonzero}
            ON CONFLICT (day, constraint_id, currency) DO UPDATE SET {added};""", skip_if=skip_if)  # nosec B608


def _constraint_day_trigger_functions_sql() -> list[str]:
    request_side = [(sign, f"{_HIT} h CROSS JOIN LATERAL {_constraint_day_items('h', row)} i WHERE h.request_id = {row}.id")
                    for sign, row in ((-1, "OLD"), (1, "NEW"))]
    hit_side = [(sign, f"{_REQUEST} r CROSS JOIN LATERAL {_constraint_day_items(row, 'r')} i WHERE r.id = {row}.request_id")
                for sign, row in ((-1, "OLD"), (1, "NEW"))]
    return [
        _constraint_day_trigger_function_sql("s2o_request_constraint_day", "", request_side),
        # A bulk rewrite of the hits (rollups.rebuild_constraint_hits) recomputes the table once at its end.
        _constraint_day_trigger_function_sql("s2o_hit_constraint_day", _LOCK_REQUEST, hit_side,
                                             skip_if=f"current_setting('{HITS_REWRITTEN}', true) = 'on'"),
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


def _changed(*columns: str) -> str:
    return f"({', '.join(f'OLD.{c}' for c in columns)}) IS DISTINCT FROM ({', '.join(f'NEW.{c}' for c in columns)})"


def _triggers_sql() -> list[str]:
    out = []
    for table, name, columns in ((_REQUEST, "s2o_request_day_rollup", _REQUEST_COLUMNS),
                                 (_ASSESSMENT, "s2o_assessment_day_rollup", _ASSESSMENT_COLUMNS)):
        out += [
            f"DROP TRIGGER IF EXISTS {name}_write ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_update ON {table}",
            f"CREATE TRIGGER {name}_write AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
            # Only updates that change what the rollup reads (a title, a version, a due time do not).
            f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW WHEN ({_changed(*columns)}) "
            f"EXECUTE FUNCTION {name}()",
        ]
    return out + _promise_triggers_sql()


def _promise_triggers_sql() -> list[str]:
    """The promises', the Pareto's and the groups' triggers (the first two: rollups of a join with the requests)."""
    draft = f"status = '{Status.DRAFT.value}'"
    acknowledgement_either = f"(OLD.kind = '{_ACKNOWLEDGED}' OR NEW.kind = '{_ACKNOWLEDGED}')"
    triggers = [  # (table, function, name suffix, operation, condition)
        (_REQUEST, "s2o_request_promise_rollup", "write", "INSERT OR DELETE", ""),
        # Every transition writes the status; it matters here only into or out of a draft.
        (_REQUEST, "s2o_request_promise_rollup", "update", "UPDATE",
         f"{_changed('submitted_at', 'answered_at', 'answer_due_promised')} OR (OLD.{draft}) IS DISTINCT FROM (NEW.{draft})"),
        (_ASSESSMENT, "s2o_assessment_promise_rollup", "write", "INSERT OR DELETE", ""),
        (_ASSESSMENT, "s2o_assessment_promise_rollup", "update", "UPDATE", _changed("request_id", "department_id")),
        # Events are written all day (comments, reminders): only acknowledgements wake the trigger.
        (_EVENT, "s2o_event_promise_rollup", "insert", "INSERT", _acknowledgement("NEW")),
        (_EVENT, "s2o_event_promise_rollup", "delete", "DELETE", _acknowledgement("OLD")),
        (_EVENT, "s2o_event_promise_rollup", "update", "UPDATE",
         f"{_changed('kind', 'actor_id', 'request_id')} AND {acknowledgement_either}"),
        (_REQUEST, "s2o_request_constraint_day", "write", "INSERT OR DELETE", ""),
        (_REQUEST, "s2o_request_constraint_day", "update", "UPDATE",
         f"{_changed('submitted_at', 'outcome', 'deal_value', 'currency')} OR (OLD.{draft}) IS DISTINCT FROM (NEW.{draft})"),
        (_HIT, "s2o_hit_constraint_day", "write", "INSERT OR DELETE", ""),
        (_HIT, "s2o_hit_constraint_day", "update", "UPDATE", _changed("request_id", *_HIT_COLUMNS)),
        (_REQUEST, "s2o_request_group_day", "write", "INSERT OR DELETE", ""),
        (_REQUEST, "s2o_request_group_day", "update", "UPDATE", _changed(*_GROUP_COLUMNS)),
    ]
    out = []
    for table, function, suffix, operation, condition in triggers:
        when = f" WHEN ({condition})" if condition else ""
        out += [f"DROP TRIGGER IF EXISTS {function}_{suffix} ON {table}",
                f"CREATE TRIGGER {function}_{suffix} AFTER {operation} ON {table} FOR EACH ROW{when} "
                f"EXECUTE FUNCTION {function}()"]
    return out


def install(time_zone: str | None = None) -> None:
    """Create (or replace) the definition functions and the triggers. PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in [*_functions_sql(time_zone or settings.TIME_ZONE), *_triggers_sql()]:
            cursor.execute(sql)


class _Definitions(NamedTuple):
    """SELECTs of the rows each table must hold, recomputed from the source tables."""

    figures: str
    minutes: str
    constraint_days: str
    group_days: str


def _definition_sql() -> _Definitions:
    r_args = ", ".join(f"r.{c}" for c in _REQUEST_COLUMNS)
    a_args = ", ".join(f"a.{c}" for c in _ASSESSMENT_COLUMNS)
    g_args = ", ".join(f"r.{c}" for c in _GROUP_COLUMNS)
    items = f"""
        SELECT i.* FROM {_REQUEST} r CROSS JOIN LATERAL s2o_request_day_items({r_args}) i
        UNION ALL
        SELECT i.* FROM {_ASSESSMENT} a CROSS JOIN LATERAL s2o_assessment_day_items({a_args}) i"""  # nosec B608
    promise_items = f"""
        SELECT i.* FROM {_REQUEST} r CROSS JOIN LATERAL {_promise_items(K.PROMISED, '0', 'r')} i
        UNION ALL
        SELECT i.* FROM {_ASSESSMENT} a JOIN {_REQUEST} r ON r.id = a.request_id
            CROSS JOIN LATERAL {_promise_items(K.DEPARTMENT_PROMISED, 'a.department_id', 'r')} i
        UNION ALL
        SELECT i.* FROM {_EVENT} e JOIN {_REQUEST} r ON r.id = e.request_id
            CROSS JOIN LATERAL {_promise_items(K.LEAD_PROMISED, 'e.actor_id', 'r')} i
        WHERE {_acknowledgement('e')}"""  # nosec B608
    return _Definitions(
        figures=(f"SELECT kind, scope, day, bucket, COUNT(*)::integer AS n FROM ({items} UNION ALL {promise_items}) x "
                 f"GROUP BY kind, scope, day, bucket"),  # nosec B608
        minutes=(f"SELECT kind, scope, bucket AS hour, day, minute, COUNT(*)::integer AS n FROM ({items}) x "
                 f"WHERE minute IS NOT NULL GROUP BY kind, scope, bucket, day, minute"),  # nosec B608
        constraint_days=f"""
            SELECT i.day, i.hit_constraint AS constraint_id, i.deal_currency AS currency, SUM(i.n_blocked)::integer,
                   SUM(i.n_bent)::integer, SUM(i.n_requests)::integer, SUM(i.n_valued)::integer, SUM(i.at_stake)
            FROM {_HIT} h JOIN {_REQUEST} r ON r.id = h.request_id
                CROSS JOIN LATERAL {_constraint_day_items('h', 'r')} i
            GROUP BY 1, 2, 3""",  # nosec B608
        group_days=f"""
            SELECT i.day, i.dimension, i.group_key AS key, SUM(i.n_requests)::integer,
                   SUM(i.n_closed_answered)::integer, SUM(i.n_filled)::integer, SUM(i.n_evaporated)::integer
            FROM {_REQUEST} r CROSS JOIN LATERAL s2o_request_group_items({g_args}) i
            GROUP BY 1, 2, 3""",  # nosec B608
    )


class _Table(NamedTuple):
    name: str
    columns: str  # in the definition's order
    nonzero: str  # a stored row that counts (a row whose counts all went back to zero is the same as no row)
    definition: str


def _tables() -> list[_Table]:
    d = _definition_sql()

    def any_of(columns: tuple[str, ...]) -> str:
        return " OR ".join(f"{c} <> 0" for c in columns)

    return [
        _Table(_FIGURE, "kind, scope, day, bucket, n", "n <> 0", d.figures),
        _Table(_MINUTE, "kind, scope, hour, day, minute, n", "n <> 0", d.minutes),
        _Table(_CONSTRAINT_DAY, f"day, constraint_id, currency, {', '.join(_CONSTRAINT_DAY_SUMS)}",
               any_of(_CONSTRAINT_DAY_SUMS), d.constraint_days),
        _Table(_GROUP_DAY, f"day, dimension, key, {', '.join(_GROUP_DAY_SUMS)}", any_of(_GROUP_DAY_SUMS), d.group_days),
    ]


class Rebuilt(NamedTuple):
    """Rows written per table by `rebuild`."""

    figures: int
    minutes: int
    constraint_days: int
    group_days: int


def rebuild() -> Rebuilt:
    """Reinstall the definition with the current time zone and recompute every table; returns the
    numbers of rows written. Concurrent writers wait for it, then apply their change on top."""
    with transaction.atomic():
        install()
        written = []
        with connection.cursor() as cursor:
            tables = _tables()
            cursor.execute(f"LOCK TABLE {', '.join(t.name for t in tables)} IN SHARE ROW EXCLUSIVE MODE")
            for table in tables:
                cursor.execute(f"DELETE FROM {table.name}")  # nosec B608
                cursor.execute(f"INSERT INTO {table.name} ({table.columns}) {table.definition}")  # nosec B608
                written.append(cursor.rowcount)
        return Rebuilt(*written)


def rebuild_constraint_days() -> int:
    """Recompute ConstraintDay alone (after a bulk rewrite of the hits); returns the rows written."""
    table = next(t for t in _tables() if t.name == _CONSTRAINT_DAY)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table.name}")  # nosec B608
        cursor.execute(f"INSERT INTO {table.name} ({table.columns}) {table.definition}")  # nosec B608
        return cursor.rowcount


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
    Rows whose counts went back to zero are the same as no row."""
    out: list[str] = []
    total = 0
    with connection.cursor() as cursor:
        for table in _tables():
            stored = f"SELECT {table.columns} FROM {table.name} WHERE {table.nonzero}"  # nosec B608
            cursor.execute(f"""
                SELECT 'missing', x.* FROM ({table.definition} EXCEPT {stored}) x
                UNION ALL
                SELECT 'unexpected', y.* FROM ({stored} EXCEPT {table.definition}) y""")  # nosec B608
            rows = cursor.fetchall()
            total += len(rows)
            out += [f"{table.name} {kind}: {dict(zip(table.columns.split(', '), rest, strict=True))}"
                    for kind, *rest in rows]
    return total, out[:limit]
