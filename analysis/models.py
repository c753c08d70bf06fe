"""Operations' work on a request: assessments per department, answers with alternatives, and the
reminder ledger that makes SLA reminders and escalations exactly-once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from requests_app import clocks
from requests_app.businesstime import WorkCalendar
from requests_app.clocks import ClockState
from requests_app.models import ClockEvent, Currency, Department, FeasibilityRequest, SlaPolicy, Status


class ConstraintCategory(models.Model):
    """The fixed taxonomy of operational constraints (DESIGN.md); labels are editable in admin,
    codes are what metrics group by."""

    code = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=100)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name_plural = "constraint categories"

    def __str__(self) -> str:
        return self.label


CONSTRAINT_TAXONOMY = [
    ("material", "Material availability"),
    ("supplier_lead_time", "Supplier lead time"),
    ("inventory", "Inventory"),
    ("machine_capacity", "Machine capacity"),
    ("labour", "Labour"),
    ("tooling", "Tooling"),
    ("quality", "Quality / certification"),
    ("freight", "Freight / logistics"),
    ("cost_margin", "Cost / margin"),
    ("other", "Other"),
]


class Verdict(models.TextChoices):
    CAN = "can", "Can"
    CAN_WITH_CONDITIONS = "can_with_conditions", "Can, with conditions"
    CANNOT = "cannot", "Cannot"


class CostBasis(models.TextChoices):
    """What a cost figure covers: one unit, or the whole quantity (of the request for an assessment's
    cost impact, of the alternative for its cost delta). Two costs add up only when they agree on
    this and on the currency."""

    PER_UNIT = "per_unit", "per unit"
    TOTAL = "total", "for the whole quantity"


class Assessment(models.Model):
    """One routed department's structured verdict, with its own internal due time (clock)."""

    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="assessments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="assessments")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_assessments"
    )
    routed_at = models.DateTimeField(default=timezone.now)
    # The request's submission, copied when the assessment is made (a request is submitted once, so
    # the copy never goes stale): the dashboard reads a period's assessments per department from
    # one index range, without joining the requests (analysis.metrics.departments).
    request_submitted_at = models.DateTimeField(editable=False)
    due_at = models.DateTimeField(null=True, blank=True)
    # The SLA policy version this department clock started with (at routing): its share of the
    # answer window and its reminder thresholds. A later edit of the policy does not move it.
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    verdict = models.CharField(max_length=24, choices=Verdict.choices, blank=True)
    quantity_feasible = models.DecimalField(
        "quantity feasible by the requested date", max_digits=14, decimal_places=3, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    earliest_full_date = models.DateField("earliest date for the full quantity", null=True, blank=True)
    cost_impact = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cost_currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.EUR)
    cost_basis = models.CharField("the cost impact is", max_length=8, choices=CostBasis.choices, blank=True)
    constraints = models.ManyToManyField(ConstraintCategory, blank=True, related_name="assessments")
    notes = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    # Business seconds from routing to the assessment, and whether it met its own due time.
    assessment_seconds = models.PositiveIntegerField(null=True, blank=True)
    met = models.BooleanField(null=True, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Whether the request is still in analysis or waiting on Sales (`Status.analysis_values`): the
    # department queue reads only these rows, from partial indexes as small as the open work
    # whatever the history (analysis.selectors.department_queue). Set from the request when the
    # assessment is made, and moved with the request by its transitions in their transaction
    # (analysis.clocks.on_request_transitioned): the request's status changes nowhere else.
    request_open = models.BooleanField(default=False, editable=False)

    history = HistoricalRecords(m2m_fields=[constraints], excluded_fields=["request_open"])

    class Meta:
        ordering = ["department__name"]
        constraints = [
            models.UniqueConstraint(fields=["request", "department"], name="%(app_label)s_%(class)s_one_per_department"),
            # A cost without its basis cannot be read, nor added to another (the answer's pre-fill).
            models.CheckConstraint(condition=Q(cost_impact__isnull=True) | ~Q(cost_basis=""),
                                   name="%(app_label)s_%(class)s_cost_has_basis"),
        ]
        indexes = [
            models.Index(fields=["department", "due_at"], name="assess_dept_due_idx"),
            # Manager dashboard (analysis.metrics.rollup): pending assessments of the period, to find the
            # ones past due on an open request (the only department figure that depends on "now").
            models.Index(fields=["request_submitted_at"], include=["department", "due_at", "request", "met"],
                         name="assess_pending_idx", condition=Q(assessed_at__isnull=True)),
            # Manager dashboard (analysis.metrics.departments): one range per department of the assessments
            # of the period's requests, read from this index alone (index-only scan).
            models.Index(
                fields=["department", "request_submitted_at"],
                include=["request", "verdict", "met", "assessed_at", "due_at", "assessment_seconds"],
                name="assess_dept_window_idx",
            ),
            # The sweep's department clocks: pending assessments with a reminder due.
            models.Index(
                fields=["next_reminder_at"],
                name="assess_sweep_due_idx",
                condition=Q(assessed_at__isnull=True, next_reminder_at__isnull=False),
            ),
            # The department queue (analysis.selectors.department_queue): each section ("todo": still to
            # assess, "done": assessed, answer not out) by due time (PostgreSQL puts no due time last,
            # as the queue does) and newest first, over open requests only, so a page reads its rows
            # in order and stops, however many requests were ever assessed. Latest due first (rare)
            # sorts the open rows instead: SQLite cannot index DESC NULLS LAST. The department and
            # owner ride along for the section's capped count, read from the index alone.
            *(
                models.Index(fields=keys, include=include, name=f"assess_q_{section}_{order}_idx",
                             condition=Q(request_open=True, assessed_at__isnull=section == "todo"))
                for section in ("todo", "done")
                for order, keys, include in (("due", ["due_at"], ["department", "owner"]),
                                             ("new", ["-request_submitted_at", "-id"], []))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} / {self.department}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.request_submitted_at is None:
            self.request_submitted_at = self.request.submitted_at
        if self._state.adding:
            self.request_open = self.request.status in Status.analysis_values()
        super().save(*args, **kwargs)

    @property
    def is_done(self) -> bool:
        return self.assessed_at is not None

    def get_clock_state(self, now: datetime, calendar: WorkCalendar) -> ClockState | None:
        """The department clock at `now`: every page and queue reads an assessment's SLA state here.

        `calendar` is the department clock's calendar (`analysis.clocks.department_calendar`). Done
        when the assessment is recorded (met at or before `due_at`, else missed); paused while the
        request waits on Sales; None once the answer is out or the request closed without it
        (that clock stopped unfinished) and when it has no due time."""
        status = self.request.status
        if self.assessed_at is None and status in (Status.ANSWERED, Status.CLOSED):
            return None
        return clocks.measure(
            clock=clocks.Clock.DEPARTMENT, due=self.due_at, done_at=self.assessed_at, now=now, cal=calendar,
            paused=self.assessed_at is None and status == Status.WAITING_ON_SALES,
        )


class Decision(models.TextChoices):
    YES = "yes", "Yes"
    YES_WITH_CONDITIONS = "yes_with_conditions", "Yes, with conditions"
    ALTERNATIVES = "alternatives", "Alternatives"
    NO = "no", "No"


class Answer(models.Model):
    """Operations' answer. A revision creates a new number; earlier answers stay as history."""

    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="answers")
    number = models.PositiveSmallIntegerField(default=1)
    decision = models.CharField(max_length=24, choices=Decision.choices, blank=True)
    summary = models.TextField(blank=True)
    justification = models.TextField(blank=True, help_text="Required for a NO without any alternative.")
    composed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    revision_reason = models.TextField(blank=True, help_text="What Sales asked when this answer was re-opened.")
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="%(app_label)s_%(class)s_unique_number"),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | ~Q(decision=""), name="%(app_label)s_%(class)s_published_has_decision"
            ),
        ]

    def __str__(self) -> str:
        return f"Answer {self.number} to {self.request_id}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Alternative(models.Model):
    """What Operations can do instead of (or on top of) what was asked."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="alternatives")
    quantity = models.DecimalField(max_digits=14, decimal_places=3, validators=[MinValueValidator(0)])
    delivery_date = models.DateField()
    # Per unit, like the request's target price: what the customer would pay for one unit.
    price = models.DecimalField("unit price", max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField("currency of the unit price", max_length=3, choices=Currency.choices, default=Currency.EUR)
    # What the alternative costs Operations on top, in its own currency: it comes from the
    # departments' assessments (each costed in its own currency), not from the customer's price.
    cost_delta = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cost_basis = models.CharField("the cost delta is", max_length=8, choices=CostBasis.choices, blank=True)
    cost_currency = models.CharField("currency of the cost delta", max_length=3, choices=Currency.choices,
                                     default=Currency.EUR)
    conditions = models.TextField(blank=True)
    works_around = models.ForeignKey(
        ConstraintCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="alternatives"
    )
    recommended = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["answer", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer"], condition=Q(accepted_at__isnull=False), name="%(app_label)s_%(class)s_one_accepted"
            ),
            models.CheckConstraint(condition=Q(cost_delta__isnull=True) | ~Q(cost_basis=""),
                                   name="%(app_label)s_%(class)s_cost_has_basis"),
        ]

    def __str__(self) -> str:
        return f"Alternative {self.position + 1} of {self.answer}"


class ConstraintHit(models.Model):
    """The capability-gap Pareto's rollup: one row per (request, constraint) that blocked the
    request (a CANNOT assessment citing it) or bent it into an alternative (an alternative of a
    published answer working around it). Derived data, rewritten per request by
    `analysis.rollups.refresh_constraint_hits` in the same transaction as the write that changes it,
    and rebuilt in full by `manage.py constraint_hits --rebuild`.

    Why it exists: live, the Pareto joins assessments → their constraints (M2M) and answers →
    alternatives for every request of the period — at a million requests ~0.9 s of joins. Here it
    is one range scan of narrow rows. The request's outcome, value and currency are *not* copied:
    the dashboard joins them live, so closing a request never leaves this table stale. Only
    `submitted_at` is copied (it never changes once set) so the period bounds the scan.
    """

    # Indexed by the unique constraint below, whose first column it is.
    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="+", db_index=False)
    # No index of its own: only deleting a constraint category looks hits up by constraint.
    constraint = models.ForeignKey(ConstraintCategory, on_delete=models.CASCADE, related_name="+", db_index=False)
    submitted_at = models.DateTimeField()
    blocked = models.BooleanField()
    bent = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "constraint"], name="%(app_label)s_%(class)s_once"),
        ]
        indexes = [
            models.Index(fields=["submitted_at"], include=["request", "constraint", "blocked", "bent"],
                         name="hit_window_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.constraint_id}{' blocked' if self.blocked else ''}{' bent' if self.bent else ''}"


class ReminderLedger(models.Model):
    """One row per reminder or escalation that became due: unique, so it is decided once, and
    sent by claim → send → mark (shared/RELIABILITY.md rules 1–3).

    A reminder is keyed by its threshold's *value* (0.5 = half-way through the window), never by its
    position in the policy's list, so a policy with other thresholds cannot make a sent reminder
    look unsent or an unsent one look sent. An escalation is keyed by its number."""

    Clock = ClockEvent.Clock  # the same clocks the request's clock events record

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        ESCALATION = "escalation", "Escalation"
        DIGEST = "digest", "Morning digest"

    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="reminders", null=True, blank=True)
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    clock = models.CharField(max_length=16, choices=Clock.choices, blank=True)
    # Part of the uniqueness key: "" for request clocks ("r2", "r3", … for the answer windows of
    # revisions), the department code for department clocks, "user:<id>:<date>" for digests.
    scope = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    threshold = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal(0),
        help_text="Reminders: the fraction of the window it marks (0.5 = half-way). 0 for escalations and digests.",
    )
    seq = models.PositiveIntegerField(default=0, help_text="Escalations: their number (1, 2, …). 0 for reminders.")
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # A failed delivery waits out the e-mail back-off (`notifications.RetryPolicy`) before the next
    # attempt; after the last one it is given up (`failed_at`), never retried forever.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    # Who has it: each recipient gets it in their own working hours, so one row can go out in parts;
    # `sent_at` is set when the last recipient has it.
    delivered_to = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "clock", "scope", "kind", "threshold", "seq"], name="%(app_label)s_%(class)s_once"
            ),
            # Digests have no request; NULLs never collide in a unique index, so they get their own.
            models.UniqueConstraint(
                fields=["scope", "kind", "seq"],
                condition=Q(request__isnull=True),
                name="%(app_label)s_%(class)s_once_without_request",
            ),
            models.CheckConstraint(
                condition=(Q(kind="reminder", threshold__gt=0, threshold__lt=1, seq=0) | (~Q(kind="reminder") & Q(threshold=0))),
                name="%(app_label)s_%(class)s_reminders_keyed_by_threshold",
            ),
        ]
        indexes = [
            # Recovery: the sweep re-enqueues rows still unsent after a grace period.
            models.Index(fields=["created_at"], name="ledger_unsent_idx", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self) -> str:
        mark = f"at {self.threshold:g}" if self.kind == self.Kind.REMINDER else f"#{self.seq}"
        return f"{self.kind} {self.clock}/{self.scope} {mark} for {self.request_id}"

    @property
    def message_id(self) -> str:
        """Deterministic, so a duplicate delivery after a crash carries the same Message-ID."""
        return f"<s2o-ledger-{self.pk}@s2o>"


class DayFigure(models.Model):
    """The dashboard's day rollup: per local submission day, how many requests (scope 0) or a
    department's assessments (scope = its id) count under each figure (`bucket` 0), and how many
    took each whole business hour of a clock (`bucket` = the hour; its minutes are in `DayMinute`).
    The promises kept count requests with a first promise (scope 0), per department (scope = its
    id: one per assessment) and per operations lead (scope = the user's id: one per acknowledgement);
    a sales team's times to answer have its id as scope (0 for requests without a team).

    Derived data, kept exact by database triggers in the same transaction as every write to the
    requests, assessments and acknowledgements, whatever writes them (`analysis.dashboard_rollup`);
    checked and rebuilt by `manage.py dashboard_rollup`. PostgreSQL only: the embedded SQLite mode reads live.
    """

    class Kind(models.IntegerChoices):
        FILED = 1
        ACK_MET = 2
        ACK_DONE = 3
        ANSWER_MET = 4
        ANSWER_DONE = 5
        CLOSED_ANSWERED = 6
        FILLED = 7
        EVAPORATED = 8
        ACK_TIME = 10
        ANSWER_TIME = 11
        TEAM_ANSWER_TIME = 12
        ROUTED = 20
        ASSESSED = 21
        ASSESSMENT_MET = 22
        ASSESSMENT_LATE = 23
        CANNOT = 24
        ASSESSMENT_TIME = 25
        PROMISED = 30
        PROMISE_ANSWERED = 31
        PROMISE_KEPT = 32
        DEPARTMENT_PROMISED = 40
        DEPARTMENT_PROMISE_ANSWERED = 41
        DEPARTMENT_PROMISE_KEPT = 42
        LEAD_PROMISED = 50
        LEAD_PROMISE_ANSWERED = 51
        LEAD_PROMISE_KEPT = 52

    pk = models.CompositePrimaryKey("kind", "scope", "day", "bucket")
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    scope = models.PositiveIntegerField(
        help_text="0 for request figures, the department's id for assessment figures, the lead's user id for a lead's "
                  "promises, the sales team's id (0: none) for a team's time to answer.")
    day = models.DateField(help_text="The request's submission day in the site's time zone.")
    bucket = models.PositiveIntegerField(help_text="0 for a count; the whole business hour for a time.")
    n = models.IntegerField()

    class Meta:
        indexes = [
            # The primary key's columns with the count: the dashboard's ranges are index-only scans.
            models.Index(fields=["kind", "scope", "day", "bucket"], include=["n"], name="dayfigure_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.scope} {self.day} {self.bucket}: {self.n}"


class DayMinute(models.Model):
    """The minutes of `DayFigure`'s hour buckets: how many values took each whole business minute.
    Keyed by hour first, so a percentile reads only the minutes of the one or two hours it falls in."""

    pk = models.CompositePrimaryKey("kind", "scope", "hour", "day", "minute")
    kind = models.PositiveSmallIntegerField(choices=DayFigure.Kind.choices)
    scope = models.PositiveIntegerField()
    hour = models.PositiveIntegerField()
    day = models.DateField()
    minute = models.PositiveIntegerField()
    n = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "scope", "hour", "day", "minute"], include=["n"], name="dayminute_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.scope} {self.day} minute {self.minute}: {self.n}"


class ConstraintDay(models.Model):
    """The capability-gap Pareto's day rollup: per local submission day, constraint and deal
    currency, how many of the day's `ConstraintHit`s blocked or bent their request, how many there
    are (a request once per constraint), and the deal value of the requests not filled (`value`, in
    the deal's currency, summed over the `valued` such deals): the Pareto of the unfiltered dashboard
    in a few thousand rows instead of a join of the period's hits with its requests.

    Derived data, kept exact by database triggers on the hits and on the requests' outcome, value and
    currency, in the writer's transaction (`analysis.dashboard_rollup`); checked and rebuilt with the
    day rollup by `manage.py dashboard_rollup`. PostgreSQL only: the embedded SQLite mode reads live.
    """

    pk = models.CompositePrimaryKey("day", "constraint", "currency")
    day = models.DateField(help_text="The request's submission day in the site's time zone.")
    # No foreign key constraint: a rollup row outlives nothing it could cascade to (a deleted
    # category's hits go with it, and so do its counts here; the dashboard joins the categories).
    constraint = models.ForeignKey(ConstraintCategory, on_delete=models.DO_NOTHING, db_constraint=False,
                                   related_name="+")
    currency = models.CharField(max_length=3)
    blocked = models.IntegerField()
    bent = models.IntegerField()
    requests = models.IntegerField()
    valued = models.IntegerField(help_text="Requests not filled with a deal value: those `value` sums.")
    value = models.DecimalField(max_digits=24, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.day} {self.constraint_id} {self.currency}: {self.requests}"


class GroupDay(models.Model):
    """The dashboard's per-team, per-rep and per-customer counts by local submission day: requests,
    closed answered, filled and evaporated — for the unfiltered dashboard, which ranks its group
    tables from a few thousand team and rep rows and a customer's days instead of grouping the
    period's requests three ways.

    Derived data, kept exact by a database trigger on the requests in the writer's transaction
    (`analysis.dashboard_rollup`); checked and rebuilt with the day rollup by `manage.py
    dashboard_rollup`. PostgreSQL only: the embedded SQLite mode reads live.
    """

    class Dimension(models.IntegerChoices):
        TEAM = 1
        REP = 2
        CUSTOMER = 3

    pk = models.CompositePrimaryKey("day", "dimension", "key")
    day = models.DateField(help_text="The request's submission day in the site's time zone.")
    dimension = models.PositiveSmallIntegerField(choices=Dimension.choices)
    key = models.PositiveIntegerField(help_text="The team's (0: none), the rep's or the customer's id.")
    requests = models.IntegerField()
    closed_answered = models.IntegerField()
    filled = models.IntegerField()
    evaporated = models.IntegerField()

    class Meta:
        indexes = [
            # The primary key's columns with the counts: a period is an index-only range scan.
            models.Index(fields=["day", "dimension", "key"], include=["requests", "closed_answered", "filled", "evaporated"],
                         name="groupday_read_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_dimension_display()} {self.key}: {self.requests}"


class ImprovementAction(models.Model):
    """What Operations does about a constraint category: opened from the Pareto by an operations
    lead or a manager, linked to the requests it would have changed, and moved proposed → in
    progress → done (or dropped) by `analysis.improvements`, each move a row of its history."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    constraint = models.ForeignKey(ConstraintCategory, on_delete=models.PROTECT, related_name="actions")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="improvement_actions")
    target_date = models.DateField()
    expected_effect = models.TextField()
    departments = models.ManyToManyField(
        Department, blank=True, related_name="+", help_text="The departments whose answer time it should change."
    )
    requests = models.ManyToManyField(FeasibilityRequest, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it was done or dropped.")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The Pareto's "open actions" per constraint and the request page's "being worked on".
            models.Index(fields=["constraint", "status"], name="action_constraint_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["done", "dropped"], finished_at__isnull=False)
                | (~Q(status__in=["done", "dropped"]) & Q(finished_at__isnull=True)),
                name="%(app_label)s_%(class)s_finished_iff_done_or_dropped",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["in_progress", "done"]) | Q(started_at__isnull=False),
                name="%(app_label)s_%(class)s_started_before_done",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("analysis:improvement_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PROPOSED, self.Status.IN_PROGRESS)


class ImprovementActionEvent(models.Model):
    """One move of an improvement action (its history): who, when, from, to, and why."""

    action = models.ForeignKey(ImprovementAction, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    from_status = models.CharField(max_length=16, choices=ImprovementAction.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ImprovementAction.Status.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action_id}: {self.from_status or 'new'} → {self.to_status}"
