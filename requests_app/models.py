"""The request and everything Sales sees of it: people and teams, customers and products, the
SLA policy and business calendar that set its clocks, its events, comments and notifications.

`analysis` (Operations' work) depends on this app; nothing here imports `analysis`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from requests_app.businesstime import WorkCalendar
    from requests_app.clocks import ClockState
    from requests_app.roles import Actor


class Role(models.TextChoices):
    """Django groups that carry the roles of DESIGN.md."""

    SALES_REP = "sales_rep", "Sales rep"
    SALES_MANAGER = "sales_manager", "Sales manager"
    OPS_MEMBER = "ops_member", "Operations member"
    OPS_LEAD = "ops_lead", "Operations lead"
    MANAGER = "manager", "Manager"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_ANALYSIS = "in_analysis", "In analysis"
    WAITING_ON_SALES = "waiting_on_sales", "Waiting on Sales"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"

    @classmethod
    def open_values(cls) -> list[str]:
        """Statuses in which Operations still owes something (an acknowledgement or an answer)."""
        return [cls.SUBMITTED, cls.IN_ANALYSIS, cls.WAITING_ON_SALES]

    @classmethod
    def analysis_values(cls) -> list[str]:
        """Statuses in which the analysis is open: departments assess, the lead composes, routes
        and moves the answer-by (a question to Sales pauses the clock, not the work)."""
        return [cls.IN_ANALYSIS, cls.WAITING_ON_SALES]


class Outcome(models.TextChoices):
    WON = "won", "Won (filled as asked)"
    ALTERNATIVE_ACCEPTED = "alternative_accepted", "Alternative accepted"
    LOST = "lost", "Lost"
    EVAPORATED = "evaporated", "Evaporated"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DECLINED = "declined", "Declined"


class Currency(models.TextChoices):
    EUR = "EUR", "EUR"
    USD = "USD", "USD"
    GBP = "GBP", "GBP"
    CHF = "CHF", "CHF"


class BusinessCalendar(models.Model):
    """Working days and hours, public holidays (from the `holidays` library) and closures.

    The arithmetic lives in `requests_app.businesstime`; `as_work_calendar()` is the bridge.
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/Berlin")
    working_days = models.JSONField(default=list, help_text="Weekdays as numbers, Monday = 0.")
    periods = models.JSONField(
        default=list, help_text='Working periods of a day as ["HH:MM", "HH:MM"] pairs, e.g. a split day.'
    )
    holiday_country = models.CharField(max_length=8, blank=True, help_text="ISO country code, e.g. DE.")
    holiday_subdivision = models.CharField(max_length=16, blank=True, help_text="Optional region, e.g. BY.")
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="%(app_label)s_%(class)s_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_work_calendar(self) -> WorkCalendar:
        from requests_app.businesstime import WorkCalendar

        closures = tuple(self.closures.values_list("start_date", "end_date"))
        return WorkCalendar(
            time_zone=self.time_zone,
            working_days=frozenset(int(d) for d in (self.working_days or [])),
            periods=tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in (self.periods or [])),
            holiday_country=self.holiday_country,
            holiday_subdivision=self.holiday_subdivision,
            closures=closures,
        )


class CompanyClosure(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="%(app_label)s_%(class)s_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.calendar}: {self.start_date} – {self.end_date}"


class Department(models.Model):
    """An Operations department: procurement, stores, manufacturing, shipping."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="departments", blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The department's own working time (another shift, site or country): its assessment clocks "
                  "run in it. Empty: they run in the request's calendar.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SalesTeam(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="sales_teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """Per-user preferences: display time zone and which reminders to receive."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the site's time zone.")
    reminder_emails = models.BooleanField(
        default=True, help_text="Receive non-essential reminder e-mails (escalations are always sent)."
    )
    morning_digest = models.BooleanField(default=True, help_text="Operations leads: a morning summary of what is due.")
    last_digest_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Customer(models.Model):
    name = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=32, blank=True, help_text="The ERP's customer code: the key of master-data imports.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # A customer a rep types in has no code until the ERP import adopts it.
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="%(app_label)s_%(class)s_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField("part number", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=16, default="pcs")

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"


class SlaPolicyQuerySet(models.QuerySet["SlaPolicy"]):
    def current(self) -> SlaPolicyQuerySet:
        """The version of each priority that clocks starting now get."""
        return self.filter(retired_at__isnull=True)


class SlaPolicy(models.Model):
    """One version of how fast Operations must acknowledge and answer a request of one priority
    (business hours).

    A version is never edited: a change retires the current version and creates the next one
    (`requests_app.services_sla.sla_policy_update`), so a running clock keeps the version it
    started with (`FeasibilityRequest.sla_policy`, and each department clock's own) and only
    clocks started afterwards get the new one (DESIGN.md "Time and SLA semantics").
    """

    priority = models.CharField(max_length=16, choices=Priority.choices)
    version = models.PositiveIntegerField(default=1)
    acknowledge_hours = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.25"))])
    answer_hours = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.5"))])
    max_answer_hours = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        help_text="Latest answer-by a lead may promise without a recorded reason.",
        validators=[MinValueValidator(Decimal("0.5"))],
    )
    reminder_thresholds = models.JSONField(
        default=list, help_text="Fractions of each window at which holders are reminded, e.g. [0.5, 0.8]."
    )
    escalation_interval_hours = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("4"), validators=[MinValueValidator(Decimal("0.25"))]
    )
    department_share = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.70"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("1"))],
        help_text="Departments' assessments are due at this share of the answer window.",
    )
    min_answer_hours = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(Decimal("0"))],
        help_text="An answer-by leaves at least this much business time from the moment it is promised.",
    )
    max_horizon_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="No answer-by further ahead than this many calendar days, even with a reason.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True, help_text="When the next version replaced this one.")

    objects = SlaPolicyQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "-version"]
        verbose_name = "SLA policy version"
        verbose_name_plural = "SLA policy versions"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_answer_hours__gte=models.F("answer_hours")),
                name="%(app_label)s_%(class)s_max_not_below_default",
            ),
            models.CheckConstraint(
                condition=Q(min_answer_hours__lte=models.F("answer_hours")),
                name="%(app_label)s_%(class)s_min_not_above_default",
            ),
            models.CheckConstraint(
                condition=Q(max_horizon_days__gte=1, max_horizon_days__lte=366),
                name="%(app_label)s_%(class)s_horizon_within_a_year",
            ),
            models.UniqueConstraint(fields=["priority", "version"], name="%(app_label)s_%(class)s_one_per_number"),
            # Clocks starting now read "the current version of this priority": there is exactly one.
            models.UniqueConstraint(
                fields=["priority"], condition=Q(retired_at__isnull=True), name="%(app_label)s_%(class)s_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"SLA {self.get_priority_display()} v{self.version}"

    @property
    def is_current(self) -> bool:
        return self.retired_at is None


class SlaChange(models.Model):
    """One change to the SLA reference data — a policy (a new version), a business calendar or one
    of its closures: who, when, and the values before and after. Written by the services of
    `requests_app.services_sla` in the change's own transaction; managers read them on the SLA pages."""

    class Subject(models.TextChoices):
        POLICY = "policy", "SLA policy"
        CALENDAR = "calendar", "Business calendar"
        CLOSURE = "closure", "Company closure"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    subject = models.CharField(max_length=16, choices=Subject.choices)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    summary = models.CharField(max_length=200)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at", "-id"], name="slachange_recent_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"

    # How the SLA pages name the recorded values.
    LABELS = {
        "acknowledge_hours": "acknowledge within (business h)",
        "answer_hours": "answer within (business h)",
        "max_answer_hours": "longest answer-by without a reason (business h)",
        "reminder_thresholds": "reminders at (share of the window)",
        "escalation_interval_hours": "escalate every (business h)",
        "department_share": "departments due at (share of the answer window)",
        "min_answer_hours": "answer-by at least (business h from the promise)",
        "max_horizon_days": "answer-by at most (days ahead)",
    }

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(what, before, after) for each value that differs, in the order the values were recorded."""
        names = list(dict.fromkeys([*self.before, *self.after]))
        return [(self.LABELS.get(name, name.replace("_", " ")), self.before.get(name), self.after.get(name))
                for name in names if self.before.get(name) != self.after.get(name)]


class RequestQuerySet(models.QuerySet["FeasibilityRequest"]):
    def open(self) -> RequestQuerySet:
        return self.filter(status__in=Status.open_values())

    def visible_to(self, user: Actor) -> RequestQuerySet:
        """Requests the user may read (one scoping rule: `selectors.request_scope_q`).

        EXISTS predicates on the row, not joins: team and department memberships never duplicate
        rows, and an ordered list stops after its page instead of collecting the visible set."""
        from requests_app.selectors import request_scope_q

        return self.filter(request_scope_q(user))


_RequestManagerBase = models.Manager.from_queryset(RequestQuerySet)


class RequestManager(_RequestManagerBase["FeasibilityRequest"]):
    def get_queryset(self) -> RequestQuerySet:
        # The search documents are read by PostgreSQL only (a search's WHERE), never by Python: they
        # are not loaded with the rows (hundreds of bytes each), and a `save()` of a row never writes
        # them back (Django saves only the fields it loaded), so `search.index_requests` owns them.
        return RequestQuerySet(self.model, using=self._db).defer("search_document", "search_internal")


class FeasibilityRequest(models.Model):
    """Sales' "can we do this?" and the promise Operations makes about it."""

    reference = models.CharField(max_length=20, unique=True, null=True, blank=True, editable=False)
    title = models.CharField(max_length=200)
    # Customer, quantity and date may wait while the request is a draft (a rep parks a half-written
    # request with only its title); a submitted request has all three (constraint below).
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="requests", null=True, blank=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="requests", null=True, blank=True,
                                db_index=False)  # req_product_submitted_idx starts with it
    part_description = models.CharField(max_length=200, blank=True, help_text="Free text when no catalogue part fits.")
    quantity = models.DecimalField(max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))],
                                   null=True, blank=True)
    unit = models.CharField(max_length=16, default="pcs")
    requested_date = models.DateField("requested delivery date", null=True, blank=True)
    target_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    deal_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.EUR)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    description = models.TextField(blank=True)

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feasibility_requests")
    sales_team = models.ForeignKey(SalesTeam, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The SLA policy version of the request's clocks, fixed when they start (submission; a revision
    # starts a new answer clock on the version current then). Null on drafts.
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    outcome = models.CharField(max_length=24, choices=Outcome.choices, blank=True)
    outcome_reason = models.TextField(blank=True)

    # Milestones are stored on the row: the dashboard aggregates them without joins.
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    answer_due = models.DateTimeField(null=True, blank=True)
    answer_due_policy = models.DateTimeField(
        null=True, blank=True, help_text="Answer-by the SLA policy allowed at acknowledgement (before pauses)."
    )
    # "We will let you know by …" as first said at acknowledgement: never moved by an extension or a
    # pause, so the dashboard can tell how often Operations kept its own promise.
    answer_due_promised = models.DateTimeField(null=True, blank=True, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0, help_text="Business seconds spent waiting on Sales.")
    # Derived at the milestone, in business seconds, so metrics need no per-row calendar math.
    acknowledge_seconds = models.PositiveIntegerField(null=True, blank=True)
    answer_seconds = models.PositiveIntegerField(null=True, blank=True)
    acknowledge_met = models.BooleanField(null=True, blank=True)
    answer_met = models.BooleanField(null=True, blank=True)
    # The SLA sweep's work list: the earliest instant at which a reminder or escalation may be due.
    next_reminder_at = models.DateTimeField(null=True, blank=True)

    version = models.PositiveIntegerField(default=1)
    # Full-text search (`requests_app.search`), GIN-indexed on PostgreSQL by migration 0007: what every
    # reader of the request may search, and the departments' notes (filled by `analysis`), searched
    # only by readers of Operations' internals. Null until indexed; unused on SQLite.
    search_document = SearchVectorField(null=True, blank=True, editable=False)
    search_internal = SearchVectorField(null=True, blank=True, editable=False)
    submit_token = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RequestManager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="req_by_created_idx"),
            models.Index(fields=["sales_team", "-created_at"], name="req_team_created_idx"),
            models.Index(fields=["submitted_at"], name="req_submitted_idx"),
            # The request list's other sorts (filters.SORTS): a page reads its rows off the index.
            models.Index(fields=["answer_due", "id"], name="req_answer_due_list_idx"),
            models.Index(fields=["deal_value", "id"], name="req_deal_value_list_idx"),
            # A customer's requests by submission; the status and time to answer included so the manager
            # dashboard's per-customer medians of its first rows read nothing else (analysis.metrics.groups).
            models.Index(fields=["customer", "submitted_at"], include=["status", "answer_seconds"],
                         name="req_customer_submitted_idx"),
            # The same per rep, for the dashboard's per-rep medians.
            models.Index(fields=["requested_by", "submitted_at"], include=["status", "answer_seconds"],
                         name="req_rep_submitted_idx"),
            # A part's latest requests (precedents: "same part"), and every lookup by part.
            models.Index(fields=["product", "submitted_at"], name="req_product_submitted_idx"),
            # The SLA sweep: due work among open requests only (shared/RELIABILITY.md rule 1).
            models.Index(
                fields=["next_reminder_at"],
                name="req_sweep_due_idx",
                condition=Q(status__in=["submitted", "in_analysis"], next_reminder_at__isnull=False),
            ),
            # Triage queue: unacknowledged requests by acknowledge deadline.
            models.Index(fields=["acknowledge_due"], name="req_triage_idx", condition=Q(status="submitted")),
            # "Breached now" / "due soon" on the dashboard and queues.
            # …and the triage's "in analysis" section (waiting on Sales included), read in answer-due order.
            models.Index(fields=["answer_due", "id"], name="req_open_answer_due_idx",
                         condition=Q(status__in=["in_analysis", "waiting_on_sales"])),
            # Manager dashboard (analysis.metrics): its window aggregates read only these columns, so on
            # PostgreSQL the period is answered by an index-only scan, without visiting the table.
            models.Index(
                fields=["submitted_at"],
                include=[
                    "id", "status", "outcome", "priority", "customer", "sales_team", "requested_by",
                    "acknowledge_seconds", "answer_seconds", "acknowledge_met", "answer_met", "acknowledge_due",
                    "answer_due", "answered_at", "deal_value", "currency",
                ],
                name="req_dashboard_window_idx",
            ),
            # Dashboard lists (breached / at risk): the period's requests with a running clock, a small partial
            # index that alone picks the lists' rows (status and id included: no visit to the table).
            models.Index(
                fields=["submitted_at"], include=["id", "status", "acknowledge_due", "answer_due"],
                name="req_running_clock_idx", condition=Q(status__in=["submitted", "in_analysis"]),
            ),
            # Manager dashboard (analysis.metrics.rollup): open requests of a period, the figures of "now"
            # (open, breached, due soon) beside the day rollup.
            models.Index(
                fields=["submitted_at"], name="req_open_window_idx",
                include=["status", "acknowledge_due", "answer_due", "acknowledge_met", "answer_met"],
                condition=Q(status__in=["submitted", "in_analysis", "waiting_on_sales"]),
            ),
            # Manager dashboard (analysis.metrics.promises): a period's requests past their first promise
            # without an answer count as broken promises, a figure of "now" read live beside the day rollup.
            models.Index(
                fields=["submitted_at"], include=["id", "answer_due_promised", "status"], name="req_promise_unanswered_idx",
                condition=Q(answered_at__isnull=True, answer_due_promised__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="closed", outcome__gt="") | (~Q(status="closed") & Q(outcome="")),
                name="%(app_label)s_%(class)s_outcome_iff_closed",
            ),
            models.CheckConstraint(
                # A draft withdrawn before submission closes without ever getting a reference.
                condition=Q(status="draft")
                | Q(status="closed", outcome="withdrawn", submitted_at__isnull=True)
                | Q(submitted_at__isnull=False, reference__isnull=False),
                name="%(app_label)s_%(class)s_submitted_has_reference",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True)
                | Q(customer__isnull=False, quantity__isnull=False, requested_date__isnull=False),
                name="%(app_label)s_%(class)s_submitted_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference or 'Draft'} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("requests_app:detail", args=[self.pk])

    def missing_for_submission(self) -> list[str]:
        """What a draft still needs before Operations can take it, in the form's words."""
        missing = []
        if self.customer_id is None:
            missing.append("the customer")
        if self.product_id is None and not self.part_description.strip():
            missing.append("the part")
        if self.quantity is None:
            missing.append("the quantity")
        if self.requested_date is None:
            missing.append("the requested delivery date")
        return missing

    @property
    def is_open(self) -> bool:
        return self.status in Status.open_values()

    @property
    def is_paused(self) -> bool:
        return self.status == Status.WAITING_ON_SALES

    def get_clock_state(self, now: datetime, calendar: WorkCalendar, clock: str | None = None) -> ClockState | None:
        """The state of the acknowledge or answer clock at `now` (default: the one that matters).

        Every page, list, queue and e-mail reads a request's SLA state here (the dashboard's counts
        use `clocks.breached_q`, the same rule in SQL). `calendar` is the request's business
        calendar (`clocks.work_calendar`, or a page's cache of it).

        Without `clock`: the acknowledge clock until Operations acknowledged, then the answer clock.
        None for a draft, and for a request closed before that clock finished. The acknowledge clock
        is done at acknowledgement. The answer clock is done only while the request is answered (or
        was closed after its answer): a revision re-opens the request with a new answer window,
        whose clock runs — and is breached once past its answer-by — whatever the first answer's
        met/missed record says. Both stand still (PAUSED) while waiting on Sales.
        """
        from requests_app import clocks

        if self.status == Status.DRAFT:
            return None
        if clock is None:
            acknowledging = self.acknowledged_at is None and self.status != Status.ANSWERED
            clock = clocks.Clock.ACKNOWLEDGE if acknowledging else clocks.Clock.ANSWER
        paused = self.status == Status.WAITING_ON_SALES
        if clock == clocks.Clock.ACKNOWLEDGE:
            if self.acknowledged_at is None and self.status == Status.CLOSED:
                return None
            return clocks.measure(
                clock=clock, due=self.acknowledge_due, done_at=self.acknowledged_at, now=now, cal=calendar, paused=paused
            )
        answered = self.status in (Status.ANSWERED, Status.CLOSED) and self.answered_at is not None
        if self.status == Status.CLOSED and not answered:
            return None
        return clocks.measure(
            clock=clocks.Clock.ANSWER, due=self.answer_due, done_at=self.answered_at if answered else None, now=now,
            cal=calendar, paused=paused,
        )

    @property
    def is_editable(self) -> bool:
        """Sales edits a draft, or a submitted request Operations has not acknowledged yet."""
        return self.status == Status.DRAFT or (self.status == Status.SUBMITTED and self.acknowledged_at is None)

    @property
    def in_analysis(self) -> bool:
        return self.status in Status.analysis_values()

    @property
    def awaiting_sales(self) -> SalesAction | None:
        """What Sales must do now on this request, and since when; None when Sales owes nothing.

        Operations waits on Sales in two states, where no SLA clock of Operations runs (the answer
        clock is paused, or done): a clarification question to reply to, since it was asked (the
        pause began); a published answer to decide on, since it was published."""
        if self.status == Status.WAITING_ON_SALES and self.paused_since is not None:
            return SalesAction(SalesAction.REPLY, self.paused_since)
        if self.status == Status.ANSWERED and self.answered_at is not None:
            return SalesAction(SalesAction.DECIDE, self.answered_at)
        return None


@dataclass(frozen=True)
class SalesAction:
    """`FeasibilityRequest.awaiting_sales`: what (`REPLY` or `DECIDE`) and since when (UTC)."""

    REPLY: ClassVar[str] = "reply"
    DECIDE: ClassVar[str] = "decide"

    what: str
    since: datetime

    @property
    def is_reply(self) -> bool:
        return self.what == self.REPLY


class RequestEvent(models.Model):
    """One row per thing that happened to a request: the timeline and the audit trail."""

    class Kind(models.TextChoices):
        CREATED = "created", "Draft saved"
        SUBMITTED = "submitted", "Submitted"
        EDITED = "edited", "Edited"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ROUTED = "routed", "Routed"
        ANSWER_BY_EXTENDED = "answer_by_extended", "Answer-by extended"
        CLARIFICATION_ASKED = "clarification_asked", "Clarification asked"
        CLARIFICATION_ANSWERED = "clarification_answered", "Clarification answered"
        ASSESSED = "assessed", "Assessment recorded"
        ANSWER_PUBLISHED = "answer_published", "Answer published"
        REVISION_REQUESTED = "revision_requested", "Revision requested"
        ALTERNATIVE_ACCEPTED = "alternative_accepted", "Alternative accepted"
        ANSWER_ACCEPTED = "answer_accepted", "Answer accepted"
        DECLINED = "declined", "All alternatives declined"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"
        COMMENTED = "commented", "Comment"
        ATTACHMENT_ADDED = "attachment_added", "Attachment added"
        REMINDER_SENT = "reminder_sent", "Reminder sent"
        ESCALATION_SENT = "escalation_sent", "Escalation sent"

    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"], name="event_request_at_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ClockEvent(models.Model):
    """Every start, pause, resume, move and stop of a clock, so any SLA figure can be recomputed."""

    class Clock(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", "Acknowledge"
        ANSWER = "answer", "Answer"
        DEPARTMENT = "department", "Department assessment"

    class Action(models.TextChoices):
        START = "start", "Start"
        PAUSE = "pause", "Pause"
        RESUME = "resume", "Resume"
        EXTEND = "extend", "Due moved"
        STOP = "stop", "Stop"

    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="clock_events")
    clock = models.CharField(max_length=16, choices=Clock.choices)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    at = models.DateTimeField()
    due = models.DateTimeField(null=True, blank=True, help_text="The clock's due time after this event.")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "clock", "at"], name="clock_request_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.clock} {self.action}"


class Pause(models.Model):
    """An interval in which the answer clock stood still (WAITING_ON_SALES)."""

    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    business_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=Q(ended_at__isnull=True), name="%(app_label)s_%(class)s_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request_id} paused {self.started_at:%Y-%m-%d %H:%M}"


class Comment(models.Model):
    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        QUESTION = "question", "Clarification question"
        REPLY = "reply", "Clarification reply"

    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # The form's one-time token (shared/RELIABILITY.md rule 7): a double click or a retried POST
    # stores the comment once. Null for comments from doors without a form (e-mail replies, the API).
    token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["token"], name="%(app_label)s_%(class)s_once_per_token"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.request_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under a generated name: the uploader's file name is only ever metadata."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Notification(models.Model):
    """In-app notification; the unread count shows in the navigation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    request = models.ForeignKey(FeasibilityRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when created by the reminder ledger, so a re-delivered task never notifies twice.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # E-mail copy: wanted → claimed → sent (claim → send → mark, as for reminders). The sweep
    # re-enqueues wanted-but-unsent e-mails, so a broker outage delays mail but never loses it.
    email_template = models.CharField(max_length=64, blank=True)
    # Facts the e-mail template needs beyond the request (ids, e.g. {"answer": 12}); read at send
    # time by the context provider registered for the template (`notifications.email_context`).
    email_data = models.JSONField(default=dict, blank=True)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    # A failed send is retried with back-off (`notifications.RetryPolicy`), a bounded number of
    # times; the last error stays visible in the admin, and `email_failed_at` marks one given up.
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_last_error = models.TextField(blank=True)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notif_user_idx"),
            models.Index(fields=["user"], name="notif_unread_idx", condition=Q(read_at__isnull=True)),
            # The sweep's resend of e-mails still owed (neither sent nor given up).
            models.Index(
                fields=["created_at"],
                name="notif_email_owed_idx",
                condition=Q(email_sent_at__isnull=True, email_failed_at__isnull=True) & ~Q(email_template=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.message}"


class ReferenceCounter(models.Model):
    """Per-year sequence for human references (S2O-2026-00042); a locked row makes it gap-free
    and unique under concurrent submissions on any database."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class ExchangeRate(models.Model):
    """What one unit of `currency` is worth in the reporting currency (`settings.S2O_REPORTING_CURRENCY`)
    from `valid_from` on. Kept by managers (admin, CSV upload); no rate is ever fetched.

    The rate in force on a day is the latest one on or before it (`exchange_rates.rate_on`). A rate
    names the reporting currency it converts into, so changing the setting never applies rates meant
    for another one. Every change is kept in the history table (who, when, before → after)."""

    currency = models.CharField(max_length=3, choices=Currency.choices)
    reporting_currency = models.CharField(max_length=3)
    valid_from = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            # Also the index of "the latest rate on or before a day" (the dashboard's lookup).
            models.UniqueConstraint(
                fields=["reporting_currency", "currency", "valid_from"], name="%(app_label)s_%(class)s_one_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="%(app_label)s_%(class)s_rate_positive"),
            models.CheckConstraint(
                condition=~Q(currency=models.F("reporting_currency")), name="%(app_label)s_%(class)s_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate.normalize():f} {self.reporting_currency} from {self.valid_from}"
