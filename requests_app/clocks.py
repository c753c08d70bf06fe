"""The request's SLA clocks: computed due times stored on the row, every change an event row.

Called by `lifecycle.transition` inside its transaction. The arithmetic is in `businesstime`;
this module decides *which* instants to store, following DESIGN.md "Time and SLA semantics".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from requests_app import businesstime
from requests_app.models import BusinessCalendar, ClockEvent, FeasibilityRequest, Pause, SlaPolicy, Status

Clock = ClockEvent.Clock
Action = ClockEvent.Action


def hours(value: Decimal | float | int) -> timedelta:
    return timedelta(seconds=round(float(value) * 3600))


def calendar_for(req: FeasibilityRequest) -> BusinessCalendar:
    if req.calendar_id:
        return req.calendar
    return default_calendar()


def default_calendar() -> BusinessCalendar:
    calendar = BusinessCalendar.objects.filter(is_default=True).first() or BusinessCalendar.objects.first()
    if calendar is None:
        from requests_app.defaults import ensure_reference_data

        ensure_reference_data()
        calendar = BusinessCalendar.objects.get(is_default=True)
    return calendar


def work_calendar(req: FeasibilityRequest) -> businesstime.WorkCalendar:
    return calendar_for(req).as_work_calendar()


def policy_for(req: FeasibilityRequest) -> SlaPolicy:
    from requests_app.defaults import ensure_reference_data

    policy = SlaPolicy.objects.filter(priority=req.priority).first()
    if policy is None:
        ensure_reference_data()
        policy = SlaPolicy.objects.get(priority=req.priority)
    return policy


def pauses_of(req: FeasibilityRequest) -> list[tuple[datetime, datetime | None]]:
    return list(req.pauses.values_list("started_at", "ended_at"))


def default_answer_due(req: FeasibilityRequest, *, start: datetime | None = None) -> datetime:
    """Answer-by the policy gives: answer window in business time from submission, plus pauses."""
    policy = policy_for(req)
    return businesstime.add_business_time_with_pauses(
        work_calendar(req), start or req.submitted_at, hours(policy.answer_hours), pauses_of(req)
    )


def max_answer_due(req: FeasibilityRequest, *, start: datetime | None = None) -> datetime:
    policy = policy_for(req)
    return businesstime.add_business_time_with_pauses(
        work_calendar(req), start or req.submitted_at, hours(policy.max_answer_hours), pauses_of(req)
    )


def business_seconds(req: FeasibilityRequest, start: datetime, end: datetime, *, with_pauses: bool = False) -> int:
    pauses = pauses_of(req) if with_pauses else ()
    return int(businesstime.business_time_between(work_calendar(req), start, end, pauses).total_seconds())


def log(req: FeasibilityRequest, clock: str, action: str, at: datetime, due: datetime | None, department=None) -> None:
    ClockEvent.objects.create(request=req, clock=clock, action=action, at=at, due=due, department=department)


def on_transition(req: FeasibilityRequest, *, from_status: str, to_status: str, kind: str, now: datetime) -> list[str]:
    """Adjust the clocks for a state change; returns the names of the fields it changed."""
    changed: list[str] = []
    if from_status == Status.DRAFT and to_status == Status.SUBMITTED:
        submitted = req.submitted_at or now
        req.submitted_at = submitted
        cal = work_calendar(req)
        policy = policy_for(req)
        req.acknowledge_due = businesstime.add_business_time(cal, submitted, hours(policy.acknowledge_hours))
        req.answer_due = businesstime.add_business_time(cal, submitted, hours(policy.answer_hours))
        log(req, Clock.ACKNOWLEDGE, Action.START, submitted, req.acknowledge_due)
        log(req, Clock.ANSWER, Action.START, submitted, req.answer_due)
        changed += ["submitted_at", "acknowledge_due", "answer_due"]
    if to_status == Status.WAITING_ON_SALES:
        req.paused_since = now
        Pause.objects.create(request=req, started_at=now)
        log(req, Clock.ANSWER, Action.PAUSE, now, req.answer_due)
        changed.append("paused_since")
    if from_status == Status.WAITING_ON_SALES and to_status != Status.WAITING_ON_SALES:
        changed += resume_answer_clock(req, now)
    if from_status == Status.SUBMITTED and to_status == Status.IN_ANALYSIS:
        req.acknowledged_at = now
        req.acknowledge_seconds = business_seconds(req, req.submitted_at, now)
        req.acknowledge_met = now <= req.acknowledge_due
        log(req, Clock.ACKNOWLEDGE, Action.STOP, now, req.acknowledge_due)
        changed += ["acknowledged_at", "acknowledge_seconds", "acknowledge_met"]
    if to_status == Status.ANSWERED:
        req.answered_at = now
        req.answer_seconds = business_seconds(req, req.submitted_at, now, with_pauses=True)
        req.answer_met = req.answer_due is not None and now <= req.answer_due
        log(req, Clock.ANSWER, Action.STOP, now, req.answer_due)
        changed += ["answered_at", "answer_seconds", "answer_met"]
    if from_status == Status.ANSWERED and to_status == Status.IN_ANALYSIS:
        # A revision is a new promise: a fresh answer window from now. The first answer's
        # time and met/breached record stay as they were (they describe the first answer).
        req.answer_due = businesstime.add_business_time(work_calendar(req), now, hours(policy_for(req).answer_hours))
        log(req, Clock.ANSWER, Action.START, now, req.answer_due)
        changed.append("answer_due")
    if to_status == Status.CLOSED:
        req.closed_at = now
        req.next_reminder_at = None
        if req.paused_since:
            req.paused_since = None
        changed += ["closed_at", "next_reminder_at", "paused_since"]
    if to_status in (Status.SUBMITTED, Status.IN_ANALYSIS):
        req.next_reminder_at = next_reminder_at(req, now)
        changed.append("next_reminder_at")
    elif to_status in (Status.WAITING_ON_SALES, Status.ANSWERED):
        req.next_reminder_at = None
        changed.append("next_reminder_at")
    return changed


def resume_answer_clock(req: FeasibilityRequest, now: datetime) -> list[str]:
    pause = req.pauses.filter(ended_at__isnull=True).first()
    if pause is None:
        return []
    pause.ended_at = now
    pause.business_seconds = business_seconds(req, pause.started_at, now)
    pause.save(update_fields=["ended_at", "business_seconds"])
    req.paused_seconds += pause.business_seconds
    req.paused_since = None
    cal = work_calendar(req)
    delta = timedelta(seconds=pause.business_seconds)
    if req.answer_due:
        req.answer_due = businesstime.add_business_time(cal, req.answer_due, delta)
    if req.status == Status.SUBMITTED and req.acknowledge_due:
        req.acknowledge_due = businesstime.add_business_time(cal, req.acknowledge_due, delta)
    log(req, Clock.ANSWER, Action.RESUME, now, req.answer_due)
    return ["paused_seconds", "paused_since", "answer_due", "acknowledge_due"]


def next_reminder_at(req: FeasibilityRequest, now: datetime) -> datetime | None:
    """The earliest instant the sweep must look at this request again.

    A conservative lower bound: the first reminder threshold of the running clock that is still
    ahead, else its due time, else now (breached: escalations are decided by the sweep).
    """
    policy = policy_for(req)
    if req.status == Status.SUBMITTED:
        start, due = req.submitted_at, req.acknowledge_due
    elif req.status == Status.IN_ANALYSIS:
        start, due = req.acknowledged_at or req.submitted_at, req.answer_due
    else:
        return None
    if start is None or due is None:
        return None
    window = due - start
    for fraction in sorted(float(f) for f in (policy.reminder_thresholds or [])):
        at = start + window * fraction
        if at > now:
            return at
    return due if due > now else now


def department_due_at(req: FeasibilityRequest, *, routed_at: datetime) -> datetime | None:
    """A department's internal assessment due time: the policy's share of the answer window
    (business time from routing to answer-by), counted from routing."""
    if req.answer_due is None:
        return None
    cal = work_calendar(req)
    window = businesstime.business_time_between(cal, routed_at, req.answer_due)
    share = float(policy_for(req).department_share)
    return businesstime.add_business_time(cal, routed_at, timedelta(seconds=round(window.total_seconds() * share)))
