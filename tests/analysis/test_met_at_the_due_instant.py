"""Met = done at or before due; breached = now past due and not done (DESIGN.md "Time and SLA
semantics"). Each clock is stopped exactly at its due instant and one second after, through the
services a user's click calls; the dashboard is read at the due instant and one second after, by
its live queries and by its day rollup.

The due instants are worked out by hand: an urgent request (acknowledge 2 business hours, answer 8)
filed Monday 2 March 2026 at 08:00 in Berlin (CET, UTC+1; calendar 08–12, 13–17).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from analysis import metrics
from analysis import services as ops
from analysis.models import Assessment, Verdict
from requests_app import clocks
from requests_app.clocks import default_calendar
from requests_app.models import FeasibilityRequest, Priority
from tests.conftest import aware
from tests.requests_app.sales_factories import file_request

FILED = aware(2026, 3, 2, 7, 0)  # 08:00 CET
ACK_DUE = aware(2026, 3, 2, 9, 0)  # 10:00 CET
ANSWER_DUE = aware(2026, 3, 2, 16, 0)  # 17:00 CET: 08–12 and 13–17 are the 8 hours
SECOND = timedelta(seconds=1)
PERIOD = metrics.DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 7))


def filed(rep, customer, product) -> FeasibilityRequest:
    with time_machine.travel(FILED, tick=False):
        req = file_request(rep, customer, product, priority=Priority.URGENT, now=FILED)
    assert (req.acknowledge_due, req.answer_due) == (ACK_DUE, ANSWER_DUE)
    return req


def acknowledged(req, lead, *, at) -> FeasibilityRequest:
    with time_machine.travel(at, tick=False):
        return ops.request_acknowledge(request_id=req.pk, actor=lead, departments=["procurement"], now=at)


def dashboard(now, *, use_rollup: bool):
    return metrics.dashboard(PERIOD, now=now, work_calendar=default_calendar().as_work_calendar(), use_rollup=use_rollup)


@pytest.mark.parametrize(("late", "met"), [(timedelta(0), True), (SECOND, False)])
def test_acknowledging_at_the_due_instant_is_met(rep, customer, product, ops_lead, late, met):
    req = acknowledged(filed(rep, customer, product), ops_lead, at=ACK_DUE + late)
    assert req.acknowledge_met is met
    state = req.get_clock_state(ACK_DUE + timedelta(days=1), clocks.work_calendar(req), "acknowledge")
    assert state.status == ("met" if met else "missed")


@pytest.mark.parametrize(("late", "met"), [(timedelta(0), True), (SECOND, False)])
def test_answering_at_the_due_instant_is_met(rep, customer, product, ops_lead, late, met):
    req = acknowledged(filed(rep, customer, product), ops_lead, at=ACK_DUE)
    with time_machine.travel(ANSWER_DUE + late, tick=False):
        ops.answer_publish(request_id=req.pk, actor=ops_lead, expected_version=None, decision="yes", summary="Yes we can",
                           justification="", alternatives=[], now=ANSWER_DUE + late)
    req.refresh_from_db()
    assert req.answer_met is met
    state = req.get_clock_state(ANSWER_DUE + timedelta(days=1), clocks.work_calendar(req), "answer")
    assert state.status == ("met" if met else "missed")


@pytest.mark.parametrize(("late", "met"), [(timedelta(0), True), (SECOND, False)])
def test_a_department_assessing_at_its_due_instant_is_met(rep, customer, product, ops_lead, ops_member, late, met):
    req = acknowledged(filed(rep, customer, product), ops_lead, at=FILED)
    assessment = Assessment.objects.get(request=req)
    # 70 % of the 8 business hours from routing (08:00 CET) to answer-by: 5.6 h → 14:36 CET.
    assert assessment.due_at == aware(2026, 3, 2, 13, 36)
    at = assessment.due_at + late
    with time_machine.travel(at, tick=False):
        ops.assessment_save(assessment_id=assessment.pk, actor=ops_member, data={"verdict": Verdict.CAN},
                            constraints=[], expected_version=assessment.version, now=at)
    assessment.refresh_from_db()
    assert assessment.met is met


def test_a_clock_is_not_breached_at_its_due_instant_only_after_it(rep, customer, product):
    req = filed(rep, customer, product)
    cal = clocks.work_calendar(req)
    assert req.get_clock_state(ACK_DUE, cal, "acknowledge").status == "due soon"
    assert req.get_clock_state(ACK_DUE + SECOND, cal, "acknowledge").status == "breached"
    assert clocks.measure(clock="answer", due=ANSWER_DUE, done_at=ANSWER_DUE, now=ANSWER_DUE + timedelta(days=2),
                          cal=cal).status == "met"


@pytest.mark.parametrize("use_rollup", [False, True], ids=["live", "rollup"])
def test_the_dashboard_counts_work_done_at_the_due_instant_as_met(
    rep, customer, product, ops_lead, ops_member, postgres_only, use_rollup
):
    req = acknowledged(filed(rep, customer, product), ops_lead, at=ACK_DUE)
    assessment = Assessment.objects.get(request=req)
    with time_machine.travel(assessment.due_at, tick=False):
        ops.assessment_save(assessment_id=assessment.pk, actor=ops_member, data={"verdict": Verdict.CAN},
                            constraints=[], expected_version=assessment.version, now=assessment.due_at)
    with time_machine.travel(ANSWER_DUE, tick=False):
        ops.answer_publish(request_id=req.pk, actor=ops_lead, expected_version=None, decision="yes", summary="Yes",
                           justification="", alternatives=[], now=ANSWER_DUE)

    board = dashboard(aware(2026, 3, 5, 12), use_rollup=use_rollup)
    assert (board.current.ack_met, board.current.ack_counted) == (1, 1)
    assert (board.current.answer_met, board.current.answer_counted) == (1, 1)
    [procurement] = board.departments
    assert (procurement.met, procurement.counted, procurement.breaches) == (1, 1, 0)
    assert board.current.breached_now == 0


@pytest.mark.parametrize("use_rollup", [False, True], ids=["live", "rollup"])
def test_the_dashboard_counts_open_work_breached_only_after_its_due_instant(
    rep, customer, product, ops_lead, postgres_only, use_rollup
):
    waiting = filed(rep, customer, product)  # acknowledge due 10:00 CET
    analysing = acknowledged(filed(rep, customer, product), ops_lead, at=FILED)  # answer due 17:00 CET
    department_due = Assessment.objects.get(request=analysing).due_at

    at_ack_due = dashboard(ACK_DUE, use_rollup=use_rollup)
    assert at_ack_due.current.breached_now == 0
    assert [r.reference for r in at_ack_due.breached] == []
    assert waiting.reference in [r.reference for r in at_ack_due.at_risk]
    assert (at_ack_due.current.ack_met, at_ack_due.current.ack_counted) == (1, 1)  # not counted yet
    after = dashboard(ACK_DUE + SECOND, use_rollup=use_rollup)
    assert after.current.breached_now == 1
    assert [r.reference for r in after.breached] == [waiting.reference]
    assert (after.current.ack_met, after.current.ack_counted) == (1, 2)  # the other was acknowledged on time

    assert dashboard(department_due, use_rollup=use_rollup).departments[0].breaches == 0
    assert dashboard(department_due + SECOND, use_rollup=use_rollup).departments[0].breaches == 1

    at_answer_due = dashboard(ANSWER_DUE, use_rollup=use_rollup)
    assert [r.reference for r in at_answer_due.breached] == [waiting.reference]
    assert (at_answer_due.current.answer_met, at_answer_due.current.answer_counted) == (0, 0)
    after = dashboard(ANSWER_DUE + SECOND, use_rollup=use_rollup)
    assert sorted(r.reference for r in after.breached) == sorted([waiting.reference, analysing.reference])
    assert (after.current.answer_met, after.current.answer_counted) == (0, 1)
