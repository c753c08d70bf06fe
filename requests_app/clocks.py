"""The request's SLA clocks: computed due times stored on the row, every change an event row.

Called by `lifecycle.transition` inside its transaction. The arithmetic is in `businesstime`;
this module decides *which* instants to store, following DESIGN.md "Time and SLA semantics".

Two clocks per request, in business time of the request's calendar:
- **acknowledge** (while SUBMITTED): from submitted_at to acknowledge_due;
- **answer** (while IN_ANALYSIS): from its latest start (submission, or a revision) to answer_due;
  it stands still while WAITING_ON_SALES and answer_due moves by the paused business time.

Policy versions. A clock keeps the SLA policy version it started with: submission fixes
`FeasibilityRequest.sla_policy` (both clocks start then), a revision starts a new answer clock on
the version current at that moment, and pauses, resumes and extensions never change it. Editing a
policy creates a new version (`services_sla.sla_policy_update`) that only later clocks get.

What this module does not do, and why (the apps depend one way: `analysis` → `requests_app`):
- **Department clocks** (one per routed assessment) are Operations' and live in `analysis.clocks`.
  Rather than reaching into them, `lifecycle.transition` sends `request_transitioned` (defined
  here) inside its transaction, after the request's own clocks moved; `analysis` receives it and
  pauses, resumes or stops the department clocks in the same transaction. This module never
  names an `analysis` model, not even through a relation.
- **The reminder ledger** is read by the SLA sweep only (`analysis.sla`), the one planner that
  knows what was already sent. `next_reminder_at` here is the earliest instant anything *could* be
  due on the running clock, assuming nothing was sent yet: what the ledger holds can only make the
  true instant later, so the sweep may look once too early, never too late.

Reminder thresholds are fractions of each window measured in *business* time of the clock's
calendar (50% of a 40-business-hour window is 20 business hours after the start, not 50% of the
wall-clock span). `plan_clock` is the pure decision function; the sweep feeds it the clock as
`request_clock_spec` describes it — the one definition of a running request clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import django.dispatch
from django.db.models import Q

from requests_app import businesstime
from requests_app.models import BusinessCalendar, ClockEvent, FeasibilityRequest, Pause, SlaPolicy, Status

Clock = ClockEvent.Clock
Action = ClockEvent.Action
T = TypeVar("T")

# A reminder decided within this long after its scheduled instant keeps the scheduled instant as
# its due time (a sweep runs every minute); later than that the sweep was down, and the decision
# instant becomes the anchor so the next repeat is a full interval away (no bunching).
LATE_TOLERANCE = timedelta(minutes=5)
# Two named horizons, each shown under its own name everywhere:
# - DUE_SOON: a running clock with at most this much business time left is "due soon" — on the
#   badges, the request list, the triage and department queues (all read `measure`).
# - UPCOMING: the dashboard's "due in the next 24 business hours", a look-ahead count and list
#   of open requests (`upcoming_until`); it includes clocks still on track.
DUE_SOON = timedelta(hours=2)
UPCOMING = timedelta(hours=24)

REMINDER = "reminder"
ESCALATION = "escalation"
THRESHOLD_QUANTUM = Decimal("0.001")  # thresholds are kept (and keyed in the ledger) to three decimals

# Sent by `lifecycle.transition` inside its transaction, after the request's clocks moved and the row
# was saved. Arguments: request, from_status, to_status, kind, now, and resumed_pause (the `Pause`
# this transition ended, or None). `analysis.clocks` moves the department clocks on it.
request_transitioned = django.dispatch.Signal()


def hours(value: Decimal | float | int) -> timedelta:
    return timedelta(seconds=round(float(value) * 3600))


def threshold_values(policy: SlaPolicy) -> tuple[Decimal, ...]:
    """The policy's reminder thresholds as the ledger keys them: three decimals, ascending, once each."""
    values = {Decimal(str(f)).quantize(THRESHOLD_QUANTUM) for f in (policy.reminder_thresholds or [])}
    return tuple(sorted(v for v in values if 0 < v < 1))


# --------------------------------------------------------------------------------------------------
# Reference data: calendars and policy versions
# --------------------------------------------------------------------------------------------------


def calendar_for(req: FeasibilityRequest) -> BusinessCalendar:
    if req.calendar_id:
        return req.calendar  # type: ignore[return-value]  # set: calendar_id is checked above
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


def cached(key: tuple, load: Callable[[], T]) -> T:
    """`load()`, or its value from the enclosing `reference_data_cached()` block."""
    cache = _reference_cache.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def work_calendar(req: FeasibilityRequest) -> businesstime.WorkCalendar:
    return cached(("calendar", req.calendar_id), lambda: calendar_for(req).as_work_calendar())


PAGE_CALENDAR_SECONDS = 60
_page_calendars: dict[int | None, tuple[float, businesstime.WorkCalendar]] = {}


def page_calendar(calendar_id: int | None) -> businesstime.WorkCalendar:
    """A calendar for showing clock states on a page (badges, "due soon · 1.5 business h left"),
    kept by this process for up to a minute: every page showed one, at two queries and the
    holiday tables rebuilt each time.

    Only for display. What is stored — due times, met flags, the sweep's reminders — is computed
    from calendars read fresh (`work_calendar`, `calendar_by_id`). A change saved in this process
    is seen at once (`forget_page_calendars`, connected to the models' save and delete); another
    worker shows it within PAGE_CALENDAR_SECONDS."""
    now = time.monotonic()
    hit = _page_calendars.get(calendar_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    calendar = calendar_by_id(calendar_id)
    _page_calendars[calendar_id] = (now + PAGE_CALENDAR_SECONDS, calendar)
    return calendar


def forget_page_calendars(**_kwargs: object) -> None:
    _page_calendars.clear()


class Calendars:
    """Work calendars by id (None: the default) for one page, queue or list (`page_calendar`)."""

    def __init__(self) -> None:
        self._by_id: dict[int | None, businesstime.WorkCalendar] = {}

    def get(self, calendar_id: int | None) -> businesstime.WorkCalendar:
        if calendar_id not in self._by_id:
            self._by_id[calendar_id] = page_calendar(calendar_id)
        return self._by_id[calendar_id]

    def of(self, req: FeasibilityRequest) -> businesstime.WorkCalendar:
        return self.get(req.calendar_id)


def calendar_by_id(calendar_id: int | None) -> businesstime.WorkCalendar:
    """A calendar by primary key (None: the default calendar), read once per cached block."""
    def load() -> businesstime.WorkCalendar:
        calendar = BusinessCalendar.objects.get(pk=calendar_id) if calendar_id else default_calendar()
        return calendar.as_work_calendar()

    return cached(("calendar", calendar_id), load)


def current_policy(priority: str) -> SlaPolicy:
    """The version of `priority`'s policy that a clock starting now gets."""
    def load() -> SlaPolicy:
        policy = SlaPolicy.objects.current().filter(priority=priority).first()
        if policy is None:
            from requests_app.defaults import ensure_reference_data

            ensure_reference_data()
            policy = SlaPolicy.objects.current().get(priority=priority)
        return policy

    return cached(("current policy", priority), load)


def policy_for(req: FeasibilityRequest) -> SlaPolicy:
    """The policy version of the request's clocks; a draft (no clock yet) reads the current one."""
    if req.sla_policy_id is None:
        return current_policy(req.priority)
    # The foreign key is set (checked above), so the related row is a policy, never None.
    return cached(("policy", req.sla_policy_id), lambda: req.sla_policy)  # type: ignore[return-value]


def pauses_of(req: FeasibilityRequest) -> list[tuple[datetime, datetime | None]]:
    return list(req.pauses.values_list("started_at", "ended_at"))


# --------------------------------------------------------------------------------------------------
# Due times
# --------------------------------------------------------------------------------------------------


def default_answer_due(req: FeasibilityRequest, *, start: datetime | None = None) -> datetime:
    """Answer-by the policy gives: answer window in business time from submission, plus pauses."""
    policy = policy_for(req)
    return businesstime.add_business_time_with_pauses(
        work_calendar(req), start or req.submitted_at, hours(policy.answer_hours), pauses_of(req)  # type: ignore[arg-type]  # submitted
    )


def max_answer_due(req: FeasibilityRequest, *, start: datetime | None = None) -> datetime:
    policy = policy_for(req)
    return businesstime.add_business_time_with_pauses(
        work_calendar(req), start or req.submitted_at, hours(policy.max_answer_hours), pauses_of(req)  # type: ignore[arg-type]  # submitted
    )


def business_seconds(req: FeasibilityRequest, start: datetime, end: datetime, *, with_pauses: bool = False) -> int:
    pauses = pauses_of(req) if with_pauses else ()
    return int(businesstime.business_time_between(work_calendar(req), start, end, pauses).total_seconds())


def log(req: FeasibilityRequest, clock: str, action: str, at: datetime, due: datetime | None, department: Any = None) -> None:
    ClockEvent.objects.create(request=req, clock=clock, action=action, at=at, due=due, department=department)


# --------------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------------


def on_transition(
    req: FeasibilityRequest, *, from_status: str, to_status: str, kind: str, now: datetime
) -> tuple[list[str], Pause | None]:
    """Adjust the request's clocks for a state change. Returns the names of the fields it changed
    and the pause this transition ended (None if it ended none), for `request_transitioned`."""
    changed: list[str] = []
    resumed: Pause | None = None
    if from_status == Status.DRAFT and to_status == Status.SUBMITTED:
        submitted = req.submitted_at or now
        req.submitted_at = submitted
        req.sla_policy = policy = current_policy(req.priority)
        cal = work_calendar(req)
        req.acknowledge_due = businesstime.add_business_time(cal, submitted, hours(policy.acknowledge_hours))
        req.answer_due = businesstime.add_business_time(cal, submitted, hours(policy.answer_hours))
        log(req, Clock.ACKNOWLEDGE, Action.START, submitted, req.acknowledge_due)
        log(req, Clock.ANSWER, Action.START, submitted, req.answer_due)
        changed += ["submitted_at", "sla_policy", "acknowledge_due", "answer_due"]
    if to_status == Status.WAITING_ON_SALES:
        req.paused_since = now
        Pause.objects.create(request=req, started_at=now)
        log(req, Clock.ANSWER, Action.PAUSE, now, req.answer_due)
        changed.append("paused_since")
    if from_status == Status.WAITING_ON_SALES and to_status != Status.WAITING_ON_SALES:
        fields, resumed = resume_answer_clock(req, now)
        changed += fields
    if from_status == Status.SUBMITTED and to_status == Status.IN_ANALYSIS:
        req.acknowledged_at = now
        # Out of SUBMITTED: the request was submitted and its acknowledge clock set then.
        req.acknowledge_seconds = business_seconds(req, req.submitted_at, now)  # type: ignore[arg-type]
        req.acknowledge_met = now <= req.acknowledge_due  # type: ignore[operator]
        log(req, Clock.ACKNOWLEDGE, Action.STOP, now, req.acknowledge_due)
        changed += ["acknowledged_at", "acknowledge_seconds", "acknowledge_met"]
    if to_status == Status.ANSWERED:
        req.answered_at = now
        req.answer_seconds = business_seconds(req, req.submitted_at, now, with_pauses=True)  # type: ignore[arg-type]  # submitted
        req.answer_met = req.answer_due is not None and now <= req.answer_due
        log(req, Clock.ANSWER, Action.STOP, now, req.answer_due)
        changed += ["answered_at", "answer_seconds", "answer_met"]
    if from_status == Status.ANSWERED and to_status == Status.IN_ANALYSIS:
        # A revision is a new promise: a fresh answer window from now, on the policy version
        # current now. The first answer's time and met/breached record stay as they were (they
        # describe the first answer).
        req.sla_policy = policy = current_policy(req.priority)
        req.answer_due = businesstime.add_business_time(work_calendar(req), now, hours(policy.answer_hours))
        log(req, Clock.ANSWER, Action.START, now, req.answer_due)
        changed += ["sla_policy", "answer_due"]
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
    return changed, resumed


def resume_answer_clock(req: FeasibilityRequest, now: datetime) -> tuple[list[str], Pause | None]:
    """End the open pause: answer_due (and a running acknowledge_due) move later by the paused
    business time. Returns the changed field names and the pause it ended."""
    pause = req.pauses.filter(ended_at__isnull=True).first()
    if pause is None:
        return [], None
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
    return ["paused_seconds", "paused_since", "answer_due", "acknowledge_due"], pause


def answer_due_moved(req: FeasibilityRequest, *, now: datetime) -> list[str]:
    """Call after answer_due was extended (inside the same transaction): logs EXTEND and puts the
    request back on the sweep's work list at the right instant. Returns changed field names.

    Department due times do not move: they are internal targets set when the work was routed,
    and a late department is exactly what an extension should not hide (DESIGN.md: "a late
    answer shows which department burned the time")."""
    log(req, Clock.ANSWER, Action.EXTEND, now, req.answer_due)
    if req.status in (Status.SUBMITTED, Status.IN_ANALYSIS):
        req.next_reminder_at = next_reminder_at(req, now)
        return ["next_reminder_at"]
    return []


# --------------------------------------------------------------------------------------------------
# Planning: which reminders and escalations are due, and when to look again
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueNotice:
    """A reminder or escalation the sweep must record now: a reminder names its threshold (the
    fraction of the window), an escalation its number."""

    kind: str  # REMINDER | ESCALATION
    seq: int  # escalation number; 0 for a reminder
    due_at: datetime
    threshold: Decimal = Decimal(0)


@dataclass(frozen=True)
class Plan:
    due: list[DueNotice] = field(default_factory=list)
    next_at: datetime | None = None


@dataclass(frozen=True)
class ClockSpec:
    """One running clock, as the planner needs it. (clock, scope) name its ledger rows."""

    clock: str
    scope: str
    start: datetime
    due: datetime
    thresholds: tuple[Decimal, ...]
    interval: timedelta | None  # escalation repeat; None = a single breach notice


@dataclass(frozen=True)
class LedgerState:
    """What the ledger already holds for one clock: the highest threshold reminded, the last escalation."""

    last_threshold: Decimal | None = None
    last_escalation: tuple[int, datetime] | None = None


def plan_clock(
    cal: businesstime.WorkCalendar,
    *,
    start: datetime,
    due: datetime,
    thresholds: Sequence[Decimal],
    interval: timedelta | None,
    now: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
    recorded: LedgerState = LedgerState(),
) -> Plan:
    """Decide what is due on one clock at `now`, and when to look again. Pure: no ORM, no clock.

    - The reminder at threshold f is due at fraction f of the window in business time
      (``start`` + f × business_time_between(start, due)), delivered at the next opening.
      If several became due while nobody looked, only the latest is sent: a 50% reminder after
      the 80% one is noise. Thresholds at or below one already recorded are done. None once the
      clock is breached: the escalation speaks then.
    - Escalation 1 is due at ``due`` (next opening); escalation n+1 an ``interval`` of business
      time after escalation n *was due*. After an outage, one escalation goes with the next
      number, anchored at now, so the following one is a full interval later (never bunched).
      ``interval=None``: only one breach notice.
    - Nothing is decided outside working hours: a sweep at night returns ``next_at`` = the
      next opening and no notices (reminders go within working hours only).
    ``recorded`` is what the ledger already holds for this clock.
    """
    pauses = list(pauses)
    if not businesstime.is_working_time(cal, now):
        # Look again at the opening, or later if nothing will be due even then.
        opening = businesstime.next_working_instant(cal, now)
        later = plan_clock(
            cal, start=start, due=due, thresholds=thresholds, interval=interval, now=opening, pauses=pauses,
            recorded=recorded,
        )
        return Plan([], opening if later.due else later.next_at)
    due_opening = businesstime.next_working_instant(cal, due)
    notices: list[DueNotice] = []
    if now < due_opening:
        window = businesstime.business_time_between(cal, start, due, pauses)
        ready: tuple[Decimal, datetime] | None = None
        next_at = due_opening
        for threshold in sorted(thresholds):
            if (recorded.last_threshold is not None and threshold <= recorded.last_threshold) or not 0 < threshold < 1:
                continue
            nominal = businesstime.add_business_time_with_pauses(cal, start, window * float(threshold), pauses)
            at = businesstime.next_working_instant(cal, nominal)
            if at <= now:
                ready = (threshold, at)
            else:
                next_at = min(at, due_opening)
                break
        if ready is not None:
            notices.append(DueNotice(REMINDER, 0, _anchor(ready[1], now), threshold=ready[0]))
        return Plan(notices, next_at)
    if recorded.last_escalation is None:
        seq, scheduled = 1, due_opening
    else:
        if interval is None:
            return Plan([], None)  # the single breach notice is already recorded
        last_seq, last_at = recorded.last_escalation
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


def request_clock_spec(
    req: FeasibilityRequest, *, policy: SlaPolicy | None = None, answer_starts: Sequence[datetime] | None = None
) -> ClockSpec | None:
    """The running request clock (acknowledge while SUBMITTED, answer while IN_ANALYSIS), or None.

    The one definition of a request clock: the page badges, `next_reminder_at` and the sweep all
    read it. `policy` (the request's version) and `answer_starts` (the answer clock's START
    instants, newest first) may be passed in when the caller has read them for many requests."""
    policy = policy or policy_for(req)
    thresholds = threshold_values(policy)
    interval = hours(policy.escalation_interval_hours)
    if req.status == Status.SUBMITTED and req.submitted_at and req.acknowledge_due:
        return ClockSpec(Clock.ACKNOWLEDGE, "", req.submitted_at, req.acknowledge_due, thresholds, interval)
    if req.status == Status.IN_ANALYSIS and req.answer_due:
        if answer_starts is None:
            answer_starts = list(
                req.clock_events.filter(clock=Clock.ANSWER, action=Action.START)
                .order_by("-at", "-id").values_list("at", flat=True)
            ) if req.pk else []
        start, scope = answer_window(req, answer_starts)
        return ClockSpec(Clock.ANSWER, scope, start, req.answer_due, thresholds, interval)
    return None


def answer_window(req: FeasibilityRequest, starts: Sequence[datetime]) -> tuple[datetime, str]:
    """Start of the current answer window and its ledger scope: "" for the first window, "r2",
    "r3", … after revisions, so a revision's reminders are new rows and not "already sent"."""
    if len(starts) <= 1:
        return req.submitted_at, ""  # type: ignore[return-value]  # a running answer clock: submitted
    return starts[0], f"r{len(starts)}"


def ledger_state(rows: Iterable[tuple[str, Decimal, int, datetime]]) -> LedgerState:
    """From (kind, threshold, seq, due_at) ledger rows of one clock: what is already recorded."""
    last_threshold: Decimal | None = None
    last_escalation: tuple[int, datetime] | None = None
    for kind, threshold, seq, due_at in rows:
        if kind == REMINDER:
            last_threshold = threshold if last_threshold is None else max(last_threshold, threshold)
        elif kind == ESCALATION and (last_escalation is None or seq > last_escalation[0]):
            last_escalation = (seq, due_at)
    return LedgerState(last_threshold, last_escalation)


def next_reminder_at(req: FeasibilityRequest, now: datetime) -> datetime | None:
    """The earliest instant the sweep must look at this request again (its work-list key).

    Planned as if nothing had been sent on the running clock yet: the ledger (which the sweep
    reads) can only make the true instant later, so this never makes the sweep late."""
    spec = request_clock_spec(req)
    if spec is None:
        return None
    plan = plan_clock(
        work_calendar(req), start=spec.start, due=spec.due, thresholds=spec.thresholds, interval=spec.interval, now=now,
        pauses=pauses_of(req) if req.pk else (),
    )
    # Something is due right now: the sweep should look immediately.
    return now if plan.due else plan.next_at


# --------------------------------------------------------------------------------------------------
# Clock state: what every page, list, queue, e-mail and count shows
# --------------------------------------------------------------------------------------------------


class ClockStatus(StrEnum):
    ON_TRACK = "on track"
    DUE_SOON = "due soon"  # running, at most DUE_SOON of business time left
    BREACHED = "breached"  # running, past due (DESIGN.md: "now past due and not done")
    PAUSED = "paused"  # waiting on Sales: the due time moves on when the clock resumes
    MET = "met"  # done at or before due
    MISSED = "missed"  # done after due


_CSS = {
    ClockStatus.ON_TRACK: "text-bg-success",
    ClockStatus.DUE_SOON: "text-bg-warning",
    ClockStatus.BREACHED: "text-bg-danger",
    ClockStatus.PAUSED: "text-bg-info",
    ClockStatus.MET: "text-bg-secondary",
    ClockStatus.MISSED: "text-bg-dark",
}


@dataclass(frozen=True)
class ClockState:
    """One SLA clock at one instant, as `measure` decides it.

    `business_seconds_left` is the business time from now (or from completion) to the due time:
    negative when overdue (or missed) by that much; None while paused (the due time will move)
    or when the due time lies beyond the horizon the clock math covers (`businesstime.MAX_SPAN`)."""

    clock: str  # Clock.ACKNOWLEDGE | Clock.ANSWER | Clock.DEPARTMENT
    status: ClockStatus
    due: datetime
    business_seconds_left: int | None

    @property
    def label(self) -> str:
        return str(self.status)

    @property
    def css(self) -> str:
        return _CSS[self.status]

    @property
    def is_breached(self) -> bool:
        return self.status == ClockStatus.BREACHED

    @property
    def is_done(self) -> bool:
        return self.status in (ClockStatus.MET, ClockStatus.MISSED)


def measure(
    *, clock: str, due: datetime | None, done_at: datetime | None, now: datetime, cal: businesstime.WorkCalendar,
    paused: bool = False,
) -> ClockState | None:
    """The one decision of a clock's state; None when the clock has no due time.

    Done (``done_at`` set): met if done at or before ``due``, else missed. Not done: paused while
    ``paused``; breached once ``now`` is past ``due`` (even at night, when no business time
    elapses: the promise was broken at ``due``); due soon with at most ``DUE_SOON`` of business
    time left; on track otherwise. Business time is counted in ``cal``.

    `FeasibilityRequest.get_clock_state` and `Assessment.get_clock_state` say which due, completion
    and pause belong to a clock; `breached_q` is the same rule in SQL for counts and lists.
    """
    if due is None:
        return None
    if done_at is not None:
        status = ClockStatus.MET if done_at <= due else ClockStatus.MISSED
        return ClockState(clock, status, due, _signed_business_seconds(cal, done_at, due))
    if paused:
        return ClockState(clock, ClockStatus.PAUSED, due, None)
    left = _signed_business_seconds(cal, now, due)
    if now > due:
        status = ClockStatus.BREACHED
    elif left is not None and left <= DUE_SOON.total_seconds():
        status = ClockStatus.DUE_SOON
    else:
        status = ClockStatus.ON_TRACK
    return ClockState(clock, status, due, left)


def _signed_business_seconds(cal: businesstime.WorkCalendar, end: datetime, due: datetime) -> int | None:
    """Business seconds from `end` to `due` (negative when `end` is later); None beyond the horizon."""
    first, last = (end, due) if end <= due else (due, end)
    if last - first > businesstime.MAX_SPAN:
        return None
    seconds = int(businesstime.business_time_between(cal, first, last).total_seconds())
    return seconds if end <= due else -seconds


def breached_q(now: datetime) -> Q:
    """Requests whose `get_clock_state(now)` is BREACHED, in SQL (for counts and lists): the
    acknowledge clock past due while SUBMITTED, the answer clock past due while IN_ANALYSIS. A
    request waiting on Sales is paused, an answered one done."""
    return Q(status=Status.SUBMITTED, acknowledge_due__lt=now) | Q(status=Status.IN_ANALYSIS, answer_due__lt=now)


def upcoming_until(now: datetime, cal: businesstime.WorkCalendar) -> datetime:
    """The end of the dashboard's "due in the next 24 business hours" (`UPCOMING` of `cal`'s
    business time from now). A horizon for a count, not a state: badges say "due soon" only
    within `DUE_SOON`."""
    return businesstime.add_business_time(cal, now, UPCOMING)


# --------------------------------------------------------------------------------------------------
# Promises: which answer-by times a lead may commit to
# --------------------------------------------------------------------------------------------------


class PromiseIssue(StrEnum):
    PAST = "past"  # not in the future
    TOO_SOON = "too soon"  # leaves less than the policy's minimum of business time
    DAY_OFF = "day off"  # a weekend, public holiday or closure day of the calendar
    OUTSIDE_HOURS = "outside hours"  # a working day, but not in (or at the end of) a working period
    TOO_FAR = "too far"  # beyond the policy's horizon: refused, nothing proposed


@dataclass(frozen=True)
class PromiseProblem:
    """What is wrong with a promised answer-by, as facts for the caller to word.

    `proposal` is the next answer-by that would be accepted (None for TOO_FAR, or when the next
    working time lies beyond the horizon); `earliest` the first acceptable instant from now,
    `latest` the horizon; `day_off` and `holiday` say why a day has no working time."""

    issue: PromiseIssue
    proposal: datetime | None
    earliest: datetime
    latest: datetime
    day_off: str = ""  # "weekend" | "holiday" | "closure"
    holiday: str = ""


def promise_limits(policy: SlaPolicy) -> tuple[timedelta, timedelta]:
    """(minimum business time from the promise, horizon in calendar time) of a policy version."""
    return hours(policy.min_answer_hours), timedelta(days=policy.max_horizon_days)


def promise_problem(
    cal: businesstime.WorkCalendar, *, due: datetime, now: datetime, minimum: timedelta, horizon: timedelta
) -> PromiseProblem | None:
    """None when `due` is an answer-by a lead may promise at `now`; otherwise what is wrong.

    DESIGN.md: a promise lies in working time (a period's end counts: "by 17:00"), leaves at least
    `minimum` of business time from now, and lies at most `horizon` ahead. Pure: no ORM, no clock.
    The horizon is checked before any business-time math, so a year-5000 date costs nothing."""
    latest = now + horizon
    earliest = _minute_ceiling(_acceptable_from(cal, businesstime.add_business_time(cal, now, minimum)))

    def problem(issue: PromiseIssue, proposal: datetime | None, **why: str) -> PromiseProblem:
        if proposal is not None and proposal > latest:
            proposal = None
        return PromiseProblem(issue, proposal, earliest, latest, **why)

    if due <= now:
        return problem(PromiseIssue.PAST, earliest)
    if due > latest:
        return problem(PromiseIssue.TOO_FAR, None)
    if due < earliest:
        return problem(PromiseIssue.TOO_SOON, earliest)
    if _is_promisable(cal, due):
        return None
    proposal = _minute_ceiling(businesstime.next_working_instant(cal, due))
    local_day = due.astimezone(ZoneInfo(cal.time_zone)).date()
    day_off, holiday = businesstime.day_off_reason(cal, local_day)
    if day_off:
        return problem(PromiseIssue.DAY_OFF, proposal, day_off=day_off, holiday=holiday)
    return problem(PromiseIssue.OUTSIDE_HOURS, proposal)


def _is_promisable(cal: businesstime.WorkCalendar, instant: datetime) -> bool:
    return businesstime.is_working_time(cal, instant) or businesstime.is_period_end(cal, instant)


def _acceptable_from(cal: businesstime.WorkCalendar, instant: datetime) -> datetime:
    return instant if _is_promisable(cal, instant) else businesstime.next_working_instant(cal, instant)


def _minute_ceiling(instant: datetime) -> datetime:
    """Up to the whole minute (a form shows minutes); periods open and close on whole minutes, so
    a working instant stays working time or becomes its period's end."""
    floor = instant.replace(second=0, microsecond=0)
    return floor if floor == instant else floor + timedelta(minutes=1)
