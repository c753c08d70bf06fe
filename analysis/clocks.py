"""Department clocks: each routed department's internal assessment due time, its reminders and
its met/breached record, so a late answer shows which department burned the time (DESIGN.md
"Time and SLA semantics").

Why here and not in `requests_app.clocks`: a department clock is Operations' work on an
`Assessment`, and `requests_app` must not know `analysis` exists. The dependency is inverted
with a signal: `lifecycle.transition` moves the request's own clocks, then sends
`requests_app.clocks.request_transitioned` inside its transaction; `on_request_transitioned`
below (connected in `AnalysisConfig.ready`) pauses, resumes or stops the department clocks of
that request in the same transaction. A request can therefore never change state while its
department clocks miss the change, and `requests_app` never names an assessment or a ledger row.

A department clock
- starts when the department is routed (`start_department_clock`), due at the policy's share of
  the business time left until answer-by, on the policy version in force then
  (`Assessment.sla_policy`): a later policy edit does not move it;
- runs in the department's own calendar when it has one (another shift, site or country), else
  in the request's, for its due time, its reminders, its business time taken and its share of a
  pause;
- stands still while the request waits on Sales and moves on by the business time paused;
- stops when the department records its assessment (`stop_department_clock`), or loses its
  reminders when the answer is published or the request closed.
Its reminders are planned by the same `clocks.plan_clock` as the request's, from
`department_clock_spec` — the one definition of a running department clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from django.db.models import QuerySet

from analysis.models import Assessment, ReminderLedger
from requests_app import businesstime, clocks
from requests_app.models import FeasibilityRequest, Pause, SlaPolicy, Status

Clock = clocks.Clock
Action = clocks.Action


def department_calendar_id(assessment: Assessment, req: FeasibilityRequest | None = None) -> int | None:
    """A department clock runs in the department's own calendar when it has one, otherwise in the
    request's (None: the default calendar). Pass `req` if it is loaded."""
    return assessment.department.calendar_id or (req or assessment.request).calendar_id


def department_calendar(assessment: Assessment, req: FeasibilityRequest | None = None) -> businesstime.WorkCalendar:
    req = req or assessment.request
    calendar_id = department_calendar_id(assessment, req)
    if calendar_id == req.calendar_id:
        return clocks.work_calendar(req)
    return clocks.calendar_by_id(calendar_id)


def department_policy(assessment: Assessment, req: FeasibilityRequest | None = None) -> SlaPolicy:
    """The policy version the department clock started with (older rows: the request's)."""
    if assessment.sla_policy_id is None:
        return clocks.policy_for(req or assessment.request)
    # The foreign key is set (checked above), so the related row is a policy, never None.
    return clocks.cached(("policy", assessment.sla_policy_id), lambda: assessment.sla_policy)  # type: ignore[return-value]


def department_clock_spec(assessment: Assessment, *, policy: SlaPolicy | None = None) -> clocks.ClockSpec | None:
    """The running department clock as the planner needs it, or None if it is not running.

    Reminders at the policy's thresholds; one breach notice and no repeats (the request's own
    escalation to managers repeats)."""
    if assessment.assessed_at is not None or assessment.due_at is None:
        return None
    policy = policy or department_policy(assessment)
    return clocks.ClockSpec(
        Clock.DEPARTMENT, assessment.department.code, assessment.routed_at, assessment.due_at,
        clocks.threshold_values(policy), None,
    )


def department_due_at(assessment: Assessment, *, routed_at: datetime) -> datetime | None:
    """The policy's share of the answer window (business time from routing to answer-by),
    counted from routing — both in the department's calendar, so the due time falls in the
    department's working hours and never after answer-by."""
    req = assessment.request
    if req.answer_due is None:
        return None
    cal = department_calendar(assessment)
    window = businesstime.business_time_between(cal, routed_at, req.answer_due)
    share = float(department_policy(assessment).department_share)
    return businesstime.add_business_time(cal, routed_at, timedelta(seconds=round(window.total_seconds() * share)))


def start_department_clock(assessment: Assessment, *, now: datetime) -> None:
    """Call when an assessment is routed (inside the routing transaction): fixes its policy
    version, sets `due_at` (unless already set), puts it on the sweep's work list and logs a
    START. The caller saves the assessment."""
    req = assessment.request
    if assessment.sla_policy_id is None:
        assessment.sla_policy = clocks.current_policy(req.priority)
    if assessment.due_at is None:
        assessment.due_at = department_due_at(assessment, routed_at=assessment.routed_at or now)
    assessment.next_reminder_at = department_next_reminder_at(assessment, now)
    started = assessment.routed_at or now
    clocks.log(req, Clock.DEPARTMENT, Action.START, started, assessment.due_at, department=assessment.department)


def stop_department_clock(assessment: Assessment, *, now: datetime) -> None:
    """Call when the assessment is recorded: business time taken (the request's pauses left out),
    met/missed, off the work list. The caller saves the assessment.

    Met = assessed at or before its own due time (DESIGN.md); the dashboard reads `met`."""
    req = assessment.request
    assessment.assessment_seconds = int(businesstime.business_time_between(
        department_calendar(assessment), assessment.routed_at, now, clocks.pauses_of(req)
    ).total_seconds())
    assessment.met = assessment.due_at is None or now <= assessment.due_at
    assessment.next_reminder_at = None
    clocks.log(req, Clock.DEPARTMENT, Action.STOP, now, assessment.due_at, department=assessment.department)


def department_next_reminder_at(
    assessment: Assessment, now: datetime, *, cal: businesstime.WorkCalendar | None = None
) -> datetime | None:
    """When the sweep must next look at this department clock, from what the ledger holds."""
    req = assessment.request
    if req.status not in (Status.SUBMITTED, Status.IN_ANALYSIS):
        return None
    spec = department_clock_spec(assessment)
    if spec is None:
        return None
    rows = (
        ReminderLedger.objects.filter(assessment=assessment).values_list("kind", "threshold", "seq", "due_at")
        if assessment.pk else []
    )
    plan = clocks.plan_clock(
        cal or department_calendar(assessment), start=spec.start, due=spec.due, thresholds=spec.thresholds,
        interval=spec.interval, now=now, pauses=clocks.pauses_of(req), recorded=clocks.ledger_state(rows),
    )
    return now if plan.due else plan.next_at


# --------------------------------------------------------------------------------------------------
# Following the request's transitions (requests_app.clocks.request_transitioned)
# --------------------------------------------------------------------------------------------------


def on_request_transitioned(
    sender: object, *, request: FeasibilityRequest, from_status: str, to_status: str, now: datetime,
    resumed_pause: Pause | None = None, **kwargs: object,
) -> None:
    """Move the request's department clocks with it, in the transition's transaction."""
    is_open = to_status in Status.analysis_values()
    if is_open != (from_status in Status.analysis_values()):
        # On or off the department queues (`Assessment.request_open`), e.g. answered or reopened.
        Assessment.objects.filter(request=request).update(request_open=is_open)
    if to_status == Status.WAITING_ON_SALES:
        pause_department_clocks(request, now)
    if resumed_pause is not None:
        resume_department_clocks(request, now, resumed_pause.started_at)
    if to_status in (Status.ANSWERED, Status.CLOSED):
        # Departments that never assessed stop being reminded once the answer is out.
        Assessment.objects.filter(request=request, assessed_at__isnull=True).update(next_reminder_at=None)


def _pending(req: FeasibilityRequest) -> QuerySet[Assessment]:
    return Assessment.objects.filter(request=req, assessed_at__isnull=True, due_at__isnull=False).select_related("department")


def pause_department_clocks(req: FeasibilityRequest, now: datetime) -> None:
    for assessment in _pending(req):
        clocks.log(req, Clock.DEPARTMENT, Action.PAUSE, now, assessment.due_at, department=assessment.department)
    Assessment.objects.filter(request=req, assessed_at__isnull=True).update(next_reminder_at=None)


def resume_department_clocks(req: FeasibilityRequest, now: datetime, paused_from: datetime) -> None:
    """Pending department due times move by the paused business time, measured in each
    department's calendar (the same amount as answer_due's when it shares the request's)."""
    with clocks.reference_data_cached():  # each calendar read once, not once per department
        for assessment in _pending(req):
            assessment.request = req
            cal = department_calendar(assessment)
            delta = businesstime.business_time_between(cal, paused_from, now)
            due = cast(datetime, assessment.due_at)  # pending clocks have a due time (`_pending`)
            assessment.due_at = businesstime.add_business_time(cal, due, delta)
            assessment.next_reminder_at = department_next_reminder_at(assessment, now, cal=cal)
            assessment.save(update_fields=["due_at", "next_reminder_at"])
            clocks.log(req, Clock.DEPARTMENT, Action.RESUME, now, assessment.due_at, department=assessment.department)
