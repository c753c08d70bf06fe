"""Capability-gap Pareto: per constraint, the requests it blocked or bent, and the value at stake.

One query over the rollup `ConstraintHit` (one row per request and constraint, kept exact by
analysis.rollups), so each request counts once per constraint however many departments or
alternatives cite it. The period bounds the hits by their copied `submitted_at` (index-only scan of
`hit_window_idx`); they are hash-joined once to the period's requests (index-only scan of
`req_dashboard_window_idx`), which apply the other filters and bring the live outcome, value and
currency. Grouping is on integer ids; labels are joined to the few result rows.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

from analysis.metrics import dialect
from analysis.metrics.figures import ParetoRow
from analysis.metrics.filters import DashboardFilter, requests_in
from analysis.metrics.kpis import FILLED
from analysis.models import ConstraintCategory, ConstraintHit


def pareto(f: DashboardFilter) -> list[ParetoRow]:
    """Sorted by requests affected (then requests blocked); the cumulative share is over the sum of
    requests affected of all constraints."""
    requests = requests_in(f, f.start, f.end)
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
        cursor.execute(sql, [*base_params, dialect.adapt(f.start), dialect.adapt(f.end)])
        fetched = cursor.fetchall()
    rows: dict[str, ParetoRow] = {}
    for code, label, currency, blocked, bent, requests_n, value in fetched:
        row = rows.setdefault(code, ParetoRow(code=code, label=label, blocked=0, bent=0, requests=0))
        row.blocked += int(blocked)
        row.bent += int(bent)
        row.requests += int(requests_n)
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
