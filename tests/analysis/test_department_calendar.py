"""A department with its own business calendar (a site on another shift) runs its clock in that
calendar: its due time, its reminders, its business time taken and its share of a pause. The
request's clocks keep the request's calendar. Times are UTC; the week of 2 March 2026 is CET (UTC+1)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.template import Context

from analysis import sla
from analysis.clocks import department_next_reminder_at, department_policy, stop_department_clock
from analysis.models import Assessment, ReminderLedger
from analysis.templatetags.operations_clocks import assessment_state
from requests_app import clocks
from requests_app.models import BusinessCalendar, ClockEvent, Department, Priority, SlaPolicy, Status
from tests.analysis.sla_support import Kind, acknowledge, move, submit
from tests.conftest import aware

pytestmark = pytest.mark.django_db

MON_0800_CET = aware(2026, 3, 2, 7, 0)


@pytest.fixture
def early_shift_shipping(db):
    """Shipping works 06:00–14:00 Berlin time, Monday to Friday, no lunch break; the company's
    default calendar (the request's) works 08:00–12:00 and 13:00–17:00."""
    calendar = BusinessCalendar.objects.create(
        name="Shipping early shift", time_zone="Europe/Berlin", working_days=[0, 1, 2, 3, 4], periods=[["06:00", "14:00"]]
    )
    Department.objects.filter(code="shipping").update(calendar=calendar)
    return calendar


@pytest.fixture
def routed(early_shift_shipping, rep, customer, ops_lead, manager):
    req = submit(rep, customer, at=MON_0800_CET)  # urgent: 8 business hours to answer → Monday 17:00 CET
    return acknowledge(req, ops_lead, at=MON_0800_CET, departments=("procurement", "shipping"))


def sweep(at) -> None:
    with time_machine.travel(at, tick=False):
        sla.sla_sweep(now=at, deliver=lambda ids: None)


def assessment(req, code: str) -> Assessment:
    return Assessment.objects.select_related("department", "request").get(request=req, department__code=code)


def test_the_due_time_is_the_policy_share_of_the_window_in_the_department_calendar(routed):
    assert routed.answer_due == aware(2026, 3, 2, 16, 0)  # 17:00 CET, the request's calendar
    # Procurement (no calendar of its own): 70% of 08:00–17:00 less lunch = 5.6 h → 14:36 CET.
    assert assessment(routed, "procurement").due_at == aware(2026, 3, 2, 13, 36)
    # Shipping: its window is 08:00–14:00 = 6 h of its own time; 70% = 4 h 12 min → 12:12 CET.
    assert assessment(routed, "shipping").due_at == aware(2026, 3, 2, 11, 12)
    # Each department's clock history starts at the routing with that due time.
    started = ClockEvent.objects.filter(request=routed, clock="department", action="start")
    assert sorted(started.values_list("department__code", "at", "due")) == [
        ("procurement", MON_0800_CET, aware(2026, 3, 2, 13, 36)),
        ("shipping", MON_0800_CET, aware(2026, 3, 2, 11, 12)),
    ]


def test_reminders_follow_the_department_calendar(routed):
    # Shipping's first reminder at 50% of its 4.2 h: 2 h 06 min after 08:00 CET → 10:06 CET.
    sweep(aware(2026, 3, 2, 9, 5))
    assert not ReminderLedger.objects.filter(clock="department").exists()
    sweep(aware(2026, 3, 2, 9, 6))
    reminders = ReminderLedger.objects.filter(clock="department")
    assert list(reminders.values_list("scope", "kind", "threshold", "due_at")) == [
        ("shipping", "reminder", Decimal("0.5"), aware(2026, 3, 2, 9, 6))
    ]
    # The reminder's words count the hours left on shipping's clock: 12:12 − 10:06 = 2.1 business hours.
    assert "2.1 business hours left" in sla.compose(reminders.get(), now=aware(2026, 3, 2, 9, 6))["message"]


def test_business_time_taken_is_counted_in_the_department_calendar(routed):
    shipping = assessment(routed, "shipping")
    shipping.assessed_at = aware(2026, 3, 2, 12, 0)  # 13:00 CET, 48 minutes after its 12:12 due time
    stop_department_clock(shipping, now=shipping.assessed_at)
    # 08:00–13:00 CET of shipping's shift = 5 h (the request's calendar, with its lunch break, says 4 h).
    assert shipping.assessment_seconds == 5 * 3600
    assert shipping.met is False


def test_business_time_taken_leaves_out_the_time_the_request_waited_on_sales(routed, ops_lead, rep):
    move(routed, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 8, 0))
    req = move(routed, to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=aware(2026, 3, 2, 15, 0))
    shipping = assessment(req, "shipping")
    shipping.assessed_at = aware(2026, 3, 3, 7, 0)  # Tuesday 08:00 CET
    stop_department_clock(shipping, now=shipping.assessed_at)
    # Shipping's shift from Monday 08:00 CET: 08:00–09:00 before the pause, nothing during 09:00–16:00
    # (its shift ends at 14:00), Tuesday 06:00–08:00: 3 h, not the 8 h the wall clock spans.
    assert shipping.assessment_seconds == 3 * 3600
    assert shipping.met is True  # due moved to Tuesday 09:12 CET by the pause
    # The clock's history records the stop with the due time it was measured against.
    stop = ClockEvent.objects.get(request=req, clock="department", action="stop", department=shipping.department)
    assert (stop.at, stop.due) == (aware(2026, 3, 3, 7, 0), aware(2026, 3, 3, 8, 12))


def test_a_pause_moves_each_due_time_by_the_paused_time_of_its_own_calendar(routed, ops_lead, rep):
    move(routed, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 8, 0))
    req = move(routed, to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=aware(2026, 3, 2, 15, 0))
    # Paused 09:00–16:00 CET. The request's calendar lost 09–12 and 13–16 = 6 h: answer-by 17:00 Mon
    # + 6 h = Tue 15:00 CET.
    assert req.answer_due == aware(2026, 3, 3, 14, 0)
    # Shipping lost 09:00–14:00 = 5 h of its shift: 12:12 Mon + 5 h = 1 h 48 Mon + 3 h 12 Tue from 06:00 → Tue 09:12 CET.
    assert assessment(req, "shipping").due_at == aware(2026, 3, 3, 8, 12)
    # Each department's clock history says when it paused and resumed, and its due time then.
    paused = ClockEvent.objects.filter(request=req, clock="department", action="pause")
    assert sorted(paused.values_list("department__code", "at", "due")) == [
        ("procurement", aware(2026, 3, 2, 8, 0), aware(2026, 3, 2, 13, 36)),
        ("shipping", aware(2026, 3, 2, 8, 0), aware(2026, 3, 2, 11, 12)),
    ]
    resumed = ClockEvent.objects.filter(request=req, clock="department", action="resume")
    assert sorted(resumed.values_list("department__code", "at", "due")) == [
        ("procurement", aware(2026, 3, 2, 15, 0), assessment(req, "procurement").due_at),
        ("shipping", aware(2026, 3, 2, 15, 0), aware(2026, 3, 3, 8, 12)),
    ]


def test_a_pause_leaves_a_department_that_already_assessed_alone(routed, ops_lead, rep):
    Assessment.objects.filter(request=routed, department__code="procurement").update(assessed_at=aware(2026, 3, 2, 7, 30))
    move(routed, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 8, 0))
    req = move(routed, to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=aware(2026, 3, 2, 15, 0))
    assert assessment(req, "procurement").due_at == aware(2026, 3, 2, 13, 36)  # not moved: its clock had stopped
    assert assessment(req, "shipping").due_at == aware(2026, 3, 3, 8, 12)
    events = ClockEvent.objects.filter(request=req, clock="department", action__in=["pause", "resume"])
    assert set(events.values_list("department__code", flat=True)) == {"shipping"}


def test_a_pause_leaves_every_other_requests_department_clocks_alone(routed, ops_lead, rep, customer):
    other = acknowledge(submit(rep, customer, at=MON_0800_CET), ops_lead, at=MON_0800_CET, departments=("shipping",))
    due_before, reminder_before = assessment(other, "shipping").due_at, assessment(other, "shipping").next_reminder_at
    assert reminder_before is not None
    move(routed, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 8, 0))
    assert assessment(other, "shipping").next_reminder_at == reminder_before  # still on the sweep's list
    move(routed, to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=aware(2026, 3, 2, 15, 0))
    assert assessment(other, "shipping").due_at == due_before == aware(2026, 3, 2, 11, 12)
    assert not ClockEvent.objects.filter(request=other, action__in=["pause", "resume"]).exists()


def test_the_badge_on_the_request_page_counts_in_the_department_calendar(routed):
    context = Context({"now_utc": aware(2026, 3, 2, 12, 30)})  # 13:30 CET
    state = assessment_state(context, assessment(routed, "shipping"))
    # Due 12:12 CET: overdue by 1 h 18 min of shipping's shift (the request's calendar, at lunch
    # from 12:00 to 13:00, would say 30 min).
    assert (state.status, state.business_seconds_left) == ("breached", -78 * 60)


def test_the_sweep_next_looks_at_a_department_clock_at_its_next_reminder_in_its_own_calendar(routed):
    # The first reminder at 50% of each window: procurement 2.8 h after 08:00 CET (10:48 CET),
    # shipping 2.1 h of its shift (10:06 CET).
    assert assessment(routed, "procurement").next_reminder_at == aware(2026, 3, 2, 9, 48)
    assert assessment(routed, "shipping").next_reminder_at == aware(2026, 3, 2, 9, 6)
    sweep(aware(2026, 3, 2, 9, 6))
    # With the 50% reminder in the ledger, the next is 80%: 3.36 h of shipping's 4.2 → 11:21:36 CET.
    shipping = assessment(routed, "shipping")
    assert shipping.next_reminder_at == datetime(2026, 3, 2, 10, 21, 36, tzinfo=UTC)
    assert department_next_reminder_at(shipping, aware(2026, 3, 2, 9, 30)) == datetime(2026, 3, 2, 10, 21, 36, tzinfo=UTC)
    # Asked after a threshold whose reminder is not in the ledger yet: look at it now.
    assert department_next_reminder_at(shipping, aware(2026, 3, 2, 10, 30)) == aware(2026, 3, 2, 10, 30)


def test_a_department_clock_is_looked_at_only_while_its_request_is_submitted_or_in_analysis(routed):
    shipping = assessment(routed, "shipping")
    at = aware(2026, 3, 2, 8, 0)
    expected = {Status.SUBMITTED: aware(2026, 3, 2, 9, 6), Status.IN_ANALYSIS: aware(2026, 3, 2, 9, 6),
                Status.WAITING_ON_SALES: None, Status.ANSWERED: None, Status.CLOSED: None}
    for status, next_at in expected.items():
        shipping.request.status = status
        assert department_next_reminder_at(shipping, at) == next_at, status
    shipping.request.status = Status.IN_ANALYSIS
    shipping.assessed_at = at  # assessed: its clock has stopped
    assert department_next_reminder_at(shipping, at) is None
    procurement = assessment(routed, "procurement")
    procurement.due_at = None  # a clock without a due time (no answer-by) reminds no one
    assert department_next_reminder_at(procurement, at) is None


def test_department_clocks_on_different_policy_versions_keep_their_own_in_one_cached_block(routed):
    procurement, shipping = assessment(routed, "procurement"), assessment(routed, "shipping")
    normal = SlaPolicy.objects.current().get(priority=Priority.NORMAL)
    shipping.sla_policy = normal
    with clocks.reference_data_cached():
        assert department_policy(procurement).priority == Priority.URGENT
        assert department_policy(shipping) == normal
    # A clock started before departments kept a version of their own runs on its request's.
    shipping.sla_policy = None
    assert department_policy(shipping) == routed.sla_policy
    assert department_policy(shipping, routed) == routed.sla_policy


def test_an_answer_takes_the_request_off_the_department_queues_and_a_revision_puts_it_back(routed, ops_lead, rep):
    Assessment.objects.filter(request=routed, department__code="procurement").update(
        assessed_at=aware(2026, 3, 2, 9, 0), next_reminder_at=None)

    def on_queues(req) -> dict[str, bool]:
        return dict(Assessment.objects.filter(request=req).values_list("department__code", "request_open"))

    assert on_queues(routed) == {"procurement": True, "shipping": True}
    req = move(routed, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 8, 0))
    assert on_queues(req) == {"procurement": True, "shipping": True}  # a question pauses the clock, not the work
    req = move(req, to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=aware(2026, 3, 2, 8, 30))
    req = move(req, to=Status.ANSWERED, kind=Kind.ANSWER_PUBLISHED, actor=ops_lead, at=aware(2026, 3, 2, 10, 0))
    assert on_queues(req) == {"procurement": False, "shipping": False}
    assert assessment(req, "shipping").next_reminder_at is None  # it never assessed: no more reminders
    req = move(req, to=Status.IN_ANALYSIS, kind=Kind.REVISION_REQUESTED, actor=rep, at=aware(2026, 3, 2, 11, 0))
    assert on_queues(req) == {"procurement": True, "shipping": True}


def test_after_a_pause_the_next_reminder_counts_the_business_time_before_and_after_it(routed, ops_lead, rep):
    move(routed, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 8, 0))
    req = move(routed, to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=aware(2026, 3, 2, 15, 0))
    # Shipping's 50% is 2.1 h of its shift: 1 h before the pause (08:00–09:00 CET), then its shift
    # was over when the question was answered (16:00 CET), so 1.1 h from Tuesday 06:00 → 07:06 CET.
    assert assessment(req, "shipping").next_reminder_at == aware(2026, 3, 3, 6, 6)
