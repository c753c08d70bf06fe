"""The request's SLA clocks: computed due times stored on the row, every change an event row.

Called by `lifecycle.transition` inside its transaction. The arithmetic is in `businesstime`;
this module decides *which* instants to store, following DESIGN.md "Time and SLA semantics".

Three kinds of clock:
- **acknowledge** (SUBMITTED): from submitted_at to acknowledge_due;
- **answer** (IN_ANALYSIS): from its latest start (submission, or a revision) to answer_due;
- **department** (one per routed assessment): from routing to `Assessment.due_at`, in the
  department's own calendar when it has one (`department_calendar`), else the request's.

Reminder thresholds are fractions of each window measured in *business* time of the clock's
calendar (50% of a 40-business-hour window is 20 business hours after the start, not 50% of the
wall-clock span). `plan_clock` is the pure decision function the SLA sweep (`analysis.sla`) uses
and `next_reminder_at` reuses it, so the sweep's work list and its decisions never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from requests_app import businesstime
from requests_app.models import BusinessCalendar, ClockEvent, FeasibilityRequest, Pause, SlaPolicy, Status

Clock = ClockEvent.Clock
Action = ClockEvent.Action

# A reminder decided within this long after its scheduled instant keeps the scheduled instant as
# its due time (a sweep runs every minute); later than that the sweep was down, and the decision
# instant becomes the anchor so the next repeat is a full interval away (no bunching).
LATE_TOLERANCE = timedelta(minutes=5)
# "Due soon" on badges: less than this much business time left.
DUE_SOON = timedelta(hours=2)

REMINDER = "reminder"
ESCALATION = "escalation"


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


_reference_cache: ContextVar[dict | None] = ContextVar("s2o_clock_reference_cache", default=None)


@contextmanager
def reference_data_cached() -> Iterator[None]:
    """Within the block, read each calendar and SLA policy once instead of on every clock change.

    For bulk work in one transaction (seed_demo runs ~4,000 transitions), where the reference data
    cannot change underneath; the web path reads them fresh each time."""
    token = _reference_cache.set({})
    try:
        yield
    finally:
        _reference_cache.reset(token)


def _cached(key: tuple, load):
    cache = _reference_cache.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def work_calendar(req: FeasibilityRequest) -> businesstime.WorkCalendar:
    return _cached(("calendar", req.calendar_id), lambda: calendar_for(req).as_work_calendar())


def department_calendar_id(assessment, req: FeasibilityRequest | None = None) -> int | None:
    """A department clock runs in the department's own calendar when it has one (a site with its
    own shifts, holidays or time zone), otherwise in the request's (None: the default calendar).
    Pass `req` if it is loaded."""
    return assessment.department.calendar_id or (req or assessment.request).calendar_id


def department_calendar(assessment, req: FeasibilityRequest | None = None) -> businesstime.WorkCalendar:
    req = req or assessment.request
    calendar_id = department_calendar_id(assessment, req)
    if calendar_id == req.calendar_id:
        return work_calendar(req)
    return _cached(("calendar", calendar_id), lambda: BusinessCalendar.objects.get(pk=calendar_id).as_work_calendar())


def policy_for(req: FeasibilityRequest) -> SlaPolicy:
    return _cached(("policy", req.priority), lambda: _load_policy(req))


def _load_policy(req: FeasibilityRequest) -> SlaPolicy:
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
        pause_department_clocks(req, now)
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
        # Departments that never assessed stop being reminded once the answer is out.
        req.assessments.filter(assessed_at__isnull=True).update(next_reminder_at=None)
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
        req.assessments.filter(assessed_at__isnull=True).update(next_reminder_at=None)
        changed += ["closed_at", "next_reminder_at", "paused_since"]
    if to_status in (Status.SUBMITTED, Status.IN_ANALYSIS):
        req.next_reminder_at = next_reminder_at(req, now)
        changed.append("next_reminder_at")
    elif to_status in (Status.WAITING_ON_SALES, Status.ANSWERED):
        req.next_reminder_at = None
        changed.append("next_reminder_at")
    return changed


def resume_answer_clock(req: FeasibilityRequest, now: datetime) -> list[str]:
    """End the open pause: answer_due (and a running acknowledge_due) move later by the paused
    business time, and so does every pending department due time (their clocks stood still too)."""
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
    resume_department_clocks(req, now, pause.started_at)
    return ["paused_seconds", "paused_since", "answer_due", "acknowledge_due"]


# --------------------------------------------------------------------------------------------------
# Department clocks (internal targets inside one request)
# --------------------------------------------------------------------------------------------------


def department_due_at(assessment, *, routed_at: datetime) -> datetime | None:
    """A department's internal assessment due time: the policy's share of the answer window
    (business time from routing to answer-by), counted from routing — both in the department's
    calendar, so the due time falls in the department's working hours and never after answer-by."""
    req = assessment.request
    if req.answer_due is None:
        return None
    cal = department_calendar(assessment)
    window = businesstime.business_time_between(cal, routed_at, req.answer_due)
    share = float(policy_for(req).department_share)
    return businesstime.add_business_time(cal, routed_at, timedelta(seconds=round(window.total_seconds() * share)))


def start_department_clock(assessment, *, now: datetime) -> list[str]:
    """Call when an assessment is routed (inside the routing transaction): sets `due_at` (unless
    already set), puts it on the sweep's work list and logs a START. Returns changed field names;
    the caller saves them."""
    req = assessment.request
    if assessment.due_at is None:
        assessment.due_at = department_due_at(assessment, routed_at=assessment.routed_at or now)
    assessment.next_reminder_at = department_next_reminder_at(assessment, now)
    log(req, Clock.DEPARTMENT, Action.START, assessment.routed_at or now, assessment.due_at, department=assessment.department)
    return ["due_at", "next_reminder_at"]


def stop_department_clock(assessment, *, now: datetime) -> list[str]:
    """Call when the assessment is recorded: business time taken, met/missed, off the work list.

    Met = assessed at or before its own due time (DESIGN.md); the dashboard reads `met`."""
    req = assessment.request
    assessment.assessment_seconds = int(businesstime.business_time_between(
        department_calendar(assessment), assessment.routed_at, now, pauses_of(req)
    ).total_seconds())
    assessment.met = assessment.due_at is None or now <= assessment.due_at
    assessment.next_reminder_at = None
    log(req, Clock.DEPARTMENT, Action.STOP, now, assessment.due_at, department=assessment.department)
    return ["assessment_seconds", "met", "next_reminder_at"]


def pause_department_clocks(req: FeasibilityRequest, now: datetime) -> None:
    for assessment in req.assessments.filter(assessed_at__isnull=True, due_at__isnull=False).select_related("department"):
        log(req, Clock.DEPARTMENT, Action.PAUSE, now, assessment.due_at, department=assessment.department)
    req.assessments.filter(assessed_at__isnull=True).update(next_reminder_at=None)


def resume_department_clocks(req: FeasibilityRequest, now: datetime, paused_from: datetime) -> None:
    """Pending department due times move by the paused business time, measured in each
    department's calendar (the same amount as answer_due's when it shares the request's)."""
    pending = req.assessments.filter(assessed_at__isnull=True, due_at__isnull=False).select_related("department")
    with reference_data_cached():  # each calendar read once, not once per department
        for assessment in pending:
            assessment.request = req
            cal = department_calendar(assessment)
            delta = businesstime.business_time_between(cal, paused_from, now)
            assessment.due_at = businesstime.add_business_time(cal, assessment.due_at, delta)
            assessment.next_reminder_at = department_next_reminder_at(assessment, now, cal=cal)
            assessment.save(update_fields=["due_at", "next_reminder_at"])
            log(req, Clock.DEPARTMENT, Action.RESUME, now, assessment.due_at, department=assessment.department)


def answer_due_moved(req: FeasibilityRequest, *, now: datetime, department_dues_move: bool = False) -> list[str]:
    """Call after answer_due was extended (inside the same transaction): logs EXTEND and puts the
    request back on the sweep's work list at the right instant. Returns changed field names.

    Department due times do NOT move by default: they are internal targets set when the work was
    routed, and a late department is exactly what the extension should not hide (DESIGN.md: "a late
    answer shows which department burned the time"). Pass `department_dues_move=True` to re-derive
    them from the new answer-by (policy share from routing)."""
    log(req, Clock.ANSWER, Action.EXTEND, now, req.answer_due)
    if department_dues_move:
        pending = req.assessments.filter(assessed_at__isnull=True).select_related("department")
        with reference_data_cached():  # each calendar read once, not once per department
            for assessment in pending:
                assessment.request = req
                assessment.due_at = department_due_at(assessment, routed_at=assessment.routed_at)
                assessment.next_reminder_at = department_next_reminder_at(assessment, now)
                assessment.save(update_fields=["due_at", "next_reminder_at"])
                log(req, Clock.DEPARTMENT, Action.EXTEND, now, assessment.due_at, department=assessment.department)
    if req.status in (Status.SUBMITTED, Status.IN_ANALYSIS):
        req.next_reminder_at = next_reminder_at(req, now)
        return ["next_reminder_at"]
    return []


# --------------------------------------------------------------------------------------------------
# Planning: which reminders and escalations are due, and when to look again
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueNotice:
    """A reminder or escalation the sweep must record now."""

    kind: str  # REMINDER | ESCALATION
    seq: int  # threshold number (1-based) or escalation number
    due_at: datetime


@dataclass(frozen=True)
class Plan:
    due: list[DueNotice] = field(default_factory=list)
    next_at: datetime | None = None


@dataclass(frozen=True)
class ClockSpec:
    """One running clock, as the planner needs it. `key` = (clock, scope) of its ledger rows."""

    clock: str
    scope: str
    start: datetime
    due: datetime
    thresholds: tuple[float, ...]
    interval: timedelta | None  # escalation repeat; None = a single breach notice


def plan_clock(
    cal: businesstime.WorkCalendar,
    *,
    start: datetime,
    due: datetime,
    thresholds: Sequence[float],
    interval: timedelta | None,
    now: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
    last_reminder_seq: int = 0,
    last_escalation: tuple[int, datetime] | None = None,
) -> Plan:
    """Decide what is due on one clock at `now`, and when to look again. Pure: no ORM, no clock.

    - Reminder *i* is due at fraction ``thresholds[i-1]`` of the window in business time
      (``start`` + f × business_time_between(start, due)), delivered at the next opening.
      If several became due while nobody looked, only the latest is sent: a 50% reminder after
      the 80% one is noise. None once the clock is breached: the escalation speaks then.
    - Escalation 1 is due at ``due`` (next opening); escalation n+1 an ``interval`` of business
      time after escalation n *was due*. After an outage, one escalation goes with the next
      number, anchored at now, so the following one is a full interval later (never bunched).
      ``interval=None``: only one breach notice.
    - Nothing is decided outside working hours: a sweep at night returns ``next_at`` = the
      next opening and no notices (reminders go within working hours only).
    `last_reminder_seq` / `last_escalation` (seq, due_at) are what the ledger already holds.
    """
    pauses = list(pauses)
    if not businesstime.is_working_time(cal, now):
        # Look again at the opening, or later if nothing will be due even then.
        opening = businesstime.next_working_instant(cal, now)
        later = plan_clock(
            cal, start=start, due=due, thresholds=thresholds, interval=interval, now=opening, pauses=pauses,
            last_reminder_seq=last_reminder_seq, last_escalation=last_escalation,
        )
        return Plan([], opening if later.due else later.next_at)
    due_opening = businesstime.next_working_instant(cal, due)
    notices: list[DueNotice] = []
    if now < due_opening:
        window = businesstime.business_time_between(cal, start, due, pauses)
        ready: tuple[int, datetime] | None = None
        next_at = due_opening
        for seq, fraction in enumerate(sorted(float(f) for f in thresholds), start=1):
            if seq <= last_reminder_seq or not 0 < fraction < 1:
                continue
            nominal = businesstime.add_business_time_with_pauses(cal, start, window * fraction, pauses)
            at = businesstime.next_working_instant(cal, nominal)
            if at <= now:
                ready = (seq, at)
            else:
                next_at = min(at, due_opening)
                break
        if ready is not None:
            notices.append(DueNotice(REMINDER, ready[0], _anchor(ready[1], now)))
        return Plan(notices, next_at)
    if last_escalation is None:
        seq, scheduled = 1, due_opening
    else:
        if interval is None:
            return Plan([], None)  # the single breach notice is already recorded
        last_seq, last_at = last_escalation
        seq = last_seq + 1
        scheduled = businesstime.next_working_instant(
            cal, businesstime.add_business_time_with_pauses(cal, last_at, interval, pauses)
        )
    if scheduled > now:
        return Plan([], scheduled)
    at = _anchor(scheduled, now)
    notices.append(DueNotice(ESCALATION, seq, at))
    if interval is None:
        return Plan(notices, None)
    following = businesstime.add_business_time_with_pauses(cal, at, interval, pauses)
    return Plan(notices, businesstime.next_working_instant(cal, following))


def _anchor(scheduled: datetime, now: datetime) -> datetime:
    return scheduled if now - scheduled <= LATE_TOLERANCE else now


def request_clock_spec(req: FeasibilityRequest, policy: SlaPolicy | None = None) -> ClockSpec | None:
    """The running request clock (acknowledge while SUBMITTED, answer while IN_ANALYSIS)."""
    policy = policy or policy_for(req)
    thresholds = tuple(float(f) for f in (policy.reminder_thresholds or []))
    interval = hours(policy.escalation_interval_hours)
    if req.status == Status.SUBMITTED and req.submitted_at and req.acknowledge_due:
        return ClockSpec(Clock.ACKNOWLEDGE, "", req.submitted_at, req.acknowledge_due, thresholds, interval)
    if req.status == Status.IN_ANALYSIS and req.answer_due:
        start, scope = answer_cycle(req)
        return ClockSpec(Clock.ANSWER, scope, start, req.answer_due, thresholds, interval)
    return None


def answer_cycle(req: FeasibilityRequest) -> tuple[datetime, str]:
    """Start of the current answer window and its ledger scope: "" for the first window, "r2",
    "r3", … after revisions, so a revision's reminders are new rows and not "already sent"."""
    starts = list(
        req.clock_events.filter(clock=Clock.ANSWER, action=Action.START).order_by("-at", "-id").values_list("at", flat=True)
    )
    if len(starts) <= 1:
        return req.submitted_at, ""
    return starts[0], f"r{len(starts)}"


def ledger_state(rows: Iterable[tuple[str, int, datetime]]) -> tuple[int, tuple[int, datetime] | None]:
    """From (kind, seq, due_at) ledger rows of one clock: last reminder seq, last escalation."""
    last_reminder, last_escalation = 0, None
    for kind, seq, due_at in rows:
        if kind == REMINDER:
            last_reminder = max(last_reminder, seq)
        elif kind == ESCALATION and (last_escalation is None or seq > last_escalation[0]):
            last_escalation = (seq, due_at)
    return last_reminder, last_escalation


def next_reminder_at(req: FeasibilityRequest, now: datetime) -> datetime | None:
    """The earliest instant the sweep must look at this request again (its work-list key)."""
    spec = request_clock_spec(req)
    if spec is None:
        return None
    rows = (
        req.reminders.filter(clock=spec.clock, scope=spec.scope).values_list("kind", "seq", "due_at") if req.pk else []
    )
    last_reminder, last_escalation = ledger_state(rows)
    plan = plan_clock(
        work_calendar(req),
        start=spec.start,
        due=spec.due,
        thresholds=spec.thresholds,
        interval=spec.interval,
        now=now,
        pauses=pauses_of(req) if req.pk else (),
        last_reminder_seq=last_reminder,
        last_escalation=last_escalation,
    )
    # Something is due right now: the sweep should look immediately.
    return now if plan.due else plan.next_at


def department_next_reminder_at(assessment, now: datetime, *, cal=None) -> datetime | None:
    if assessment.assessed_at is not None or assessment.due_at is None:
        return None
    req = assessment.request
    if req.status not in (Status.SUBMITTED, Status.IN_ANALYSIS):
        return None
    cal = cal or department_calendar(assessment)
    rows = assessment.reminders.values_list("kind", "seq", "due_at") if assessment.pk else []
    last_reminder, last_escalation = ledger_state(rows)
    plan = plan_clock(
        cal,
        start=assessment.routed_at,
        due=assessment.due_at,
        thresholds=[float(f) for f in (policy_for(req).reminder_thresholds or [])],
        interval=None,
        now=now,
        pauses=pauses_of(req),
        last_reminder_seq=last_reminder,
        last_escalation=last_escalation,
    )
    return now if plan.due else plan.next_at


# --------------------------------------------------------------------------------------------------
# Clock state for pages and queues
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockState:
    """What a badge shows: 'on track' | 'due soon' | 'breached' | 'met' | 'missed', and business
    seconds left (negative: overdue by that much; for a stopped clock: margin at completion)."""

    label: str
    business_seconds_left: int

    @property
    def css(self) -> str:
        return {
            "on track": "text-bg-success",
            "due soon": "text-bg-warning",
            "breached": "text-bg-danger",
            "met": "text-bg-secondary",
            "missed": "text-bg-dark",
        }[self.label]


def clock_state(
    due: datetime | None, done_at: datetime | None, now: datetime, cal: businesstime.WorkCalendar, *, soon: timedelta = DUE_SOON
) -> ClockState | None:
    """State of one clock at `now` in business time of `cal`; None when it has no due time."""
    if due is None:
        return None
    end = done_at or now
    if end <= due:
        left = int(businesstime.business_time_between(cal, end, due).total_seconds())
        if done_at is not None:
            return ClockState("met", left)
        return ClockState("due soon" if left <= soon.total_seconds() else "on track", left)
    over = int(businesstime.business_time_between(cal, due, end).total_seconds())
    return ClockState("missed" if done_at is not None else "breached", -over)
