"""Per sales team, per rep and per customer: requests, fill and evaporation rates, median time to
answer. One query.

The period's requests are read once (an index-only scan on PostgreSQL) and grouped three ways
(`dialect.grouping_sets`: one pass over the input, no intermediate copy of the window — at a million
requests a MATERIALIZED CTE read three times cost ~40% more), and each group's median is taken from
its own collected values (`dialect.grouped_median_sql`), so the grouping stays a hash aggregate. Keys are
integers and three flags stand for status, outcome and answered_at, so the sorted rows stay
narrow. Labels are joined to the few thousand result rows at most afterwards, and a rep's full
name is put together here, not per request.

Without filters (`rollup.usable`) the counts come from the day rollup `GroupDay` (per local
submission day, team, rep and customer: a few thousand team and rep rows and a customer's days,
kept by analysis.dashboard_rollup's trigger on the requests), a team's median from its
business-minute histogram in the day rollup (`DayFigure` TEAM_ANSWER_TIME: exact to the minute, as
the KPI cards' percentiles), and a rep's or a customer's median exactly from their requests of the
period, read off `req_rep_submitted_idx` / `req_customer_submitted_idx` alone — for the first `top`
of each table only when asked (the page shows 25): at a million requests that is ~40k index entries
for 25 reps and ~2k for 25 customers, instead of grouping the period's ~125k requests three ways
with their times collected per team, rep and customer (~70% of the page's SQL).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q

from analysis.metrics import dialect, rollup
from analysis.metrics.figures import GroupRow, hours
from analysis.metrics.filters import DashboardFilter, requests_in
from analysis.metrics.histograms import Histogram
from analysis.metrics.kpis import FILLED
from analysis.models import DayFigure, DayMinute, GroupDay
from requests_app.models import Customer, FeasibilityRequest, Outcome, SalesTeam, Status

KEYS = (("team", "sales_team_id"), ("rep", "requested_by_id"), ("customer", "customer_id"))
Groups = tuple[list[GroupRow], list[GroupRow], list[GroupRow]]  # teams, reps, customers
KINDS = {GroupDay.Dimension.TEAM: "team", GroupDay.Dimension.REP: "rep", GroupDay.Dimension.CUSTOMER: "customer"}
TEAM_HOURS = 0  # the dimension number of a team's hour histogram rows in the rollup's first statement


def groups(f: DashboardFilter, *, top: int | None = None, use_rollup: bool | None = None) -> Groups:
    """(teams, reps, customers), each sorted by requests, most first.

    From the day rollup where it can answer (`rollup.usable`), live otherwise; `use_rollup` forces
    one way (tests compare both). With `top`, the rollup gives the medians of the first `top` reps and
    customers only (the others' `answer_median_hours` is None); live, every median is computed."""
    if rollup.usable(f) if use_rollup is None else use_rollup:
        return _from_rollup(f, top)
    return _live(f)


def _order(row: GroupRow) -> tuple[int, str, int]:
    return -row.requests, row.label, row.key or 0


def _label(kind: str, key: int | None, label: str | None, first: str | None, last: str | None) -> str:
    full_name = f"{first or ''} {last or ''}".strip()
    return "(no team)" if kind == "team" and key is None else full_name or label or ""


def _live(f: DashboardFilter) -> Groups:
    flag: BooleanField[bool, bool] = BooleanField()
    window = requests_in(f, f.start, f.end).annotate(
        ca=ExpressionWrapper(Q(status=Status.CLOSED, answered_at__isnull=False), output_field=flag),
        fl=ExpressionWrapper(Q(outcome__in=FILLED), output_field=flag),
        ev=ExpressionWrapper(Q(outcome=Outcome.EVAPORATED), output_field=flag),
    ).values("sales_team_id", "requested_by_id", "customer_id", "ca", "fl", "ev", "answer_seconds")
    window_sql, params = window.query.sql_with_params()
    collect_p50, p50 = dialect.grouped_median_sql("answer_seconds", "p50")
    figures = f"""COUNT(*) AS requests,
                   COUNT(*) FILTER (WHERE ca) AS closed_answered,
                   COUNT(*) FILTER (WHERE ca AND fl) AS filled,
                   COUNT(*) FILTER (WHERE ca AND ev) AS evaporated,
                   {collect_p50}"""
    team_t, user_t, customer_t = SalesTeam._meta.db_table, User._meta.db_table, Customer._meta.db_table
    sql = f"""
        SELECT g.kind, g.k, g.requests, g.closed_answered, g.filled, g.evaporated, {p50},
               COALESCE(t.name, u.username, c.name), u.first_name, u.last_name
        FROM ({dialect.grouping_sets(window_sql, KEYS, figures)}) g
        LEFT JOIN {team_t} t ON g.kind = 'team' AND t.id = g.k
        LEFT JOIN {user_t} u ON g.kind = 'rep' AND u.id = g.k
        LEFT JOIN {customer_t} c ON g.kind = 'customer' AND c.id = g.k
    """  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    out: dict[str, list[GroupRow]] = {"team": [], "rep": [], "customer": []}
    for kind, key, requests, closed, filled_n, evaporated, p50, label, first, last in fetched:
        out[kind].append(GroupRow(key=key, label=_label(kind, key, label, first, last), requests=requests,
                                  closed_answered=closed, filled=filled_n, evaporated=evaporated,
                                  answer_median_hours=hours(p50), answer_median_seconds=p50))
    for rows in out.values():
        rows.sort(key=_order)
    return out["team"], out["rep"], out["customer"]


def _from_rollup(f: DashboardFilter, top: int | None) -> Groups:
    """The same rows as `_live` (a team's median to the minute), in two statements (PostgreSQL)."""
    first, after = f.date_from, f.date_to + timedelta(days=1)
    day_t, figure_t, minute_t = GroupDay._meta.db_table, DayFigure._meta.db_table, DayMinute._meta.db_table
    team_t, user_t, customer_t = SalesTeam._meta.db_table, User._meta.db_table, Customer._meta.db_table
    team_kind = int(DayFigure.Kind.TEAM_ANSWER_TIME)
    D = GroupDay.Dimension
    # 1. Every group's counts and label, and each team's hour histogram (NULL label columns).
    sql = f"""
        WITH g AS (
            SELECT dimension, key, SUM(requests) AS requests, SUM(closed_answered) AS closed_answered,
                   SUM(filled) AS filled, SUM(evaporated) AS evaporated
            FROM {day_t} WHERE day >= %s AND day < %s GROUP BY dimension, key HAVING SUM(requests) <> 0
        )
        SELECT g.dimension, g.key, g.requests, g.closed_answered, g.filled, g.evaporated,
               COALESCE(t.name, u.username, c.name), u.first_name, u.last_name
        FROM g
        LEFT JOIN {team_t} t ON g.dimension = {D.TEAM} AND t.id = g.key
        LEFT JOIN {user_t} u ON g.dimension = {D.REP} AND u.id = g.key
        LEFT JOIN {customer_t} c ON g.dimension = {D.CUSTOMER} AND c.id = g.key
        UNION ALL
        SELECT {TEAM_HOURS}, scope, bucket, SUM(n), 0, 0, NULL, NULL, NULL FROM {figure_t}
        WHERE kind = %s AND scope = ANY(ARRAY(SELECT key FROM g WHERE dimension = {D.TEAM})) AND day >= %s AND day < %s
        GROUP BY scope, bucket HAVING SUM(n) <> 0
    """  # nosec B608: table names and our own constants; every value is a parameter
    out: dict[str, list[GroupRow]] = {"team": [], "rep": [], "customer": []}
    team_hours: dict[int, dict[int, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, [first, after, team_kind, first, after])
        for dimension, key, requests, closed, filled_n, evaporated, label, first_name, last_name in cursor.fetchall():
            if dimension == TEAM_HOURS:
                team_hours[key][requests] = closed  # the hour and its count
                continue
            kind = KINDS[dimension]
            key = key or None  # 0: no team (or no customer)
            out[kind].append(GroupRow(key=key, label=_label(kind, key, label, first_name, last_name),
                                      requests=requests, closed_answered=closed, filled=filled_n,
                                      evaporated=evaporated, answer_median_hours=None))
    for rows in out.values():
        rows.sort(key=_order)

    # 2. The minutes of the hour each team's median falls in, and the reps' and customers' medians.
    histograms = {team: Histogram(hours=by_hour) for team, by_hour in team_hours.items()}
    branches: list[str] = []
    params: list[Any] = []
    for team, histogram in histograms.items():
        if needed := histogram.hours_needed((0.5,)):
            branches.append(f"""
                SELECT {TEAM_HOURS}, %s::bigint, minute::float, SUM(n)::bigint FROM {minute_t}
                WHERE kind = %s AND scope = %s AND hour = ANY(%s) AND day >= %s AND day < %s GROUP BY minute""")  # nosec B608
            params += [team, team_kind, team, sorted(needed), first, after]
    request_t = FeasibilityRequest._meta.db_table
    for dimension, column in ((D.REP, "requested_by_id"), (D.CUSTOMER, "customer_id")):
        keys = [row.key for row in out[KINDS[dimension]][:top]]
        if keys:
            branches.append(f"""
                SELECT {int(dimension)}, {column}, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY answer_seconds), 0
                FROM {request_t} WHERE {column} = ANY(%s) AND status <> %s AND submitted_at >= %s AND submitted_at < %s
                GROUP BY {column}""")  # nosec B608
            params += [keys, Status.DRAFT.value, f.start, f.end]
    medians: dict[tuple[int, int | None], float | None] = {}
    if branches:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(branches), params)
            for dimension, key, value, n in cursor.fetchall():
                if dimension == TEAM_HOURS:
                    histograms[key].minutes[int(value)] = int(n)
                else:
                    medians[(dimension, key)] = value
    for row in out["team"]:
        team_histogram = histograms.get(row.key or 0)
        row.answer_median_seconds = team_histogram.percentile_seconds(0.5) if team_histogram else None
        row.answer_median_hours = hours(row.answer_median_seconds)
    for dimension in (D.REP, D.CUSTOMER):
        for row in out[KINDS[dimension]]:
            row.answer_median_seconds = medians.get((dimension, row.key))
            row.answer_median_hours = hours(row.answer_median_seconds)
    return out["team"], out["rep"], out["customer"]
