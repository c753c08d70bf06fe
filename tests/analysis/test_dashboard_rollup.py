"""The dashboard's day rollup: kept exact by the database whatever writes, checked and rebuilt by a
command, and giving the same figures as the live queries (percentiles to the minute)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from analysis import dashboard_rollup, metrics, rollups
from analysis.metrics import rollup
from analysis.metrics.groups import groups
from analysis.metrics.histograms import Histogram
from analysis.metrics.pareto import pareto
from analysis.metrics.promises import promises
from analysis.models import Assessment, ConstraintDay, ConstraintHit, DayFigure, GroupDay
from requests_app.clocks import default_calendar
from requests_app.models import (
    Customer,
    Department,
    ExchangeRate,
    FeasibilityRequest,
    Outcome,
    RequestEvent,
    Role,
    Status,
)
from tests.analysis.test_metrics import alternative, assess, make_request
from tests.conftest import aware, make_user

MINUTE = 60


def histogram_of(values: list[int]) -> Histogram:
    h = Histogram(hours={})
    for v in values:
        h.hours[v // 3600] = h.hours.get(v // 3600, 0) + 1
        h.minutes[v // 60] = h.minutes.get(v // 60, 0) + 1
    return h


def test_a_histogram_percentile_is_percentile_cont_of_the_values_in_whole_minutes():
    rng = random.Random(7)
    for size in (1, 2, 3, 10, 101, 1000):
        values = [rng.randint(0, 300 * 3600) for _ in range(size)]
        h = histogram_of(values)
        for fraction in (0.0, 0.1, 0.5, 0.9, 1.0):
            floored = metrics.percentile_cont([v // 60 * 60 for v in values], fraction)
            assert h.percentile_seconds(fraction) == pytest.approx(floored)
            assert abs(h.percentile_seconds(fraction) - metrics.percentile_cont(values, fraction)) < MINUTE
    # Whole hours (as in the hand-built data of test_metrics) come out exact.
    assert histogram_of([5 * 3600, 10 * 3600, 15 * 3600, 20 * 3600]).percentile_seconds(0.9) == 18.5 * 3600
    assert Histogram(hours={}).percentile_seconds(0.5) is None


def test_only_the_hours_a_percentile_falls_in_are_read():
    h = Histogram(hours={1: 10, 2: 10, 7: 1})
    assert h.hours_needed((0.5,)) == {2}  # ranks 10 and 11 are both in hour 2
    assert h.hours_needed((0.9,)) == {2}  # ranks 18 and 19
    assert h.hours_needed((1.0,)) == {7}


def differences() -> int:
    count, examples = dashboard_rollup.differences()
    assert count == 0, examples
    return count


def test_the_rollup_follows_every_write_and_every_rollback(postgres_only, rep, team_a, customer):
    req = make_request(customer, rep, team_a, submitted=aware(2026, 3, 2, 22, 30), status=Status.IN_ANALYSIS,
                       ack=3 * 3600 + 125, ack_met=True)
    differences()
    # 22:30 UTC on 2 March is 23:30 in Berlin: still the 2nd there.
    assert DayFigure.objects.get(kind=DayFigure.Kind.FILED, scope=0).day == date(2026, 3, 2)
    FeasibilityRequest.objects.filter(pk=req.pk).update(status=Status.CLOSED, outcome=Outcome.WON,
                                                        answered_at=timezone.now(), answer_seconds=7200, answer_met=True)
    differences()
    assessment = Assessment.objects.create(request=req, department=Department.objects.get(code="shipping"),
                                           request_submitted_at=req.submitted_at, routed_at=req.submitted_at,
                                           assessment_seconds=4000, met=False, verdict="cannot",
                                           assessed_at=req.submitted_at)
    differences()
    Assessment.objects.filter(pk=assessment.pk).update(department=Department.objects.get(code="stores"))
    differences()
    with pytest.raises(RuntimeError), transaction.atomic():
        FeasibilityRequest.objects.filter(pk=req.pk).update(answer_seconds=99999)
        raise RuntimeError("rolled back")
    differences()
    FeasibilityRequest.objects.filter(pk=req.pk).update(title="A title change writes nothing to the rollup")
    differences()
    req.delete()  # and its assessment with it
    differences()
    assert not DayFigure.objects.exclude(n=0).exists()


def test_the_command_checks_and_rebuilds(postgres_only, rep, team_a, customer):
    make_request(customer, rep, team_a, submitted=aware(2026, 3, 2, 10), status=Status.CLOSED, outcome=Outcome.WON,
                 ack=3600, ack_met=True, answer=7200, answer_met=True)
    call_command("dashboard_rollup", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE analysis_dayfigure SET n = n + 1 WHERE kind = %s", [DayFigure.Kind.FILED])
    with pytest.raises(CommandError, match="day-rollup rows differ"):
        call_command("dashboard_rollup", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("dashboard_rollup", rebuild=True, stdout=out)
    assert "Rebuilt the day rollup (Europe/Berlin days)" in out.getvalue()
    call_command("dashboard_rollup", stdout=StringIO())


def test_a_user_in_another_time_zone_or_a_narrowed_filter_reads_live(postgres_only, db):
    f = metrics.DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 14))
    assert rollup.usable(f)
    with timezone.override("America/New_York"):
        assert not rollup.usable(f)  # the rollup's days are Berlin days
    assert not rollup.usable(metrics.DashboardFilter(date_from=f.date_from, date_to=f.date_to, priority="high"))


def same_figures(board_a: metrics.Dashboard, board_b: metrics.Dashboard) -> None:
    """Counts equal; percentiles within a minute (the rollup rounds values down to the minute)."""

    def close(a: float | None, b: float | None) -> bool:
        return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < MINUTE)

    for mine, theirs in ((board_a.current, board_b.current), (board_a.previous, board_b.previous)):
        for name in ("filed", "open_now", "breached_now", "due_soon", "ack_met", "ack_counted", "answer_met",
                     "answer_counted", "closed_answered", "filled", "evaporated", "answered"):
            assert getattr(mine, name) == getattr(theirs, name), name
        for key in ("ack_p50", "ack_p90", "answer_p50", "answer_p90"):
            assert close(mine.seconds[key], theirs.seconds[key]), (key, mine.seconds[key], theirs.seconds[key])
    assert len(board_a.trend) == len(board_b.trend) == 26
    for a, b in zip(board_a.trend, board_b.trend, strict=True):
        assert (a.week, a.filed, a.answered, a.answer_met_pct, a.ack_met_pct) == (
            b.week, b.filed, b.answered, b.answer_met_pct, b.ack_met_pct)
        assert close(a.answer_median_seconds, b.answer_median_seconds), a.week
    assert [(d.department, d.routed, d.assessed, d.met, d.counted, d.breaches, d.cannot) for d in board_a.departments] == [
        (d.department, d.routed, d.assessed, d.met, d.counted, d.breaches, d.cannot) for d in board_b.departments]
    for a, b in zip(board_a.departments, board_b.departments, strict=True):
        assert close(a.median_seconds, b.median_seconds), a.department
    assert board_a.pareto == board_b.pareto  # every count, sum of money and share, to the cent
    for rows_a, rows_b in ((board_a.teams, board_b.teams), (board_a.reps, board_b.reps),
                           (board_a.customers, board_b.customers)):
        assert [(r.key, r.label, r.requests, r.closed_answered, r.filled, r.evaporated) for r in rows_a] == [
            (r.key, r.label, r.requests, r.closed_answered, r.filled, r.evaporated) for r in rows_b]
    for a, b in zip(board_a.teams, board_b.teams, strict=True):
        assert close(a.answer_median_seconds, b.answer_median_seconds), a.label  # a histogram's, to the minute
    for a, b in zip(board_a.reps + board_a.customers, board_b.reps + board_b.customers, strict=True):
        assert a.answer_median_seconds == b.answer_median_seconds, a.label  # from the requests themselves


def test_on_generated_data_the_rollup_gives_the_live_figures_to_the_minute(postgres_only, db):
    call_command("generate_requests", 3000, customers=40, reps=6, teams=2, stdout=StringIO())
    differences()  # the generator rebuilt the rollup after its bulk inserts
    today = timezone.localdate()
    # Rates that change inside the periods, one currency converted only from the middle of the
    # default period on, one never: each request at the rate of its own day, or counted apart.
    for currency, days_ago, value in (("USD", 3000, "0.91"), ("USD", 40, "0.87"), ("USD", 300, "0.95"), ("GBP", 45, "1.17")):
        ExchangeRate.objects.create(currency=currency, valid_from=today - timedelta(days=days_ago), rate=Decimal(value),
                                    reporting_currency="EUR")
    now = timezone.now()
    calendar = default_calendar().as_work_calendar()
    periods = [
        metrics.DashboardFilter.default(today=today),
        metrics.DashboardFilter(date_from=today - timedelta(days=400), date_to=today - timedelta(days=200)),
        metrics.DashboardFilter(date_from=date(2026, 3, 20), date_to=date(2026, 4, 5)),  # across the clock change
        metrics.DashboardFilter(date_from=today, date_to=today),
    ]
    for f in periods:
        fast = metrics.dashboard(f, now=now, work_calendar=calendar, use_rollup=True)
        live = metrics.dashboard(f, now=now, work_calendar=calendar, use_rollup=False)
        same_figures(fast, live)
    default = metrics.dashboard(periods[0], now=now, work_calendar=calendar, use_rollup=True)
    assert default.current.filed > 100 and default.current.seconds["answer_p50"] and default.departments
    # CHF has no rate and USD one for every day. Whether some GBP is counted apart depends on the days
    # of the top constraint's GBP requests: it varied with the tests run before this one (it failed
    # after the mutation run's selection, with GBP all converted); the rollup = live check is above.
    top = default.pareto[0]
    assert top.converted and "CHF" in top.unconverted_currencies and "USD" not in top.unconverted_currencies
    assert len(default.teams) == 2 and len(default.reps) == 6 and len(default.customers) == 40
    assert all(row.answer_median_seconds for row in default.teams + default.reps + default.customers)
    # The page asks for the medians of the rows it shows only.
    page = metrics.dashboard(periods[0], now=now, work_calendar=calendar, use_rollup=True, group_rows=3)
    assert [r.answer_median_seconds for r in page.reps[:3] + page.customers[:3]] == [
        r.answer_median_seconds for r in default.reps[:3] + default.customers[:3]]
    assert {r.answer_median_hours for r in page.reps[3:] + page.customers[3:]} == {None}
    assert [r.answer_median_seconds for r in page.teams] == [r.answer_median_seconds for r in default.teams]




def test_an_empty_period_has_the_same_blank_percentiles_live_and_rolled_up(postgres_only, rep, team_a, customer):
    # Something filed in March only: the period before it and the one after are empty.
    make_request(customer, rep, team_a, submitted=aware(2026, 3, 2, 10), status=Status.CLOSED, outcome=Outcome.WON,
                 ack=3600, ack_met=True, answer=7200, answer_met=True)
    calendar = default_calendar().as_work_calendar()
    empty = metrics.DashboardFilter(date_from=date(2025, 6, 1), date_to=date(2025, 6, 30))
    now = aware(2026, 3, 20, 12)
    fast = metrics.dashboard(empty, now=now, work_calendar=calendar, use_rollup=True)
    live = metrics.dashboard(empty, now=now, work_calendar=calendar, use_rollup=False)
    for board in (fast, live):
        assert board.current.filed == board.previous.filed == 0
        assert board.previous.seconds == {"ack_p50": None, "ack_p90": None, "answer_p50": None, "answer_p90": None}
    same_figures(fast, live)


# --- promises kept ---------------------------------------------------------------------------------

K = DayFigure.Kind
MARCH = metrics.DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))


def promise_rows(f: metrics.DashboardFilter, *, now, use_rollup: bool) -> tuple:
    p = promises(f, now=now, use_rollup=use_rollup)
    return ((p.overall.kept, p.overall.counted), [(r.key, r.label, r.kept, r.counted) for r in p.per_lead],
            [(r.key, r.label, r.kept, r.counted) for r in p.per_department])


def same_promises(f: metrics.DashboardFilter, now) -> tuple:
    rolled_up = promise_rows(f, now=now, use_rollup=True)
    assert rolled_up == promise_rows(f, now=now, use_rollup=False)
    return rolled_up


def promised_request(customer, rep, team, **fields) -> FeasibilityRequest:
    req = make_request(customer, rep, team, submitted=aware(2026, 3, 2, 10), status=Status.IN_ANALYSIS,
                       ack=3600, ack_met=True)
    FeasibilityRequest.objects.filter(pk=req.pk).update(answer_due_promised=aware(2026, 3, 9, 10), **fields)
    return req


def test_the_promise_rollup_follows_the_request_its_assessments_and_its_acknowledgement(
        postgres_only, rep, team_a, customer, ops_lead):
    now = aware(2026, 3, 20, 12)
    shipping, stores = Department.objects.get(code="shipping"), Department.objects.get(code="stores")
    req = promised_request(customer, rep, team_a)
    differences()
    assert same_promises(MARCH, now) == ((0, 1), [], [])  # unanswered past its promise: broken, live
    ack = RequestEvent.objects.create(request=req, kind=RequestEvent.Kind.ACKNOWLEDGED, actor=ops_lead)
    RequestEvent.objects.create(request=req, kind=RequestEvent.Kind.COMMENTED, actor=ops_lead)  # not a promise
    assessment = Assessment.objects.create(request=req, department=shipping, request_submitted_at=req.submitted_at,
                                           routed_at=req.submitted_at, due_at=req.submitted_at)
    differences()
    lead, department = (ops_lead.pk, "Lena"), (shipping.pk, "Shipping")
    assert same_promises(MARCH, now) == ((0, 1), [(*lead, 0, 1)], [(*department, 0, 1)])

    FeasibilityRequest.objects.filter(pk=req.pk).update(answered_at=aware(2026, 3, 9, 10), status=Status.ANSWERED)
    differences()
    assert same_promises(MARCH, now) == ((1, 1), [(*lead, 1, 1)], [(*department, 1, 1)])
    FeasibilityRequest.objects.filter(pk=req.pk).update(answered_at=aware(2026, 3, 9, 10, 1))  # a minute late
    differences()
    assert same_promises(MARCH, now) == ((0, 1), [(*lead, 0, 1)], [(*department, 0, 1)])

    Assessment.objects.filter(pk=assessment.pk).update(department=stores)
    differences()
    assert same_promises(MARCH, now)[2] == [(stores.pk, "Stores", 0, 1)]
    RequestEvent.objects.filter(pk=ack.pk).update(actor=None)  # the lead's user deleted
    differences()
    assert same_promises(MARCH, now)[1] == []
    RequestEvent.objects.filter(pk=ack.pk).update(actor=ops_lead)
    with pytest.raises(RuntimeError), transaction.atomic():
        Assessment.objects.create(request=req, department=shipping, request_submitted_at=req.submitted_at,
                                  routed_at=req.submitted_at, due_at=req.submitted_at)
        FeasibilityRequest.objects.filter(pk=req.pk).update(answer_due_promised=None)
        raise RuntimeError("rolled back")
    differences()
    FeasibilityRequest.objects.filter(pk=req.pk).update(submitted_at=aware(2026, 2, 27, 10))  # into February
    differences()
    assert same_promises(MARCH, now) == ((0, 0), [], [])
    FeasibilityRequest.objects.filter(pk=req.pk).update(submitted_at=aware(2026, 3, 2, 10), status=Status.DRAFT)
    differences()
    assert same_promises(MARCH, now) == ((0, 0), [], [])  # drafts never count
    FeasibilityRequest.objects.filter(pk=req.pk).update(status=Status.ANSWERED)
    other = promised_request(customer, rep, team_a)
    RequestEvent.objects.filter(pk=ack.pk).update(request=other)
    RequestEvent.objects.filter(pk=ack.pk).update(kind=RequestEvent.Kind.COMMENTED)
    differences()
    assert same_promises(MARCH, now) == ((0, 2), [], [(stores.pk, "Stores", 0, 1)])

    # The request deleted before its assessments and events (foreign keys are checked at commit):
    # each side's trigger counts with what is left of the other, so nothing is left over.
    with connection.cursor() as cursor:
        for table in ("analysis_constrainthit", "requests_app_clockevent"):
            cursor.execute(f"DELETE FROM {table} WHERE request_id IN (%s, %s)", [req.pk, other.pk])  # nosec B608
        cursor.execute("DELETE FROM requests_app_feasibilityrequest WHERE id IN (%s, %s)", [req.pk, other.pk])
        cursor.execute("DELETE FROM analysis_assessment WHERE request_id IN (%s, %s)", [req.pk, other.pk])
        cursor.execute("DELETE FROM requests_app_requestevent WHERE request_id IN (%s, %s)", [req.pk, other.pk])
    differences()
    assert not DayFigure.objects.exclude(n=0).exists()


def test_the_command_finds_a_drifted_promise_row_and_the_rebuild_mends_it(postgres_only, rep, team_a, customer,
                                                                           ops_lead):
    req = promised_request(customer, rep, team_a, answered_at=aware(2026, 3, 5, 10), status=Status.ANSWERED)
    RequestEvent.objects.create(request=req, kind=RequestEvent.Kind.ACKNOWLEDGED, actor=ops_lead)
    Assessment.objects.create(request=req, department=Department.objects.get(code="stores"),
                              request_submitted_at=req.submitted_at, routed_at=req.submitted_at, due_at=req.submitted_at)
    call_command("dashboard_rollup", stdout=StringIO())
    for drift, described in (
        (f"UPDATE analysis_dayfigure SET n = n + 1 WHERE kind = {K.LEAD_PROMISE_KEPT}",
         ["missing: {'kind': 52", "unexpected: {'kind': 52"]),  # the row as it should be, the row as it is
        (f"DELETE FROM analysis_dayfigure WHERE kind = {K.DEPARTMENT_PROMISED}", ["missing: {'kind': 40"]),
    ):
        with connection.cursor() as cursor:
            cursor.execute(drift)
        err = StringIO()
        with pytest.raises(CommandError, match=f"^{len(described)} day-rollup rows differ"):
            call_command("dashboard_rollup", stdout=StringIO(), stderr=err)
        assert [line.split(", 'scope'")[0] for line in err.getvalue().splitlines()] == [
            f"analysis_dayfigure {d}" for d in described]
        call_command("dashboard_rollup", rebuild=True, stdout=StringIO())
        call_command("dashboard_rollup", stdout=StringIO())
        assert same_promises(MARCH, aware(2026, 3, 20)) == ((1, 1), [(ops_lead.pk, "Lena", 1, 1)],
                                                           [(Department.objects.get(code="stores").pk, "Stores", 1, 1)])


def test_on_generated_data_the_promises_kept_are_the_same_from_the_rollup(postgres_only, db):
    call_command("generate_requests", 3000, customers=40, reps=6, teams=2, stdout=StringIO())
    leads = [make_user(f"lead{i}", Role.OPS_LEAD) for i in range(3)]
    # The generator writes no events: give acknowledged requests their acknowledgement, one in
    # seven without an actor (a deleted user), a few with a second one (a request acknowledged again).
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO requests_app_requestevent (request_id, kind, actor_id, from_status, to_status, message, data, at)
            SELECT r.id, 'acknowledged', CASE WHEN r.id %% 7 = 0 THEN NULL ELSE (%s::bigint[])[1 + r.id %% 3] END,
                   'submitted', 'in_analysis', '', '{}', r.acknowledged_at
            FROM requests_app_feasibilityrequest r, generate_series(1, CASE WHEN r.id %% 50 = 0 THEN 2 ELSE 1 END)
            WHERE r.acknowledged_at IS NOT NULL""", [[u.pk for u in leads]])
    differences()
    today = timezone.localdate()
    periods = [metrics.DashboardFilter.default(today=today),
               metrics.DashboardFilter(date_from=today - timedelta(days=400), date_to=today - timedelta(days=200)),
               metrics.DashboardFilter(date_from=today - timedelta(days=20), date_to=today)]
    for f in periods:
        for now in (timezone.now(), timezone.now() - timedelta(days=10), timezone.now() + timedelta(days=30)):
            same_promises(f, now)
    (kept, counted), per_lead, per_department = same_promises(periods[0], timezone.now())
    assert 0 < kept < counted and len(per_lead) == 3 and len(per_department) == 4


# --- the Pareto's days -------------------------------------------------------------------------------


def pareto_rows(f: metrics.DashboardFilter = MARCH) -> list[tuple]:
    rolled_up, live = pareto(f, use_rollup=True), pareto(f, use_rollup=False)
    assert rolled_up == live
    return [(r.code, r.blocked, r.bent, r.requests, r.value_at_stake, r.unconverted) for r in rolled_up]


def test_the_pareto_days_follow_the_hits_and_the_requests_outcome_value_and_currency(postgres_only, rep, team_a,
                                                                                    customer):
    ExchangeRate.objects.create(currency="USD", valid_from=date(2026, 3, 5), rate=Decimal("0.5"), reporting_currency="EUR")
    req = make_request(customer, rep, team_a, submitted=aware(2026, 3, 2, 10), status=Status.IN_ANALYSIS,
                       deal=Decimal("1000.50"))
    differences()
    assess(req, "procurement", "cannot", constraints=["material", "tooling"])  # the hits, through the service's refresh
    differences()
    assert pareto_rows() == [("material", 1, 0, 1, Decimal("1000.50"), 0), ("tooling", 1, 0, 1, Decimal("1000.50"), 0)]
    alternative(req, "material")  # bent too: still one request for material
    differences()
    assert pareto_rows()[0] == ("material", 1, 1, 1, Decimal("1000.50"), 0)

    FeasibilityRequest.objects.filter(pk=req.pk).update(currency="USD")  # no USD rate on 2 March: counted apart
    differences()
    assert pareto_rows()[0] == ("material", 1, 1, 1, None, 1)  # a value left out is not a zero
    FeasibilityRequest.objects.filter(pk=req.pk).update(submitted_at=aware(2026, 3, 6, 10))  # now at 0.5
    differences()
    assert pareto_rows()[0] == ("material", 1, 1, 1, Decimal("500.25"), 0)
    FeasibilityRequest.objects.filter(pk=req.pk).update(status=Status.CLOSED, outcome=Outcome.WON)  # filled: nothing at stake
    differences()
    assert pareto_rows()[0] == ("material", 1, 1, 1, Decimal("0.00"), 0)
    FeasibilityRequest.objects.filter(pk=req.pk).update(outcome=Outcome.LOST, deal_value=Decimal("80"))
    differences()
    assert pareto_rows()[0] == ("material", 1, 1, 1, Decimal("40.00"), 0)
    FeasibilityRequest.objects.filter(pk=req.pk).update(deal_value=Decimal("120"))  # the value alone
    differences()
    assert pareto_rows()[0] == ("material", 1, 1, 1, Decimal("60.00"), 0)
    ConstraintHit.objects.filter(request=req, constraint__code="tooling").update(blocked=False, bent=True)
    differences()
    with pytest.raises(RuntimeError), transaction.atomic():
        FeasibilityRequest.objects.filter(pk=req.pk).update(deal_value=Decimal("999999"))
        ConstraintHit.objects.filter(request=req).delete()
        raise RuntimeError("rolled back")
    differences()
    assert pareto_rows() == [("material", 1, 1, 1, Decimal("60.00"), 0), ("tooling", 0, 1, 1, Decimal("60.00"), 0)]
    FeasibilityRequest.objects.filter(pk=req.pk).update(status=Status.DRAFT, outcome="")  # drafts never count
    differences()
    assert pareto_rows() == []
    FeasibilityRequest.objects.filter(pk=req.pk).update(status=Status.IN_ANALYSIS)
    # The request deleted before its hits (foreign keys are checked at commit): nothing is left over.
    with connection.cursor() as cursor:
        for table in ("analysis_assessment_constraints", "analysis_assessment", "analysis_alternative", "analysis_answer"):
            key = "assessment_id IN (SELECT id FROM analysis_assessment WHERE request_id = %s)" if table.endswith(
                "constraints") else "answer_id IN (SELECT id FROM analysis_answer WHERE request_id = %s)" if table.endswith(
                "alternative") else "request_id = %s"
            cursor.execute(f"DELETE FROM {table} WHERE {key}", [req.pk])  # nosec B608
        cursor.execute("DELETE FROM requests_app_feasibilityrequest WHERE id = %s", [req.pk])
        cursor.execute("DELETE FROM analysis_constrainthit WHERE request_id = %s", [req.pk])
    differences()
    assert not ConstraintDay.objects.exclude(requests=0).exists()


def test_rewriting_every_hit_recomputes_the_pareto_days_once_and_the_check_finds_a_drifted_one(
        postgres_only, rep, team_a, customer):
    for day in (2, 3):
        req = make_request(customer, rep, team_a, submitted=aware(2026, 3, day, 10), status=Status.IN_ANALYSIS)
        assess(req, "procurement", "cannot", constraints=["material"])
    ConstraintDay.objects.all().delete()  # as if the triggers had been bypassed
    assert rollups.rebuild_constraint_hits() == 2
    differences()
    assert pareto_rows() == [("material", 2, 0, 2, Decimal("2000.00"), 0)]
    alternative(req, "material")  # the triggers are back on after the rewrite
    differences()

    with connection.cursor() as cursor:
        cursor.execute("UPDATE analysis_constraintday SET value = value + 0.01 WHERE day = '2026-03-03'")
    err = StringIO()
    with pytest.raises(CommandError, match="^2 day-rollup rows differ"):
        call_command("dashboard_rollup", stdout=StringIO(), stderr=err)
    assert "analysis_constraintday missing: {'day': datetime.date(2026, 3, 3)" in err.getvalue()
    call_command("dashboard_rollup", rebuild=True, stdout=StringIO())
    call_command("dashboard_rollup", stdout=StringIO())
    assert pareto_rows() == [("material", 2, 1, 2, Decimal("2000.00"), 0)]


# --- teams, reps and customers ---------------------------------------------------------------------


def group_rows(f: metrics.DashboardFilter = MARCH) -> list[list[tuple]]:
    """Teams, reps and customers as (label, requests, closed answered, filled, evaporated, median hours),
    the same from the day rollup as live."""
    rolled_up, live = groups(f, use_rollup=True), groups(f, use_rollup=False)
    tables = [[(r.label, r.requests, r.closed_answered, r.filled, r.evaporated, r.answer_median_hours) for r in rows]
              for rows in rolled_up]
    assert tables == [[(r.label, r.requests, r.closed_answered, r.filled, r.evaporated, r.answer_median_hours)
                       for r in rows] for rows in live]
    return tables


def test_the_group_days_and_the_teams_times_follow_every_write_to_a_request(postgres_only, rep, other_rep, team_a,
                                                                            team_b, customer):
    bolt = Customer.objects.create(name="Bolt Ltd")
    req = make_request(customer, rep, team_a, submitted=aware(2026, 3, 2, 10), status=Status.CLOSED,
                       outcome=Outcome.WON, ack=3600, ack_met=True, answer=7 * 3600 + 59, answer_met=True)
    make_request(customer, rep, team_a, submitted=aware(2026, 3, 3, 10), status=Status.IN_ANALYSIS)
    differences()
    assert group_rows() == [[("Team North", 2, 1, 1, 0, 7.0)], [("Rita", 2, 1, 1, 0, 7.0)],
                            [("Acme Industrial", 2, 1, 1, 0, 7.0)]]
    moves = [
        dict(answered_at=None), dict(answered_at=aware(2026, 3, 4, 10)),  # won without an answer: not filled
        dict(sales_team=team_b), dict(sales_team=None), dict(requested_by=other_rep), dict(customer=bolt),
        dict(outcome=Outcome.EVAPORATED), dict(status=Status.ANSWERED, outcome=""), dict(answer_seconds=30 * 3600),
        dict(submitted_at=aware(2026, 2, 27, 10)), dict(status=Status.DRAFT),
    ]
    for fields in moves:
        FeasibilityRequest.objects.filter(pk=req.pk).update(**fields)
        differences()
        group_rows()
    FeasibilityRequest.objects.filter(pk=req.pk).update(status=Status.CLOSED, outcome=Outcome.EVAPORATED,
                                                        submitted_at=aware(2026, 3, 2, 10))
    differences()
    assert group_rows() == [
        [("(no team)", 1, 1, 0, 1, 30.0), ("Team North", 1, 0, 0, 0, None)],
        [("Olga", 1, 1, 0, 1, 30.0), ("Rita", 1, 0, 0, 0, None)],
        [("Acme Industrial", 1, 0, 0, 0, None), ("Bolt Ltd", 1, 1, 0, 1, 30.0)],
    ]
    with pytest.raises(RuntimeError), transaction.atomic():
        FeasibilityRequest.objects.filter(pk=req.pk).update(sales_team=team_a, answer_seconds=60)
        raise RuntimeError("rolled back")
    differences()
    FeasibilityRequest.objects.all().delete()
    differences()
    assert not GroupDay.objects.exclude(requests=0).exists()
    assert not DayFigure.objects.filter(kind=DayFigure.Kind.TEAM_ANSWER_TIME).exclude(n=0).exists()


def test_the_check_finds_a_drifted_group_day(postgres_only, rep, team_a, customer):
    make_request(customer, rep, team_a, submitted=aware(2026, 3, 2, 10), status=Status.IN_ANALYSIS)
    GroupDay.objects.filter(dimension=GroupDay.Dimension.REP).update(requests=2)
    err = StringIO()
    with pytest.raises(CommandError, match="^2 day-rollup rows differ"):
        call_command("dashboard_rollup", stdout=StringIO(), stderr=err)
    assert "analysis_groupday missing: {'day': datetime.date(2026, 3, 2), 'dimension': 2" in err.getvalue()
    call_command("dashboard_rollup", rebuild=True, stdout=StringIO())
    differences()

