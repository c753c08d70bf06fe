"""Capability-gap Pareto: per constraint, the requests it blocked or bent, and the value at stake.

One query over the rollup `ConstraintHit` (one row per request and constraint, kept exact by
analysis.rollups), so each request counts once per constraint however many departments or
alternatives cite it. The period bounds the hits by their copied `submitted_at` (index-only scan of
`hit_window_idx`); they are hash-joined once to the period's requests (index-only scan of
`req_dashboard_window_idx`), which apply the other filters and bring the live outcome, value and
currency. Grouping is on integer ids; labels are joined to the few result rows.

Money: a deal value is converted to the reporting currency at the rate in force on the request's
submission day (its local date): the latest `ExchangeRate` on or before that day. The rates that can
apply to the period are read first (one small query); each request is numbered with the interval
between two rate changes its submission falls in (`dialect.interval_index_sql`: a binary search per
row on PostgreSQL), the hits are summed per constraint, currency and interval, and the few sums are
multiplied by their rate here. A request whose currency had no rate in force that day is counted as
not converted, never added at some other rate.

Without filters (`rollup.usable`), the same sums come from the day rollup `ConstraintDay` (per local
submission day, constraint and currency; kept by analysis.dashboard_rollup's triggers on the hits
and on the requests' outcome, value and currency): a few thousand rows for 90 days instead of
joining ~120k hits with the period's requests at a million requests. A day falls in one interval
between rate changes (they start at local midnights), so the sums per interval are the same.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, Subquery

from analysis.metrics import dialect, rollup
from analysis.metrics.figures import ParetoRow
from analysis.metrics.filters import DashboardFilter, local_midnight, requests_in
from analysis.metrics.kpis import FILLED
from analysis.models import ConstraintCategory, ConstraintDay, ConstraintHit
from requests_app.exchange_rates import reporting_currency
from requests_app.models import ExchangeRate

CENT = Decimal("0.01")
Rates = dict[str, list[tuple[date, Decimal]]]  # per currency, (valid from, rate), oldest first


def rates_for(f: DashboardFilter, reporting: str) -> Rates:
    """Per currency, the rates that can apply to requests submitted in the period, oldest first: the
    one in force on its first day and those that start inside it."""
    rates = ExchangeRate.objects.filter(reporting_currency=reporting)
    in_force = rates.filter(currency=OuterRef("currency"), valid_from__lte=f.date_from).order_by("-valid_from")
    wanted = rates.filter(Q(valid_from__gt=f.date_from, valid_from__lte=f.date_to)
                          | Q(valid_from=Subquery(in_force.values("valid_from")[:1])))
    out: Rates = defaultdict(list)
    for currency, valid_from, rate in wanted.order_by("currency", "valid_from").values_list(
            "currency", "valid_from", "rate"):
        out[currency].append((valid_from, rate))
    return out


def pareto(f: DashboardFilter, *, use_rollup: bool | None = None) -> list[ParetoRow]:
    """Sorted by requests affected (then requests blocked); the cumulative share is over the sum of
    requests affected of all constraints. From the day rollup where it can answer, live otherwise;
    `use_rollup` forces one way (tests compare both)."""
    reporting = reporting_currency()
    rates = rates_for(f, reporting)
    fast = rollup.usable(f) if use_rollup is None else use_rollup
    sql, params = (_rollup_sql if fast else _live_sql)(f, rates)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows: dict[str, ParetoRow] = {}
    for code, label, currency, interval, blocked, bent, requests_n, value, valued in fetched:
        row = rows.setdefault(code, ParetoRow(code=code, label=label, blocked=0, bent=0, requests=0,
                                              currency=reporting))
        row.blocked += int(blocked)
        row.bent += int(bent)
        row.requests += int(requests_n)
        rate = Decimal(1) if currency == reporting else (rates[currency][interval - 1][1] if interval else None)
        if rate is not None:
            row.converted += Decimal(value or 0) * rate
        elif valued:
            row.unconverted += int(valued)
            row.unconverted_currencies = sorted({*row.unconverted_currencies, currency})
    ordered = sorted(rows.values(), key=lambda r: (-r.requests, -r.blocked, r.code))
    total = sum(r.requests for r in ordered)
    running = 0
    for row in ordered:
        running += row.requests
        row.cumulative_pct = round(100.0 * running / total, 1) if total else 0.0
        row.converted = row.converted.quantize(CENT)
    return ordered


def _live_sql(f: DashboardFilter, rates: Rates) -> tuple[str, list[Any]]:
    """Per constraint, currency and rate interval: blocked, bent, requests, value at stake, deals valued."""
    requests = requests_in(f, f.start, f.end)
    base_sql, base_params = requests.values(
        "id", "currency", "deal_value", "outcome", "submitted_at").query.sql_with_params()
    hit_t, category_t = ConstraintHit._meta.db_table, ConstraintCategory._meta.db_table
    filled = ", ".join(f"'{o.value}'" for o in FILLED)  # our own constants, not user input
    at_stake = f"r.outcome NOT IN ({filled}) AND r.deal_value IS NOT NULL AND r.deal_value <> 0"
    whens, when_params = [], []
    for currency, dated in rates.items():
        index_sql, index_params = dialect.interval_index_sql(
            "r.submitted_at", [max(local_midnight(day), f.start) for day, _ in dated])
        whens.append(f"WHEN %s THEN {index_sql}")
        when_params += [currency, *index_params]
    interval = f"CASE r.currency {' '.join(whens)} ELSE 0 END" if whens else "0"
    sql = f"""
        SELECT c.code, c.label, x.currency, x.interval, x.blocked, x.bent, x.requests, x.value, x.valued FROM (
            SELECT h.constraint_id, r.currency, {interval} AS interval,
                   SUM(CASE WHEN h.blocked THEN 1 ELSE 0 END) AS blocked,
                   SUM(CASE WHEN h.bent THEN 1 ELSE 0 END) AS bent,
                   COUNT(*) AS requests,
                   SUM(CASE WHEN {at_stake} THEN r.deal_value ELSE 0 END) AS value,
                   SUM(CASE WHEN {at_stake} THEN 1 ELSE 0 END) AS valued
            FROM {hit_t} h JOIN ({base_sql}) r ON r.id = h.request_id
            WHERE h.submitted_at >= %s AND h.submitted_at < %s
            GROUP BY 1, 2, 3
        ) x JOIN {category_t} c ON c.id = x.constraint_id
    """  # nosec B608
    return sql, [*when_params, *base_params, dialect.adapt(f.start), dialect.adapt(f.end)]


def _rollup_sql(f: DashboardFilter, rates: Rates) -> tuple[str, list[Any]]:
    """The same rows as `_live_sql`, summed from the day rollup (PostgreSQL)."""
    day_t, category_t = ConstraintDay._meta.db_table, ConstraintCategory._meta.db_table
    whens, when_params = [], []
    for currency, dated in rates.items():
        whens.append("WHEN %s THEN width_bucket(d.day, %s::date[])")
        when_params += [currency, [max(day, f.date_from) for day, _ in dated]]
    interval = f"CASE d.currency {' '.join(whens)} ELSE 0 END" if whens else "0"
    sql = f"""
        SELECT c.code, c.label, x.currency, x.interval, x.blocked, x.bent, x.requests, x.value, x.valued FROM (
            SELECT d.constraint_id, d.currency, {interval} AS interval, SUM(d.blocked) AS blocked,
                   SUM(d.bent) AS bent, SUM(d.requests) AS requests, SUM(d.value) AS value, SUM(d.valued) AS valued
            FROM {day_t} d WHERE d.day >= %s AND d.day < %s
            GROUP BY 1, 2, 3 HAVING SUM(d.requests) <> 0
        ) x JOIN {category_t} c ON c.id = x.constraint_id
    """  # nosec B608
    return sql, [*when_params, f.date_from, f.date_to + timedelta(days=1)]
