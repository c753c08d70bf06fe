"""Capability-gap Pareto: per constraint, the requests it blocked or bent, and the value at stake.

One query over the rollup `ConstraintHit` (one row per request and constraint, kept exact by
analysis.rollups), so each request counts once per constraint however many departments or
alternatives cite it. The period bounds the hits by their copied `submitted_at` (index-only scan of
`hit_window_idx`); they are hash-joined once to the period's requests (index-only scan of
`req_dashboard_window_idx`), which apply the other filters and bring the live outcome, value and
currency. Grouping is on integer ids; labels are joined to the few result rows.

Money: the deal values are converted to the reporting currency at the rate in force on each
request's submission day (its local date), the latest `ExchangeRate` on or before that day. The
hits are first grouped by constraint, currency and day (a few thousand rows for 90 days), and each
group looks up its one rate through the rates' unique index. A request whose currency has no rate
in force on that day is counted as not converted, never added at some other rate.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

from analysis.metrics import dialect
from analysis.metrics.figures import ParetoRow
from analysis.metrics.filters import DashboardFilter, requests_in
from analysis.metrics.kpis import FILLED
from analysis.models import ConstraintCategory, ConstraintHit
from requests_app.exchange_rates import reporting_currency
from requests_app.models import ExchangeRate

CENT = Decimal("0.01")


def pareto(f: DashboardFilter) -> list[ParetoRow]:
    """Sorted by requests affected (then requests blocked); the cumulative share is over the sum of
    requests affected of all constraints."""
    requests = requests_in(f, f.start, f.end)
    base_sql, base_params = requests.values(
        "id", "currency", "deal_value", "outcome", "submitted_at").query.sql_with_params()
    hit_t, category_t, rate_t = ConstraintHit._meta.db_table, ConstraintCategory._meta.db_table, ExchangeRate._meta.db_table
    filled = ", ".join(f"'{o.value}'" for o in FILLED)  # our own constants, not user input
    day_sql, day_params = dialect.local_date_sql("r.submitted_at")
    at_stake = f"r.outcome NOT IN ({filled}) AND r.deal_value IS NOT NULL AND r.deal_value <> 0"
    sql = f"""
        SELECT c.code, c.label, y.currency, y.blocked, y.bent, y.requests, y.converted, y.unconverted FROM (
            SELECT x.constraint_id, x.currency, SUM(x.blocked) AS blocked, SUM(x.bent) AS bent,
                   SUM(x.requests) AS requests,
                   SUM(x.value * x.rate) AS converted,
                   SUM(CASE WHEN x.rate IS NULL THEN x.valued ELSE 0 END) AS unconverted
            FROM (
                SELECT g.*, CASE WHEN g.currency = %s THEN 1 ELSE (
                           SELECT e.rate FROM {rate_t} e
                           WHERE e.reporting_currency = %s AND e.currency = g.currency AND e.valid_from <= g.day
                           ORDER BY e.valid_from DESC LIMIT 1) END AS rate
                FROM (
                    SELECT h.constraint_id, r.currency, {day_sql} AS day,
                           SUM(CASE WHEN h.blocked THEN 1 ELSE 0 END) AS blocked,
                           SUM(CASE WHEN h.bent THEN 1 ELSE 0 END) AS bent,
                           COUNT(*) AS requests,
                           SUM(CASE WHEN {at_stake} THEN r.deal_value ELSE 0 END) AS value,
                           SUM(CASE WHEN {at_stake} THEN 1 ELSE 0 END) AS valued
                    FROM {hit_t} h JOIN ({base_sql}) r ON r.id = h.request_id
                    WHERE h.submitted_at >= %s AND h.submitted_at < %s
                    GROUP BY 1, 2, 3
                ) g
            ) x
            GROUP BY x.constraint_id, x.currency
        ) y JOIN {category_t} c ON c.id = y.constraint_id
    """
    reporting = reporting_currency()
    params = [reporting, reporting, *day_params, *base_params, dialect.adapt(f.start), dialect.adapt(f.end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows: dict[str, ParetoRow] = {}
    for code, label, currency, blocked, bent, requests_n, converted, unconverted in fetched:
        row = rows.setdefault(code, ParetoRow(code=code, label=label, blocked=0, bent=0, requests=0,
                                              currency=reporting))
        row.blocked += int(blocked)
        row.bent += int(bent)
        row.requests += int(requests_n)
        row.converted += Decimal(converted or 0)
        if unconverted:
            row.unconverted += int(unconverted)
            row.unconverted_currencies = sorted({*row.unconverted_currencies, currency})
    ordered = sorted(rows.values(), key=lambda r: (-r.requests, -r.blocked, r.code))
    total = sum(r.requests for r in ordered)
    running = 0
    for row in ordered:
        running += row.requests
        row.cumulative_pct = round(100.0 * running / total, 1) if total else 0.0
        row.converted = row.converted.quantize(CENT)
    return ordered
