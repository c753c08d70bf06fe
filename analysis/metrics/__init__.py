"""Dashboard metrics: every figure aggregated in the database, returned as small dataclasses.

Parts, each readable alone
--------------------------
* `filters`: the period and filters (`DashboardFilter`) and the requests they select.
* `kpis`: KPI cards for the period and the previous one, and the 26-week trend.
* `groups`: per sales team, rep and customer.
* `departments`: per department.
* `pareto`: the capability-gap Pareto.
* `lists`: the breached and at-risk lists.
* `rollup`: KPI cards, trend and departments of the unfiltered dashboard from the day rollup
  (analysis.dashboard_rollup), with percentiles from minute histograms (`histograms`).
* `promises`: promises kept, per lead and per department, and the extensions (shown by the page's
  template tag, beside the board).
* `board`: the whole dashboard in one transaction (`dashboard()`), and its JSON twin.
* `figures`: the result dataclasses; `dialect`: where PostgreSQL and SQLite differ.

Why it stays fast at a million requests (shared/PERFORMANCE.md, bench/README.md)
-----------------------------------------------------------------------------
* Every milestone, duration (business seconds, pauses already removed) and met flag is stored on
  the row when it happens (`requests_app.clocks`), so no metric needs per-row calendar math or a
  join to an event table: the dashboard is a handful of aggregates over a bounded window (the
  filter's period, the previous period of the same length, 26 weeks of trend).
* A constant number of queries whatever the data size (pinned in tests): one per part.
* Grouped figures group by integer ids only; names are joined to the few result rows afterwards.
* The Pareto reads a rollup, `ConstraintHit`, kept exact in the same transaction as every write
  that changes it (analysis.rollups).
* Without filters, every part reads rollups kept by database triggers in the writers' transactions
  (analysis.dashboard_rollup): per-day counts and business-minute histograms for the KPI cards,
  trend and departments (no sort of the window for the percentiles, which are exact to the minute);
  the promises kept per day, department and lead; the Pareto per day, constraint and currency
  (`ConstraintDay`); and the teams', reps' and customers' counts per day (`GroupDay`), a team's
  median from its histogram and only the shown reps' and customers' medians from their own
  indexes. Only the figures of "now" (open, breached, due soon, pending assessments, promises past
  due unanswered) are read live, from small partial indexes. With a filter (team, rep, customer,
  priority, department) the same figures are computed live from the requests.
* On PostgreSQL the queries run inside one transaction without JIT and with a `work_mem` that keeps
  the window's sorts in memory (`dialect.big_queries`); the rollup's small statements also without
  parallel workers, which cost more to start than they save there.

Definitions (shared/DESIGN.md is the contract; refinements documented here and on the page)
------------------------------------------------------------------------------------------
* Period: requests whose `submitted_at` is in [start, end) (local midnights); the previous period
  is the same number of days immediately before. Snapshots (open, breached, due soon) have no
  comparison with it. Every card — the "now" cards too — is computed over the requests
  submitted in the period.
* Open now: status SUBMITTED, IN_ANALYSIS or WAITING_ON_SALES.
* Breached now: SUBMITTED past its acknowledge due, or IN_ANALYSIS past its answer due. A request
  WAITING_ON_SALES has its answer clock paused (its due moves on resume), so it is not breached.
* Due in the next 24 business hours: open, not breached, and its running clock's due is at or
  before `add_business_time(default calendar, now, 24 h)` — one instant for every request, an
  approximation that ignores a request's own calendar (the default calendar is what the company
  works by; a per-row calendar would need per-row math).
* Time to acknowledge / answer: median and p90 of the stored business seconds (answer: pauses
  removed), shown in business hours.
* SLA met % = met ÷ (done + open already breached) among requests submitted in the period.
  Acknowledge: done = `acknowledge_met` set, open breached = SUBMITTED past `acknowledge_due`.
  Answer: done = `answer_met` set, open breached = IN_ANALYSIS past `answer_due`.
* Fill rate = (WON + ALTERNATIVE_ACCEPTED) ÷ closed answered requests (closed with `answered_at`).
  Evaporation rate = EVAPORATED ÷ closed answered requests (same denominator, so the two compare).
* Per department: assessments routed; median assessment business time; own due met % =
  met ÷ (assessed + pending past due on an open request); breaches = assessed late + pending past
  due on an open request; share of CANNOT = CANNOT verdicts ÷ assessments made.
* Capability-gap Pareto, per constraint category: requests it *blocked* (a CANNOT assessment
  citing it) and requests it *bent* (a published answer's alternative working around it); each
  request counts once per constraint. Value at stake = sum of `deal_value` of those requests not
  filled (outcome neither WON nor ALTERNATIVE_ACCEPTED, open ones included), in the reporting
  currency at the rate in force on each request's submission day; a deal without a rate is
  counted apart, never converted at another rate.
  Sorted by requests affected (then requests blocked); the cumulative share is over the sum of
  requests affected of all constraints. Drafts never count: an alternative bends a request only
  once its answer is published (a superseded answer still counts — Sales saw it), and a verdict
  blocks only while it says CANNOT.
"""

from analysis.metrics.board import Dashboard, dashboard
from analysis.metrics.departments import departments
from analysis.metrics.dialect import WORK_MEM, Percentile, Percentiles, percentile_cont, percentiles
from analysis.metrics.figures import (
    DepartmentRow,
    GroupRow,
    Kpi,
    ListedRequest,
    ParetoRow,
    RequestFigures,
    TrendWeek,
)
from analysis.metrics.filters import DEFAULT_PERIOD_DAYS, TREND_WEEKS, DashboardFilter
from analysis.metrics.groups import groups
from analysis.metrics.kpis import KPI_FIELDS, kpis, period_and_trend
from analysis.metrics.lists import LIST_LIMIT, breached_and_at_risk
from analysis.metrics.pareto import pareto

__all__ = [
    "DEFAULT_PERIOD_DAYS", "KPI_FIELDS", "LIST_LIMIT", "TREND_WEEKS", "WORK_MEM",
    "Dashboard", "DashboardFilter", "DepartmentRow", "GroupRow", "Kpi", "ListedRequest", "ParetoRow",
    "Percentile", "Percentiles", "RequestFigures", "TrendWeek",
    "breached_and_at_risk", "dashboard", "departments", "groups", "kpis", "pareto",
    "percentile_cont", "percentiles", "period_and_trend",
]
