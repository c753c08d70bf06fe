"""The SLA sweep: what reminders and escalations are due, decided once, delivered at least once.

shared/RELIABILITY.md rules 1–3, in the shape of healthchecks.io's `sendalerts`:
- **Decide** (`sla_sweep`): in one short transaction, take a batch of due rows of the work lists
  (`FeasibilityRequest.next_reminder_at`, `Assessment.next_reminder_at`, both behind partial
  indexes) with `select_for_update(skip_locked=True)`, describe each running clock with its one
  specification (`clocks.request_clock_spec`, `analysis.clocks.department_clock_spec`, on the
  policy version the clock started with), ask `clocks.plan_clock` what is due given what the
  ledger already holds, insert `ReminderLedger` rows (unique: a conflict means "already
  decided") and move `next_reminder_at` to the next decision instant. The sweep is the only
  planner that reads the ledger. Delivery is enqueued after commit, robustly.
  Loops until nothing is due: the cost is O(due), not O(all requests).
- **Deliver** (`deliver_ledger`): claim with a guarded UPDATE, send the e-mail with no lock held
  and a deterministic Message-ID, then mark sent together with the in-app notifications and the
  timeline event. A crash after the hand-off to the mail server can send twice with the same
  Message-ID, never zero times.
- **Recover** (every sweep): re-enqueue ledger rows still unsent after a grace period, and
  generic notification e-mails (`notifications.resend_pending_emails`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from analysis import clocks as department_clocks
from analysis.models import Assessment, ReminderLedger
from requests_app import businesstime, clocks, notifications, roles
from requests_app.middleware import user_time_zone
from requests_app.models import (
    BusinessCalendar,
    Department,
    FeasibilityRequest,
    Notification,
    Pause,
    RequestEvent,
    Role,
    SlaPolicy,
    Status,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_BATCHES = 10_000  # a guard against a bug that would keep a row due forever
GRACE = timedelta(minutes=2)  # unsent this long after the decision: the sweep re-enqueues it
LEASE = timedelta(minutes=5)  # a claim older than this is considered abandoned (worker died)
RETRY_LATER = timedelta(minutes=15)  # a row whose decision failed is looked at again after this
DIGEST_AFTER = time(7, 30)

Kind = ReminderLedger.Kind
LedgerClock = ReminderLedger.Clock
SWEPT_STATUSES = [Status.SUBMITTED, Status.IN_ANALYSIS]

Deliver = Callable[[list[int]], None]


@dataclass
class SweepResult:
    requests: int = 0
    assessments: int = 0
    decided: int = 0
    reenqueued: int = 0
    emails_resent: int = 0
    ledger_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ledger_ids"] = len(self.ledger_ids)
        return data


# --------------------------------------------------------------------------------------------------
# Enqueueing (never lets a broker error escape)
# --------------------------------------------------------------------------------------------------


def enqueue_deliveries(ledger_ids: list[int]) -> None:
    """Hand ledger rows to Celery. A broker error is logged, never raised: the rows stay unsent
    and the next sweep re-enqueues them (rule 3). Stops at the first failure so a dead broker
    costs one timeout, not one per row."""
    from analysis.tasks import deliver_reminder

    for position, ledger_id in enumerate(ledger_ids):
        try:
            deliver_reminder.delay(ledger_id)
        except Exception:
            log.warning("broker unavailable: %d reminder deliveries left for the next sweep", len(ledger_ids) - position)
            return


def deliver_inline(ledger_ids: list[int]) -> None:
    """Deliver in this process (the `sla_sweep --deliver` command; no broker needed)."""
    for ledger_id in ledger_ids:
        deliver_ledger(ledger_id)


def _after_commit(deliver: Deliver, ledger_ids: list[int]) -> None:
    if ledger_ids:
        transaction.on_commit(partial(deliver, list(ledger_ids)), robust=True)


# --------------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------------


def sla_sweep(*, now: datetime | None = None, batch_size: int = BATCH_SIZE, deliver: Deliver | None = None) -> SweepResult:
    """One sweep: decide every due reminder/escalation, then recover what was left unsent."""
    now = now or timezone.now()
    deliver = deliver or enqueue_deliveries
    result = SweepResult()
    context = _SweepContext(now)
    for batch_fn, counter in ((_request_batch, "requests"), (_assessment_batch, "assessments")):
        for _ in range(MAX_BATCHES):
            with transaction.atomic():
                seen, ledger_ids = batch_fn(context, batch_size)
                _after_commit(deliver, ledger_ids)
            setattr(result, counter, getattr(result, counter) + seen)
            result.ledger_ids += ledger_ids
            if seen < batch_size:
                break
    result.decided = len(result.ledger_ids)
    result.reenqueued = reenqueue_unsent(now=now, deliver=deliver)
    try:
        result.emails_resent = notifications.resend_pending_emails(now=now)
    except Exception:  # the backstop of another feature must never stall reminders
        log.exception("resend_pending_emails failed")
    return result


class _SweepContext:
    """Per-sweep caches: calendars, policy versions and role members are read once, not per row."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._calendars: dict[int, businesstime.WorkCalendar] = {}
        self._default: BusinessCalendar | None = None
        self._policies = {p.pk: p for p in SlaPolicy.objects.all()}
        self._roles: dict[str, list[int]] = {}

    def calendar(self, calendar_id: int | None) -> businesstime.WorkCalendar:
        if calendar_id is None:
            self._default = self._default or clocks.default_calendar()
            calendar_id = self._default.pk
        if calendar_id not in self._calendars:
            self._calendars[calendar_id] = BusinessCalendar.objects.get(pk=calendar_id).as_work_calendar()
        return self._calendars[calendar_id]

    def policy(self, policy_id: int | None, priority: str) -> SlaPolicy:
        """The policy version a clock started with (rows from before versions: the current one)."""
        if policy_id is None:
            return clocks.current_policy(priority)
        if policy_id not in self._policies:
            self._policies[policy_id] = SlaPolicy.objects.get(pk=policy_id)
        return self._policies[policy_id]

    def role_members(self, role: str) -> list[int]:
        if role not in self._roles:
            self._roles[role] = list(roles.members(role).order_by("pk").values_list("pk", flat=True))
        return self._roles[role]


def _request_batch(ctx: _SweepContext, batch_size: int) -> tuple[int, list[int]]:
    now = ctx.now
    rows = list(
        FeasibilityRequest.objects.filter(status__in=SWEPT_STATUSES, next_reminder_at__isnull=False, next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .select_for_update(skip_locked=True, of=("self",))
        .only(
            "pk", "status", "priority", "sla_policy_id", "calendar_id", "submitted_at", "acknowledge_due", "answer_due",
            "next_reminder_at",
        )[:batch_size]
    )
    if not rows:
        return 0, []
    ids = [r.pk for r in rows]
    pauses = _pauses_by_request(ids)
    answer_starts = _answer_starts(ids)
    ledger = _ledger_rows(Q(request_id__in=ids) & ~Q(clock=LedgerClock.DEPARTMENT))
    answer_holders = _answer_holders([r.pk for r in rows if r.status == Status.IN_ANALYSIS])
    new_rows: list[ReminderLedger] = []
    for req in rows:
        try:
            spec = clocks.request_clock_spec(
                req, policy=ctx.policy(req.sla_policy_id, req.priority), answer_starts=answer_starts.get(req.pk, [])
            )
            if spec is None:
                req.next_reminder_at = None
                continue
            plan = clocks.plan_clock(
                ctx.calendar(req.calendar_id), start=spec.start, due=spec.due, thresholds=spec.thresholds,
                interval=spec.interval, now=now, pauses=pauses.get(req.pk, ()),
                recorded=clocks.ledger_state(ledger[(req.pk, spec.clock, spec.scope)]),
            )
            for notice in plan.due:
                recipients = _request_recipients(ctx, req, spec.clock, notice.kind, answer_holders.get(req.pk, ()))
                new_rows.append(
                    ReminderLedger(
                        request_id=req.pk, clock=spec.clock, scope=spec.scope, kind=notice.kind, threshold=notice.threshold,
                        seq=notice.seq, due_at=notice.due_at, created_at=now, recipients=recipients,
                    )
                )
            req.next_reminder_at = _later_than_now(plan.next_at, now)
        except Exception:  # one bad row (e.g. a broken calendar) must never stall the sweep
            log.exception("SLA decision failed for request %s; retrying later", req.pk)
            req.next_reminder_at = now + RETRY_LATER
    _save_next_reminders(FeasibilityRequest, rows)
    return len(rows), _insert_ledger(new_rows, now)


def _assessment_batch(ctx: _SweepContext, batch_size: int) -> tuple[int, list[int]]:
    now = ctx.now
    rows = list(
        Assessment.objects.filter(assessed_at__isnull=True, next_reminder_at__isnull=False, next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("request", "department")
        .only(
            "pk", "request_id", "department_id", "department__code", "department__name", "owner_id", "routed_at", "due_at",
            "sla_policy_id", "next_reminder_at", "assessed_at", "request__status", "request__priority",
            "request__sla_policy_id", "request__calendar_id", "department__calendar_id",
        )[:batch_size]
    )
    if not rows:
        return 0, []
    pauses = _pauses_by_request([a.request_id for a in rows])
    ledger = _ledger_rows(Q(assessment_id__in=[a.pk for a in rows]))
    members = _department_members([a.department_id for a in rows])
    new_rows: list[ReminderLedger] = []
    for assessment in rows:
        try:
            req = assessment.request
            policy = ctx.policy(assessment.sla_policy_id or req.sla_policy_id, req.priority)
            spec = department_clocks.department_clock_spec(assessment, policy=policy)
            if req.status != Status.IN_ANALYSIS or spec is None:
                assessment.next_reminder_at = None  # paused, answered or closed: not on the work list
                continue
            plan = clocks.plan_clock(
                ctx.calendar(department_clocks.department_calendar_id(assessment, req)), start=spec.start, due=spec.due,
                thresholds=spec.thresholds, interval=spec.interval, now=now, pauses=pauses.get(req.pk, ()),
                recorded=clocks.ledger_state(ledger[(req.pk, spec.clock, spec.scope)]),
            )
            for notice in plan.due:
                recipients = list(members.get(assessment.department_id, []))
                if assessment.owner_id:
                    recipients.append(assessment.owner_id)
                if notice.kind == Kind.ESCALATION:  # the department's own breach: the leads hear too
                    recipients += ctx.role_members(Role.OPS_LEAD)
                new_rows.append(
                    ReminderLedger(
                        request_id=req.pk, assessment_id=assessment.pk, clock=spec.clock, scope=spec.scope,
                        kind=notice.kind, threshold=notice.threshold, seq=notice.seq, due_at=notice.due_at, created_at=now,
                        recipients=_unique(recipients),
                    )
                )
            assessment.next_reminder_at = _later_than_now(plan.next_at, now)
        except Exception:
            log.exception("SLA decision failed for assessment %s; retrying later", assessment.pk)
            assessment.next_reminder_at = now + RETRY_LATER
    _save_next_reminders(Assessment, rows)
    return len(rows), _insert_ledger(new_rows, now)


def _request_recipients(ctx: _SweepContext, req: FeasibilityRequest, clock: str, kind: str, holders: Iterable[int]) -> list[int]:
    """Who holds the clock (DESIGN.md): leads for acknowledge; routed departments, assessment
    owners and leads for the answer; managers for every escalation."""
    if kind == Kind.ESCALATION:
        return _unique(ctx.role_members(Role.MANAGER))
    if clock == LedgerClock.ACKNOWLEDGE:
        return _unique(ctx.role_members(Role.OPS_LEAD))
    return _unique([*holders, *ctx.role_members(Role.OPS_LEAD)])


def _later_than_now(next_at: datetime | None, now: datetime) -> datetime | None:
    # A next instant not after now would make the batch loop see the same row again.
    if next_at is None:
        return None
    return next_at if next_at > now else now + timedelta(minutes=1)


def _unique(ids: Iterable[int | None]) -> list[int]:
    return list(dict.fromkeys(i for i in ids if i))


def _pauses_by_request(ids: list[int]) -> dict[int, list[tuple[datetime, datetime | None]]]:
    result: dict[int, list] = defaultdict(list)
    rows = Pause.objects.filter(request_id__in=ids).values_list("request_id", "started_at", "ended_at")
    for request_id, started, ended in rows:
        result[request_id].append((started, ended))
    return result


def _answer_starts(ids: list[int]) -> dict[int, list[datetime]]:
    from requests_app.models import ClockEvent

    result: dict[int, list[datetime]] = defaultdict(list)
    events = (
        ClockEvent.objects.filter(request_id__in=ids, clock=ClockEvent.Clock.ANSWER, action=ClockEvent.Action.START)
        .order_by("request_id", "-at", "-id")
        .values_list("request_id", "at")
    )
    for request_id, at in events:
        result[request_id].append(at)
    return result


def _ledger_rows(condition: Q) -> dict[tuple[int, str, str], list[tuple[str, Decimal, int, datetime]]]:
    result: dict[tuple[int, str, str], list] = defaultdict(list)
    for request_id, clock, scope, kind, threshold, seq, due_at in ReminderLedger.objects.filter(condition).values_list(
        "request_id", "clock", "scope", "kind", "threshold", "seq", "due_at"
    ):
        result[(request_id, clock, scope)].append((kind, threshold, seq, due_at))
    return result


def _answer_holders(request_ids: list[int]) -> dict[int, list[int]]:
    """Members of each routed department plus assessment owners, per request."""
    if not request_ids:
        return {}
    routed = list(Assessment.objects.filter(request_id__in=request_ids).values_list("request_id", "department_id", "owner_id"))
    members = _department_members([d for _, d, _ in routed])
    result: dict[int, list[int]] = defaultdict(list)
    for request_id, department_id, owner_id in routed:
        result[request_id] += members.get(department_id, [])
        if owner_id:
            result[request_id].append(owner_id)
    return result


def _department_members(department_ids: Iterable[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = defaultdict(list)
    through = Department.members.through
    for department_id, user_id in (
        through.objects.filter(department_id__in=set(department_ids), user__is_active=True)
        .order_by("user_id")
        .values_list("department_id", "user_id")
    ):
        result[department_id].append(user_id)
    return result


def _insert_ledger(rows: list[ReminderLedger], now: datetime) -> list[int]:
    """Insert; a unique conflict means another sweeper decided it already (harmless: that
    sweeper enqueues it, and recovery is the backstop). Returns the ids this pass inserted —
    they carry `created_at=now` (bulk_create with ignore_conflicts returns no primary keys)."""
    if not rows:
        return []
    ReminderLedger.objects.bulk_create(rows, ignore_conflicts=True)
    # Request clocks and department clocks are decided in separate batches: each pass returns its
    # own kind only, or a request with both due in one sweep would be enqueued twice.
    mine = (
        Q(assessment_id__in={row.assessment_id for row in rows}) if rows[0].assessment_id
        else Q(request_id__in={row.request_id for row in rows}, assessment__isnull=True)
    )
    return list(
        ReminderLedger.objects.filter(mine, created_at=now, sent_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    )


def _save_next_reminders(model: type[FeasibilityRequest] | type[Assessment], rows: list) -> None:
    """Write each row's new `next_reminder_at` in one statement. Django's bulk_update builds a
    CASE per row and cost half the sweep's time in bench/sweep_bench.py; on PostgreSQL an
    UPDATE … FROM (VALUES …) does the same in a fraction. Elsewhere: one UPDATE per distinct value."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        values = ", ".join(["(%s, %s::timestamptz)"] * len(rows))
        params: list = []
        for row in rows:
            params += [row.pk, row.next_reminder_at]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET next_reminder_at = v.next_at FROM (VALUES {values}) AS v(id, next_at) "
                "WHERE t.id = v.id",  # nosec B608
                params,
            )
        return
    by_value: dict = defaultdict(list)
    for row in rows:
        by_value[row.next_reminder_at].append(row.pk)
    for value, pks in by_value.items():
        model.objects.filter(pk__in=pks).update(next_reminder_at=value)


def reenqueue_unsent(*, now: datetime | None = None, deliver: Deliver | None = None, limit: int = 500) -> int:
    """Recovery (rule 3): rows still unsent after the grace period and not currently claimed —
    the broker was down at decision time, the message was lost, or a worker died mid-task."""
    now = now or timezone.now()
    ids = list(
        ReminderLedger.objects.filter(_deliverable(now), created_at__lt=now - GRACE)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        (deliver or enqueue_deliveries)(ids)
    return len(ids)


# --------------------------------------------------------------------------------------------------
# Delivery: claim → send → mark
# --------------------------------------------------------------------------------------------------


def deliver_ledger(ledger_id: int, *, now: datetime | None = None) -> bool:
    """Deliver one ledger row to the recipients whose working hours it is now. True if this call
    sent it (to all or some); False if it was already sent, someone else holds the claim, nobody
    is in their working hours yet, or sending failed (recorded on the row, claim released for a
    retry with back-off).

    A reminder reaches each recipient inside their own working hours (DESIGN.md): those outside
    them wait on the row (`next_attempt_at` = the earliest of their next openings) and the sweep's
    recovery hands it back then. Everyone in working hours now gets one e-mail with all of them in
    To:; `delivered_to` records who has it, so each recipient gets it once."""
    now = now or timezone.now()
    claimed = ReminderLedger.objects.filter(_deliverable(now), pk=ledger_id).update(claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return False
    try:
        ledger = ReminderLedger.objects.select_related("request__customer", "assessment__department").get(pk=ledger_id)
        delivered = list(ledger.delivered_to or [])
        users = [
            u for u in get_user_model().objects.filter(pk__in=ledger.recipients or [], is_active=True).select_related("profile")
            if u.pk not in delivered
        ]
        if ledger.kind == Kind.DIGEST:  # the morning summary has its own hour (`send_morning_digests`)
            ready, next_at = users, None
        else:
            calendars = recipient_calendars(users)
            ready_ids, next_at = split_by_working_hours(calendars, now)
            ready = [u for u in users if u.pk in ready_ids]
        content = compose(ledger, now=now)
        if ready:
            later = [{"name": _name(u), "when": _local(next_working(calendars[u.pk], now), u)}
                     for u in users if u not in ready] if ledger.kind != Kind.DIGEST else []
            email = build_email(ledger, {**content, "later": later}, [u for u in ready if wants_email(u, ledger)],
                                part=len(delivered))
            if email is not None:
                email.send()  # no transaction and no row lock held while the mail server talks
        _mark_delivered(ledger, content, ready, delivered=delivered, next_at=next_at, claimed_at=now)
    except Exception as exc:  # pushed forward with back-off, never crash-looping (STYLE.md habit 11)
        log.exception("delivery of reminder ledger %s failed", ledger_id)
        attempts = ReminderLedger.objects.filter(pk=ledger_id).values_list("attempts", flat=True).first() or 1
        failed = timezone.now()
        next_attempt = notifications.email_retry_policy().next_attempt_at(attempts, failed)
        ReminderLedger.objects.filter(pk=ledger_id, sent_at__isnull=True).update(
            claimed_at=None, last_error=notifications.error_text(exc), next_attempt_at=next_attempt,
            failed_at=None if next_attempt else failed,
        )
        return False
    return bool(ready)


def _deliverable(now: datetime) -> Q:
    """Unsent, not given up, due for its next attempt, and not held by a live claim."""
    return (
        Q(sent_at__isnull=True, failed_at__isnull=True)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
    )


# --------------------------------------------------------------------------------------------------
# Recipients' working hours
# --------------------------------------------------------------------------------------------------


def recipient_calendars(users: Iterable) -> dict[int, businesstime.WorkCalendar]:
    """Each recipient's working hours: the calendar of their department when it has its own (the
    first such department), otherwise the default calendar read in the recipient's own time zone
    (Preferences) when they set one — a lead in New York is not reminded at 03:00 by Berlin hours."""
    users = list(users)
    if not users:
        return {}
    default = clocks.default_calendar().as_work_calendar()
    department_calendar: dict[int, int] = {}
    for user_id, calendar_id in (
        Department.members.through.objects.filter(user_id__in=[u.pk for u in users], department__calendar__isnull=False)
        .order_by("department_id")
        .values_list("user_id", "department__calendar_id")
    ):
        department_calendar.setdefault(user_id, calendar_id)
    by_id = {
        c.pk: c.as_work_calendar()
        for c in BusinessCalendar.objects.filter(pk__in=set(department_calendar.values())).prefetch_related("closures")
    }
    result: dict[int, businesstime.WorkCalendar] = {}
    for user in users:
        if user.pk in department_calendar:
            result[user.pk] = by_id[department_calendar[user.pk]]
            continue
        zone = user_time_zone(user)
        result[user.pk] = replace(default, time_zone=zone.key) if zone and zone.key != default.time_zone else default
    return result


def split_by_working_hours(
    calendars: dict[int, businesstime.WorkCalendar], now: datetime
) -> tuple[set[int], datetime | None]:
    """Who is in their working hours at `now`, and the earliest instant another one will be (None:
    nobody waits). Pure. A calendar that cannot say (no working time for years) does not hold
    anyone back: late is better than never."""
    ready: set[int] = set()
    next_at: datetime | None = None
    for user_id, cal in calendars.items():
        opening = next_working(cal, now)
        if opening is None or opening <= now:
            ready.add(user_id)
        else:
            next_at = opening if next_at is None else min(next_at, opening)
    return ready, next_at


def next_working(cal: businesstime.WorkCalendar, now: datetime) -> datetime | None:
    try:
        return businesstime.next_working_instant(cal, now)
    except ValueError:
        return None


def _name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _local(instant: datetime | None, user: User) -> str:
    if instant is None:
        return "later"
    zone = user_time_zone(user) or ZoneInfo(settings.TIME_ZONE)
    return instant.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def wants_email(user: User, ledger: ReminderLedger) -> bool:
    """Everyone with an address gets escalations; reminders and digests respect the opt-out."""
    if not user.email:
        return False
    if ledger.kind == Kind.ESCALATION:
        return True
    profile = getattr(user, "profile", None) if _has_profile(user) else None
    if profile is None:
        return True
    return profile.morning_digest if ledger.kind == Kind.DIGEST else profile.reminder_emails


def _has_profile(user: User) -> bool:
    try:
        user.profile  # noqa: B018 — a missing reverse one-to-one raises
    except Exception:
        return False
    return True


@transaction.atomic
def _mark_delivered(
    ledger: ReminderLedger, content: dict, users: list, *, delivered: list[int], next_at: datetime | None,
    claimed_at: datetime,
) -> None:
    """Record who has it now. Done when nobody waits (`sent_at`); otherwise the row waits, claim
    released, until the next recipient's working hours (`next_attempt_at`). The update is guarded
    on our claim, so a slower duplicate records nothing twice."""
    now = timezone.now()
    everyone = [*delivered, *(u.pk for u in users if u.pk not in delivered)]
    done: dict[str, Any] = (
        {"sent_at": now, "next_attempt_at": None} if next_at is None else {"next_attempt_at": next_at, "attempts": 0}
    )
    marked = ReminderLedger.objects.filter(pk=ledger.pk, sent_at__isnull=True, claimed_at=claimed_at).update(
        claimed_at=None, delivered_to=everyone, last_error="", **done,
    )
    if marked != 1 or not users:
        return  # a slower duplicate (the first delivery recorded everything), or nobody in working hours yet
    Notification.objects.bulk_create(
        [
            Notification(
                user=user, request_id=ledger.request_id, kind=f"sla_{ledger.kind}", message=content["message"][:300],
                url=content["url"], created_at=now, dedupe_key=f"ledger:{ledger.pk}:{user.pk}",
            )
            for user in users
        ],
        ignore_conflicts=True,
    )
    if ledger.request_id and not delivered:
        RequestEvent.objects.create(
            request_id=ledger.request_id,
            kind=RequestEvent.Kind.ESCALATION_SENT if ledger.kind == Kind.ESCALATION else RequestEvent.Kind.REMINDER_SENT,
            message=content["message"][:1000],
            data={"ledger": ledger.pk, "clock": ledger.clock, "scope": ledger.scope, "seq": ledger.seq,
                  "recipients": len(users)},
            at=now,
        )


def build_email(ledger: ReminderLedger, content: dict, users: list, *, part: int = 0) -> EmailMultiAlternatives | None:
    """One e-mail to everyone in `users` (all in To:, so each sees who else holds the clock).
    `part` counts the recipients who had it earlier: a later part, for those whose working hours
    began later, has its own Message-ID (a duplicate of one part keeps that part's)."""
    if not users:
        return None
    context = {"later": [], **content, "ledger": ledger, "site_url": settings.S2O_SITE_URL.rstrip("/")}
    rendered = notifications.render_email(content["template"], context)  # plain text unescaped, HTML escaped
    message_id = ledger.message_id if not part else ledger.message_id.replace("@", f"-{part}@", 1)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[u.email for u in users],
        headers={"Message-ID": message_id},
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def compose(ledger: ReminderLedger, *, now: datetime) -> dict:
    """Words of one reminder, escalation or digest (shared by e-mail, in-app and timeline)."""
    if ledger.kind == Kind.DIGEST:
        return _compose_digest(ledger)
    req = cast(FeasibilityRequest, ledger.request)  # a reminder or an escalation names its request
    if ledger.clock == LedgerClock.DEPARTMENT:
        assessment = cast(Assessment, ledger.assessment)  # a department clock's row names its assessment
        assessment.request = req
        cal = department_clocks.department_calendar(assessment, req)
        state = assessment.get_clock_state(now, cal)
        due, what = assessment.due_at, f"{assessment.department.name} assessment"
    else:
        cal = clocks.work_calendar(req)
        state = req.get_clock_state(now, cal, ledger.clock)
        due = req.acknowledge_due if ledger.clock == LedgerClock.ACKNOWLEDGE else req.answer_due
        what = "acknowledgement" if ledger.clock == LedgerClock.ACKNOWLEDGE else "answer"
    due_local = due.astimezone(ZoneInfo(cal.time_zone)).strftime("%a %d %b %H:%M %Z") if due else "?"
    left = abs(state.business_seconds_left) / 3600 if state and state.business_seconds_left is not None else 0
    if ledger.kind == Kind.ESCALATION:
        message = f"{req.reference}: the {what} was due {due_local} and is overdue by {left:.1f} business hours"
        if ledger.clock != LedgerClock.DEPARTMENT:
            message += f" (escalation {ledger.seq})"
        template = "escalation"
    else:
        message = f"{req.reference}: {what} due {due_local} — {left:.1f} business hours left"
        template = "reminder"
    return {"template": template, "message": message, "request": req, "url": req.get_absolute_url(), "what": what,
            "due_local": due_local, "hours": f"{left:.1f}"}


def _compose_digest(ledger: ReminderLedger) -> dict:
    _, user_id, day = ledger.scope.split(":")
    items = due_today(date_text=day)
    message = f"Due today ({day}): {len(items)} request{'s' if len(items) != 1 else ''}"
    return {"template": "digest", "message": message, "request": None, "url": "", "items": items[:50], "day": day}


# --------------------------------------------------------------------------------------------------
# Morning digest
# --------------------------------------------------------------------------------------------------


def due_today(*, date_text: str) -> list[dict]:
    """Open requests whose running clock is due by the end of that local day (overdue included)."""
    cal = clocks.default_calendar().as_work_calendar()
    zone = ZoneInfo(cal.time_zone)
    day = datetime.fromisoformat(date_text).date()
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    rows = FeasibilityRequest.objects.filter(
        Q(status=Status.SUBMITTED, acknowledge_due__lt=end) | Q(status=Status.IN_ANALYSIS, answer_due__lt=end)
    ).select_related("customer")
    items: list[dict[str, Any]] = []
    for req in rows.order_by("pk")[:500]:
        # The running clock's due time, which the filter above requires.
        due = cast(datetime, req.acknowledge_due if req.status == Status.SUBMITTED else req.answer_due)
        items.append({"request": req, "clock": "acknowledge" if req.status == Status.SUBMITTED else "answer",
                      "due_local": due.astimezone(zone).strftime("%H:%M" if due >= end - timedelta(days=1) else "%d %b %H:%M"),
                      "due": due, "overdue": due.astimezone(zone).date() < day})
    items.sort(key=lambda item: item["due"])
    return items


def send_morning_digests(*, now: datetime | None = None, deliver: Deliver | None = None) -> int:
    """Once per local day, after 07:30 on a working day of the default calendar, one digest per
    operations lead who wants it. Run every 15 minutes; the ledger's unique key makes the repeats
    (and a second beat) harmless. Returns how many digests were decided now."""
    now = now or timezone.now()
    cal = clocks.default_calendar().as_work_calendar()
    local = now.astimezone(ZoneInfo(cal.time_zone))
    if local.time() < DIGEST_AFTER or not cal.is_working_day(local.date()):
        return 0
    day = local.date().isoformat()
    leads = roles.ops_leads().exclude(profile__morning_digest=False).values_list("pk", flat=True)
    rows = [
        ReminderLedger(request=None, clock="", scope=f"user:{pk}:{day}", kind=Kind.DIGEST, seq=1, due_at=now, created_at=now,
                       recipients=[pk])
        for pk in leads
    ]
    if not rows:
        return 0
    with transaction.atomic():
        before = ReminderLedger.objects.filter(kind=Kind.DIGEST, scope__in=[r.scope for r in rows]).count()
        ReminderLedger.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            ReminderLedger.objects.filter(kind=Kind.DIGEST, scope__in=[r.scope for r in rows], sent_at__isnull=True)
            .values_list("pk", flat=True)
        )
        from requests_app.models import Profile

        Profile.objects.filter(user_id__in=[r.recipients[0] for r in rows]).update(last_digest_on=local.date())
        _after_commit(deliver or enqueue_deliveries, ids)
    return len(rows) - before
