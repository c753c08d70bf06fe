"""Dashboard metrics on a small hand-built data set: every expected figure is worked out by hand
in the comments next to it. Stored fields are set directly, so these tests do not depend on the
services that fill them in production; the Pareto's rollup is refreshed after each write, as the
services do (tests/analysis/test_rollups.py proves that they do)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
import time_machine

from analysis import metrics, rollups
from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, Verdict
from requests_app.clocks import default_calendar
from requests_app.models import Customer, Department, FeasibilityRequest, Outcome, Priority, Status
from tests.conftest import aware

NOW = aware(2026, 3, 18, 12)  # Wednesday 13:00 in Berlin (CET)
H = 3600
_refs = count(1)


def make_request(customer, rep, team, *, submitted, status, outcome="", deal=Decimal("1000"), currency="EUR",
                 priority=Priority.NORMAL, ack=None, ack_met=None, ack_due=None, answer=None, answer_met=None,
                 answer_due=None, answered=False) -> FeasibilityRequest:
    n = next(_refs)
    return FeasibilityRequest.objects.create(
        reference=f"S2O-T-{n:05d}", title=f"Request {n}", customer=customer, quantity=Decimal("10"),
        requested_date=date(2026, 6, 1), deal_value=deal, currency=currency, priority=priority,
        requested_by=rep, sales_team=team, status=status, outcome=outcome, submitted_at=submitted,
        acknowledge_seconds=ack, acknowledge_met=ack_met, acknowledged_at=submitted + timedelta(hours=1) if ack else None,
        acknowledge_due=ack_due or submitted + timedelta(hours=8),
        answer_seconds=answer, answer_met=answer_met, answer_due=answer_due,
        answered_at=submitted + timedelta(days=2) if answered or answer else None,
        closed_at=submitted + timedelta(days=5) if status == Status.CLOSED else None,
    )


def assess(req, code, verdict="", *, seconds=None, met=None, due=None, constraints=()) -> Assessment:
    a = Assessment.objects.create(
        request=req, department=Department.objects.get(code=code), routed_at=req.submitted_at,
        due_at=due or req.submitted_at + timedelta(days=3), verdict=verdict, assessment_seconds=seconds, met=met,
        assessed_at=req.submitted_at + timedelta(days=1) if verdict else None,
    )
    a.constraints.set(ConstraintCategory.objects.filter(code__in=constraints))
    rollups.refresh_constraint_hits([req.pk])
    return a


def alternative(req, works_around, *, published=True, number=1) -> Alternative:
    answer, _ = Answer.objects.get_or_create(
        request=req, number=number,
        defaults={"decision": "alternatives", "published_at": req.submitted_at + timedelta(days=2) if published else None},
    )
    alt = Alternative.objects.create(answer=answer, quantity=Decimal("5"), delivery_date=date(2026, 7, 1),
                                     works_around=ConstraintCategory.objects.get(code=works_around))
    rollups.refresh_constraint_hits([req.pk])
    return alt


def build_dataset(rep, other_rep, team_a, team_b, customer) -> dict[str, FeasibilityRequest]:
    """Eleven requests in the period (1–14 March 2026) and two in the previous one (15–28 Feb)."""
    bolt = Customer.objects.create(name="Bolt Ltd")
    mon, tue = aware(2026, 3, 2, 10), aware(2026, 3, 10, 10)
    closed, ia = Status.CLOSED, Status.IN_ANALYSIS
    r = {}
    r["R1"] = make_request(customer, rep, team_a, submitted=mon, status=closed, outcome=Outcome.WON,
                           ack=1 * H, ack_met=True, answer=10 * H, answer_met=True)
    r["R2"] = make_request(customer, rep, team_a, submitted=mon, status=closed, outcome=Outcome.ALTERNATIVE_ACCEPTED,
                           ack=2 * H, ack_met=True, answer=20 * H, answer_met=False)
    r["R3"] = make_request(customer, rep, team_a, submitted=mon, status=closed, outcome=Outcome.EVAPORATED,
                           deal=Decimal("10000"), ack=3 * H, ack_met=False, answer=15 * H, answer_met=True)
    r["R4"] = make_request(bolt, other_rep, team_b, submitted=mon, status=closed, outcome=Outcome.LOST,
                           deal=Decimal("5000"), ack=4 * H, ack_met=True, answer=5 * H, answer_met=True,
                           priority=Priority.HIGH)
    # In analysis past its answer-by: breached (answer clock).
    r["R5"] = make_request(customer, rep, team_a, submitted=mon, status=ia, deal=Decimal("3000"), currency="USD",
                           ack=5 * H, ack_met=True, answer_due=aware(2026, 3, 17, 9))
    # In analysis, due before the 24-business-hour horizon: at risk.
    r["R6"] = make_request(customer, rep, team_a, submitted=tue, status=ia, ack=6 * H, ack_met=True,
                           answer_due=aware(2026, 3, 20, 10))
    # Not acknowledged past its acknowledge due: breached (acknowledge clock).
    r["R7"] = make_request(customer, rep, team_a, submitted=tue, status=Status.SUBMITTED, ack_due=aware(2026, 3, 10, 18))
    # Waiting on Sales: the answer clock is paused, so a due in the past is not a breach.
    r["R8"] = make_request(customer, rep, team_a, submitted=tue, status=Status.WAITING_ON_SALES, ack=7 * H,
                           ack_met=True, answer_due=aware(2026, 3, 16, 9))
    # Withdrawn before any answer: not in the fill-rate denominator, nor in either SLA.
    r["R9"] = make_request(customer, rep, team_a, submitted=tue, status=closed, outcome=Outcome.WITHDRAWN)
    # Not acknowledged yet, due soon: at risk (acknowledge clock).
    r["R10"] = make_request(customer, rep, team_a, submitted=tue, status=Status.SUBMITTED,
                            ack_due=aware(2026, 3, 18, 14))
    # In analysis, due after the horizon (Mon 23 Mar 11:00 UTC): neither breached nor at risk.
    r["R11"] = make_request(customer, rep, team_a, submitted=tue, status=ia, ack=8 * H, ack_met=False,
                            answer_due=aware(2026, 3, 24, 10))
    # Previous period.
    r["P1"] = make_request(customer, rep, team_a, submitted=aware(2026, 2, 16, 10), status=closed, outcome=Outcome.WON,
                           ack=2 * H, ack_met=True, answer=10 * H, answer_met=True)
    r["P2"] = make_request(customer, rep, team_a, submitted=aware(2026, 2, 23, 10), status=closed,
                           outcome=Outcome.LOST, ack=4 * H, ack_met=False, answer=30 * H, answer_met=False)
    # Outside both periods: never counted.
    make_request(customer, rep, team_a, submitted=aware(2026, 1, 5, 10), status=closed, outcome=Outcome.WON,
                 ack=50 * H, ack_met=False, answer=90 * H, answer_met=False)

    assess(r["R1"], "procurement", Verdict.CAN, seconds=2 * H, met=True)
    assess(r["R2"], "procurement", Verdict.CANNOT, seconds=10 * H, met=False, constraints=["material"])
    assess(r["R2"], "manufacturing", Verdict.CAN_WITH_CONDITIONS, seconds=4 * H, met=True)
    assess(r["R3"], "manufacturing", Verdict.CANNOT, seconds=6 * H, met=True, constraints=["machine_capacity", "tooling"])
    assess(r["R4"], "shipping", Verdict.CANNOT, seconds=1 * H, met=True, constraints=["material"])
    assess(r["R5"], "manufacturing", due=aware(2026, 3, 16, 9))  # pending past due on an open request: a breach
    assess(r["R6"], "procurement", due=aware(2026, 3, 25, 9))  # pending, not yet due: not counted
    alternative(r["R3"], "material")
    alternative(r["R3"], "tooling")  # R3 is also blocked by tooling: still one request for tooling
    alternative(r["R1"], "tooling")
    alternative(r["R5"], "tooling")
    alternative(r["R6"], "tooling", published=False)  # a draft answer bends nothing yet
    return r


PERIOD = metrics.DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 14))


@pytest.fixture
def dataset(rep, other_rep, team_a, team_b, customer):
    return build_dataset(rep, other_rep, team_a, team_b, customer)


def board(f: metrics.DashboardFilter = PERIOD) -> metrics.Dashboard:
    return metrics.dashboard(f, now=NOW, work_calendar=default_calendar().as_work_calendar())


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_previous_period_has_the_same_length_just_before():
    assert PERIOD.start == aware(2026, 2, 28, 23)  # 1 March 00:00 in Berlin
    assert PERIOD.end == aware(2026, 3, 14, 23)
    assert PERIOD.previous_start == aware(2026, 2, 14, 23)


def test_the_default_period_is_the_last_90_days_up_to_today():
    f = metrics.DashboardFilter.default(today=date(2026, 3, 18))
    assert (f.date_from, f.date_to) == (date(2025, 12, 19), date(2026, 3, 18))


def test_due_soon_horizon_is_24_business_hours_on_the_default_calendar(db):
    # Wed 13:00 → Wed 17:00 (4 h) + Thu (8 h) + Fri (8 h) + Mon 08:00–12:00 (4 h) = Mon 23 Mar 12:00 CET.
    assert board().soon == aware(2026, 3, 23, 11)


def test_open_breached_and_due_soon_now(dataset):
    now = board().current
    assert now.filed == 11
    assert now.open_now == 6  # R5 R6 R7 R8 R10 R11
    assert now.breached_now == 2  # R5 (answer) and R7 (acknowledge); R8 is paused
    assert now.due_soon == 2  # R6 (answer) and R10 (acknowledge); R11 is due after the horizon


def test_time_to_acknowledge_median_and_p90(dataset):
    # Acknowledged: 1, 2, 3, 4, 5, 6, 7, 8 h. Median = (4 + 5) / 2 = 4.5; p90 at rank 0.9 × 7 = 6.3 → 7 + 0.3 × 1 = 7.3.
    cur = board().current
    assert (cur.ack_median_hours, cur.ack_p90_hours) == (4.5, 7.3)


def test_time_to_answer_median_and_p90(dataset):
    # Answered: 5, 10, 15, 20 h (pauses already removed). Median = 12.5; p90 at rank 2.7 → 15 + 0.7 × 5 = 18.5.
    cur = board().current
    assert (cur.answer_median_hours, cur.answer_p90_hours) == (12.5, 18.5)


def test_sla_met_counts_done_plus_open_breached_but_not_open_within_time_nor_paused(dataset):
    cur = board().current
    # Acknowledge: met R1 R2 R4 R5 R6 R8 = 6; done 8 (R1–R6, R8, R11) + open breached R7 = 9 → 66.7 %.
    assert (cur.ack_met, cur.ack_counted, cur.ack_met_pct) == (6, 9, 66.7)
    # Answer: met R1 R3 R4 = 3; done 4 + open breached R5 = 5 → 60 %. R8 (paused) and R6, R11 (in time) not counted.
    assert (cur.answer_met, cur.answer_counted, cur.answer_met_pct) == (3, 5, 60.0)


def test_fill_and_evaporation_rates_are_over_closed_answered_requests(dataset):
    cur = board().current
    # Closed with an answer: R1 (won) R2 (alternative accepted) R3 (evaporated) R4 (lost); R9 withdrawn unanswered.
    assert (cur.closed_answered, cur.fill_rate, cur.evaporation_rate) == (4, 50.0, 25.0)


def test_each_kpi_shows_the_change_against_the_previous_period(dataset):
    kpis = {k.key: k for k in board().kpis}
    # Previous: ack 2 h and 4 h → median 3; answer 10 h and 30 h → median 20; one of two filled.
    assert (kpis["ack_median_hours"].previous, kpis["ack_median_hours"].change) == (3.0, 1.5)
    assert kpis["ack_median_hours"].improved is False
    assert (kpis["answer_median_hours"].previous, kpis["answer_median_hours"].change) == (20.0, -7.5)
    assert kpis["answer_median_hours"].improved is True
    assert (kpis["fill_rate"].previous, kpis["fill_rate"].change) == (50.0, 0.0)
    assert (kpis["answer_met_pct"].previous, kpis["answer_met_pct"].change) == (50.0, 10.0)
    # A snapshot has no previous period: the previous period's requests open *now* would say "+6 vs 0".
    assert (kpis["open_now"].value, kpis["open_now"].previous, kpis["open_now"].change) == (6, None, None)
    assert kpis["breached_now"].snapshot and kpis["due_soon"].previous is None


def test_weekly_trend_covers_26_weeks_ending_with_the_period(dataset):
    trend = board().trend
    assert len(trend) == 26
    assert trend[-1].week == date(2026, 3, 9)
    assert trend[0].week == date(2026, 3, 9) - timedelta(weeks=25)
    by_week = {w.week: w for w in trend}
    week = by_week[date(2026, 3, 2)]  # R1–R5
    assert (week.filed, week.answer_median_hours, week.answer_met_pct) == (5, 12.5, 60.0)
    assert by_week[date(2026, 3, 9)].filed == 6
    assert by_week[date(2026, 2, 16)].answer_median_hours == 10.0
    assert by_week[date(2026, 1, 5)].filed == 1
    assert by_week[date(2026, 1, 12)].filed == 0 and by_week[date(2026, 1, 12)].answer_met_pct is None


def test_per_department_figures(dataset):
    rows = {d.department: d for d in board().departments}
    p, m, s = rows["Procurement"], rows["Manufacturing"], rows["Shipping"]
    # Procurement: R1 (2 h, met), R2 (10 h, late, CANNOT), R6 pending and not yet due.
    assert (p.routed, p.median_hours, p.met_pct, p.breaches, p.cannot_share) == (3, 6.0, 50.0, 1, 50.0)
    # Manufacturing: R2 (4 h, met), R3 (6 h, met, CANNOT), R5 pending past due on an open request.
    assert (m.routed, m.median_hours, m.met_pct, m.breaches, m.cannot_share) == (3, 5.0, 66.7, 1, 50.0)
    assert (s.routed, s.median_hours, s.met_pct, s.breaches, s.cannot_share) == (1, 1.0, 100.0, 0, 100.0)
    assert "Stores" not in rows


def test_department_figures_follow_the_request_filters(dataset, rep, team_b):
    def routed(**filters) -> dict[str, int]:
        f = metrics.DashboardFilter(date_from=PERIOD.date_from, date_to=PERIOD.date_to, **filters)
        return {d.department: d.routed for d in board(f).departments}

    assert routed(sales_team=team_b.pk) == {"Shipping": 1}  # R4 only
    assert routed(priority=Priority.HIGH) == {"Shipping": 1}
    assert routed(rep=rep.pk) == {"Procurement": 3, "Manufacturing": 3}
    assert routed(customer=Customer.objects.get(name="Bolt Ltd").pk) == {"Shipping": 1}


def test_department_figures_count_the_period_by_submission_and_breaches_only_on_open_requests(dataset):
    stores = Department.objects.get(code="stores")
    # Routed inside the period, but for a request submitted in the previous one: not this period's.
    Assessment.objects.create(request=dataset["P2"], department=stores, routed_at=aware(2026, 3, 2, 9),
                              verdict=Verdict.CAN, assessment_seconds=H, met=True, assessed_at=aware(2026, 3, 2, 10))
    # Pending past its due on a request withdrawn since: not a breach, not counted in met %.
    Assessment.objects.create(request=dataset["R9"], department=stores, routed_at=dataset["R9"].submitted_at,
                              due_at=aware(2026, 3, 11, 9))
    row = {d.department: d for d in board().departments}["Stores"]
    assert (row.routed, row.assessed, row.breaches, row.counted, row.met_pct) == (1, 0, 0, 0, None)
    previous = metrics.DashboardFilter(date_from=date(2026, 2, 15), date_to=date(2026, 2, 28))
    assert [(d.department, d.routed) for d in board(previous).departments] == [("Stores", 1)]


def test_per_team_rep_and_customer(dataset):
    b = board()
    teams = {g.label: g for g in b.teams}
    north, south = teams["Team North"], teams["Team South"]
    # North: 10 requests; closed answered R1 R2 R3 → 2 filled, 1 evaporated; answers 10, 20, 15 h → median 15.
    assert (north.requests, north.fill_rate, north.evaporation_rate, north.answer_median_hours) == (10, 66.7, 33.3, 15.0)
    assert (south.requests, south.fill_rate, south.evaporation_rate, south.answer_median_hours) == (1, 0.0, 0.0, 5.0)
    assert [(g.label, g.requests) for g in b.reps] == [("Rita", 10), ("Olga", 1)]
    assert [(g.label, g.requests) for g in b.customers] == [("Acme Industrial", 10), ("Bolt Ltd", 1)]


def test_pareto_counts_each_request_once_per_constraint_and_sums_value_not_filled(dataset):
    rows = board().pareto
    assert [r.code for r in rows] == ["material", "tooling", "machine_capacity"]
    material, tooling, machine = rows
    # material: blocked R2 (filled) and R4 (lost, 5,000), bent R3 (evaporated, 10,000).
    assert (material.blocked, material.bent, material.requests) == (2, 1, 3)
    assert material.value_at_stake == Decimal("15000.00")
    # tooling: blocked R3; bent R3 (same request, counted once), R1 (won), R5 (open, 3,000 USD); R6's draft ignored.
    assert (tooling.blocked, tooling.bent, tooling.requests) == (1, 3, 3)
    # R5's 3,000 USD has no exchange rate (tests/analysis/test_dashboard_money.py converts it): left out, counted.
    assert (tooling.value_at_stake, tooling.unconverted, tooling.unconverted_currencies) == (
        Decimal("10000.00"), 1, ["USD"])
    assert (machine.blocked, machine.bent, machine.requests) == (1, 0, 1)
    # Seven hits in all: 3 / 7, 6 / 7, 7 / 7. Material before tooling: same requests, more blocked.
    assert [r.cumulative_pct for r in rows] == [42.9, 85.7, 100.0]


def test_breached_and_at_risk_lists_are_ordered_by_due(dataset):
    b = board()
    assert [(x.reference, x.clock) for x in b.breached] == [
        (dataset["R7"].reference, "acknowledge"), (dataset["R5"].reference, "answer")]
    assert [(x.reference, x.clock) for x in b.at_risk] == [
        (dataset["R10"].reference, "acknowledge"), (dataset["R6"].reference, "answer")]


@pytest.mark.parametrize(
    ("changes", "filed"),
    [
        ({"sales_team": "team_b"}, 1),
        ({"rep": "rep"}, 10),
        ({"customer": "bolt"}, 1),
        ({"priority": Priority.HIGH}, 1),
        ({"department": "shipping"}, 1),
        ({"department": "manufacturing"}, 3),
        ({"date_from": date(2026, 3, 9)}, 6),
    ],
)
def test_filters_narrow_every_figure(dataset, rep, team_b, changes, filed):
    values = {
        "sales_team": lambda v: team_b.pk, "rep": lambda v: rep.pk,
        "customer": lambda v: Customer.objects.get(name="Bolt Ltd").pk,
        "department": lambda v: Department.objects.get(code=v).pk,
    }
    kwargs = {k: values.get(k, lambda v: v)(v) for k, v in changes.items()}
    f = metrics.DashboardFilter(**{"date_from": PERIOD.date_from, "date_to": PERIOD.date_to, **kwargs})
    b = board(f)
    assert b.current.filed == filed
    assert sum(t.requests for t in b.teams) == filed
    if "department" in changes:
        assert [d.department for d in b.departments] == [Department.objects.get(code=changes["department"]).name]


def test_department_filter_restricts_the_pareto_to_requests_routed_there(dataset):
    f = metrics.DashboardFilter(date_from=PERIOD.date_from, date_to=PERIOD.date_to,
                                department=Department.objects.get(code="shipping").pk)
    assert [(r.code, r.requests) for r in board(f).pareto] == [("material", 1)]


def test_percentile_matches_postgresql_interpolation():
    assert metrics.percentile_cont([1, 2, 3, 4], 0.5) == 2.5
    assert metrics.percentile_cont([5, 10, 15, 20], 0.9) == pytest.approx(18.5)
    assert metrics.percentile_cont([7], 0.9) == 7
    assert metrics.percentile_cont([], 0.5) is None


def test_bucket_edges_follow_local_midnights(rep, team_a, customer):
    """Each bucket is [start, end) in local time: a request at the period's first local midnight is in
    the period, one a microsecond earlier in the previous period; the same at a Monday's midnight for
    the trend's weeks (Berlin is UTC+1 in March before the 29th)."""
    start = aware(2026, 2, 28, 23)  # Sunday 1 March 00:00 in Berlin: the period's start
    just_before = start - timedelta(microseconds=1)
    monday = aware(2026, 3, 8, 23)  # Monday 9 March 00:00 in Berlin
    for submitted in (start, just_before, monday, monday - timedelta(microseconds=1)):
        make_request(customer, rep, team_a, submitted=submitted, status=Status.CLOSED, outcome=Outcome.WON,
                     ack=H, ack_met=True, answer=2 * H, answer_met=True)
    d = board()
    assert (d.current.filed, d.previous.filed) == (3, 1)
    weeks = {w.week: w.filed for w in d.trend if w.filed}
    # 23 Feb–1 Mar holds both requests around the period start; 2–8 Mar the one just before Monday.
    assert weeks == {date(2026, 2, 23): 2, date(2026, 3, 2): 1, date(2026, 3, 9): 1}
