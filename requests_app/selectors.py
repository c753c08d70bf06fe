"""Reads: who may see which request, and the queries pages are built from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db.models import Case, Exists, F, Model, OrderBy, OuterRef, Prefetch, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from requests_app import businesstime, roles
from requests_app.clocks import DUE_SOON, Calendars, ClockState, ClockStatus, breached_q, calendar_by_id
from requests_app.models import BusinessCalendar, Department, FeasibilityRequest, Notification, RequestEvent, SalesTeam, Status
from requests_app.roles import Actor


class ProbedExists(Exists):
    """EXISTS that PostgreSQL answers by a lookup per row it tests, never by hashing the whole
    subquery first.

    An EXISTS inside an OR is planned as a "hashed SubPlan" when the planner expects many outer
    rows: it reads every matching row of the subquery up front (for an operations member, every
    assessment of their departments: ~45k rows at 100k requests, 240 ms) although the list stops
    after 26 rows. `OFFSET 0` makes the subquery opaque to that rewrite (PostgreSQL's
    simplify_EXISTS_query gives up on an OFFSET), so each tested row costs one probe of the
    assessments' (request, department) index (1.4 ms for the page)."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def request_scope_q(user: Actor) -> Q:
    """The one scoping rule for requests (shared/RELIABILITY.md rule 8).

    - leads and managers: every submitted request;
    - sales: their own (drafts included) and their teams' submitted requests;
    - operations members: submitted requests routed to one of their departments.
    A user with no role sees nothing.

    Every part is a predicate on the request row that an index answers: the author column, and
    EXISTS probes of the team membership's (team, user) and the assessments' (request, department)
    unique indexes. So a list in an indexed order stops after its page's rows (the planner walks
    the order's index and tests each row), and never joins or collects the whole visible set.
    """
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    submitted = ~Q(status=Status.DRAFT)
    scope = Q(requested_by=user.pk)
    if roles.sees_everything(user):
        return scope | submitted
    if roles.is_sales(user):
        memberships = SalesTeam.members.through.objects.filter(salesteam_id=OuterRef("sales_team_id"), user_id=user.pk)
        scope |= submitted & Q(Exists(memberships))
    if roles.is_ops(user):
        # The assessment model belongs to `analysis`, which this app never imports: reached
        # through the reverse relation.
        assessment = cast("type[Model]", FeasibilityRequest._meta.get_field("assessments").related_model)
        routed = assessment._default_manager.filter(
            request_id=OuterRef("pk"),
            department_id__in=Department.members.through.objects.filter(user_id=user.pk).values("department_id"),
        )
        scope |= submitted & Q(ProbedExists(routed))
    return scope


def visible_requests(user: Actor) -> QuerySet[FeasibilityRequest]:
    return FeasibilityRequest.objects.visible_to(user)


def get_request_for(user: Actor, pk: int) -> FeasibilityRequest:
    """Fetch one request the user may see, or 404 (never 403: ids must not leak)."""
    try:
        req = visible_requests(user).select_related("customer", "product", "requested_by", "sales_team").get(pk=pk)
    except (FeasibilityRequest.DoesNotExist, ValueError, TypeError):
        raise Http404("No such request.") from None
    seen_by(req, user)
    return req


_SEEN_BY = "_s2o_seen_by"


def seen_by(req: FeasibilityRequest, user: Actor) -> None:
    """Remember that `user` may read this row (it was fetched through their scope): the rulebook's
    `can_see`, asked again and again by one page's actions and panels, need not query it again."""
    seen = getattr(req, _SEEN_BY, None)
    if seen is None:
        seen = set()
        setattr(req, _SEEN_BY, seen)
    seen.add(user.pk)


def known_visible(req: FeasibilityRequest, user: Actor) -> bool:
    return user.pk in getattr(req, _SEEN_BY, ())


def get_request_by_reference_for(user: Actor, reference: str) -> FeasibilityRequest:
    """One request the user may see by its reference (S2O-2026-00042), or 404 like `get_request_for`."""
    if not isinstance(reference, str) or not reference or len(reference) > 20 or "\x00" in reference:
        raise Http404("No such request.")
    try:
        return visible_requests(user).select_related("customer", "product", "requested_by", "sales_team").get(
            reference=reference
        )
    except FeasibilityRequest.DoesNotExist:
        raise Http404("No such request.") from None


def unread_notification_count(user: Actor) -> int:
    """The navigation's badge: read with the user when they signed in through `auth.PageUserBackend`."""
    from requests_app.auth import UNREAD_ATTR
    from requests_app.models import Notification

    known = getattr(user, UNREAD_ATTR, None)
    if known is not None:
        return known
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# ---------------------------------------------------------------------------------------------
# Pages


def request_list(*, user: Actor) -> QuerySet[FeasibilityRequest]:
    """The rows of "My requests" (everything the user may see), in one query however many rows."""
    return visible_requests(user).select_related("customer", "product", "requested_by", "sales_team")


def sales_acts_q(user: Actor) -> Q:
    """Requests on which `user` acts for Sales: the rulebook's `acts_for_sales` in SQL (the author,
    and a sales manager on every submitted request of a team they belong to)."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    acts = Q(requested_by=user)
    if roles.is_sales_manager(user):
        acts |= ~Q(status=Status.DRAFT) & Q(sales_team__in=user.sales_teams.values("pk"))
    return acts


# Statuses in which Sales, not Operations, must act (`FeasibilityRequest.awaiting_sales`).
AWAITING_SALES = (Status.WAITING_ON_SALES, Status.ANSWERED)
AWAITING_OPERATIONS = (Status.SUBMITTED, Status.IN_ANALYSIS)


def due_first() -> tuple[OrderBy, ...]:
    """Order by the due time of the clock that runs (acknowledge while submitted, else answer-by),
    soonest first; rows without one (drafts) last, newest first."""
    due = Case(When(status=Status.SUBMITTED, then=F("acknowledge_due")), default=F("answer_due"))
    return (due.asc(nulls_last=True), F("created_at").desc(), F("pk").desc())


# The running clock's state as a filter: the statuses `get_clock_state` gives a request whose
# clock still runs (or stands still), and the SQL that selects them.
DUE_STATES = [
    (ClockStatus.BREACHED.value, "Breached"),
    (ClockStatus.DUE_SOON.value, "Due soon"),
    (ClockStatus.ON_TRACK.value, "On track"),
    (ClockStatus.PAUSED.value, "Paused (waiting on Sales)"),
]


def clock_status_q(status: str, *, now: datetime) -> Q:
    """Requests whose `get_clock_state(now).status` is `status`, in SQL (for filters and pages).

    The same decision as `clocks.measure`, not a second one: breached is `clocks.breached_q`;
    paused is waiting on Sales; "due soon" is a due time no later than the last instant at which at
    most `clocks.DUE_SOON` of business time is left. In each calendar that is `DUE_SOON` of business
    time from now (the earliest such instant: it may be a closing time), or the next opening after
    it, since no business time passes in between. One range per calendar, a handful of rows."""
    if status == ClockStatus.PAUSED:
        return Q(status=Status.WAITING_ON_SALES)
    if status == ClockStatus.BREACHED:
        return breached_q(now)
    soon = Q(pk__in=[])
    for calendar_id, is_default in BusinessCalendar.objects.values_list("pk", "is_default"):
        cal = calendar_by_id(calendar_id)
        until = businesstime.next_working_instant(cal, businesstime.add_business_time(cal, now, DUE_SOON))
        of_calendar = Q(calendar_id=calendar_id) | Q(calendar__isnull=True) if is_default else Q(calendar_id=calendar_id)
        soon |= of_calendar & (
            Q(status=Status.SUBMITTED, acknowledge_due__gte=now, acknowledge_due__lte=until)
            | Q(status=Status.IN_ANALYSIS, answer_due__gte=now, answer_due__lte=until)
        )
    if status == ClockStatus.DUE_SOON:
        return soon
    if status == ClockStatus.ON_TRACK:
        return Q(status__in=AWAITING_OPERATIONS) & ~breached_q(now) & ~soon
    raise ValueError(f"Not a running clock's state: {status}")


@dataclass(frozen=True)
class Section:
    """Up to `size` rows of a home page section, with their clock states; `more` when there are
    further rows (found by reading one row more, never by counting them all)."""

    rows: list[tuple[FeasibilityRequest, ClockState | None]]
    more: bool


def _section(queryset: QuerySet[FeasibilityRequest], *, size: int, now: datetime, calendars: Calendars) -> Section:
    rows = list(queryset[: size + 1])
    return Section(rows=with_clock_states(rows[:size], now=now, calendars=calendars), more=len(rows) > size)


@dataclass(frozen=True)
class SalesHome:
    needs_action: Section  # a question to reply to or an answer to decide on, longest waiting first
    mine: Section  # my other requests still open (drafts included), soonest due first
    team: Section  # teammates' open requests I do not act on, soonest due first


HOME_SECTION_SIZE = 10


def sales_home(*, user: Actor, now: datetime, size: int = HOME_SECTION_SIZE) -> SalesHome:
    """A Sales person's own work first. Three bounded queries (plus the questions' text and each
    calendar once), whatever the number of requests the person can see."""
    from requests_app.models import Comment

    visible = request_list(user=user)
    acts = sales_acts_q(user)
    calendars = Calendars()
    questions = Prefetch(
        "comments", queryset=Comment.objects.filter(kind=Comment.Kind.QUESTION).order_by("-created_at", "-pk"),
        to_attr="questions",
    )
    needs_action = (
        visible.filter(acts, status__in=AWAITING_SALES)
        .annotate(waiting_since=Coalesce("paused_since", "answered_at"))
        .order_by(F("waiting_since").asc(nulls_last=True), "pk")
        .prefetch_related(questions)
    )
    mine = visible.filter(requested_by=user, status__in=[Status.DRAFT, *AWAITING_OPERATIONS]).order_by(*due_first())
    team = (
        visible.filter(sales_team__in=user.sales_teams.values("pk"), status__in=[*AWAITING_OPERATIONS, *AWAITING_SALES])
        .exclude(requested_by=user)
        .exclude(acts & Q(status__in=AWAITING_SALES))  # a sales manager has those under "needs my action"
        .order_by(*due_first())
    )
    return SalesHome(
        needs_action=_section(needs_action, size=size, now=now, calendars=calendars),
        mine=_section(mine, size=size, now=now, calendars=calendars),
        team=_section(team, size=size, now=now, calendars=calendars),
    )


def with_clock_states(
    requests: Iterable[FeasibilityRequest], *, now: datetime, calendars: Calendars | None = None
) -> list[tuple[FeasibilityRequest, ClockState | None]]:
    """Each request with the state of the clock that matters now (`get_clock_state`), for lists;
    none once it is answered or closed (nothing is due). Each calendar is read once."""
    calendars = calendars or Calendars()
    return [
        (req, req.get_clock_state(now, calendars.of(req)) if req.is_open else None)
        for req in requests
    ]


@dataclass(frozen=True)
class Promise:
    answer_due: datetime  # in the viewer's zone
    paused: bool


def promise_for(req: FeasibilityRequest) -> Promise | None:
    """"We will analyze and let you know by …": shown once Operations has acknowledged. How the
    promise stands (left, overdue, paused) is the answer clock's state, `get_clock_state`."""
    if req.acknowledged_at is None or req.answer_due is None or req.status in (Status.ANSWERED, Status.CLOSED):
        return None
    return Promise(answer_due=timezone.localtime(req.answer_due), paused=req.status == Status.WAITING_ON_SALES)


# Events whose actor is an Operations assessor: who assessed is internal to Operations and managers.
INTERNAL_ACTOR_KINDS = {RequestEvent.Kind.ASSESSED}


def request_detail_parts(req: FeasibilityRequest, *, internals: bool) -> dict[str, object]:
    """Everything the request page shows besides the row itself, a fixed number of queries.

    `internals`: the viewer may read Operations' internals (`s2o.read_internals`); if not, the
    timeline does not name who assessed (the verdict stays: Sales reads it)."""
    events = list(req.events.select_related("actor"))
    if not internals:
        for event in events:
            if event.kind in INTERNAL_ACTOR_KINDS:
                event.actor = None
    comments = list(req.comments.select_related("author"))
    attachments = list(req.attachments.select_related("uploaded_by"))
    return {
        "events": events,
        "comments": comments,
        "attachments": attachments,
        "last_question": next((c for c in reversed(comments) if c.kind == "question"), None),
    }


def notifications_for(user: Actor) -> QuerySet[Notification]:
    from requests_app.models import Notification

    return Notification.objects.filter(user=user).select_related("request")


CSV_HEADER = [
    "reference", "title", "status", "outcome", "customer", "part", "quantity", "unit", "requested_date",
    "target_price", "deal_value", "currency", "priority", "requested_by", "team", "submitted_at",
    "acknowledged_at", "answer_due", "answered_at", "closed_at",
]


def request_csv_rows(queryset: QuerySet[FeasibilityRequest]) -> Iterator[list[Any]]:
    """The CSV export's rows (header first), read in chunks; times in the current zone."""

    def when(value: datetime | None) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    yield CSV_HEADER
    for req in queryset.select_related("customer", "product", "requested_by", "sales_team").iterator(chunk_size=500):
        yield [
            req.reference or "", req.title, req.get_status_display(), req.get_outcome_display() if req.outcome else "",
            req.customer.name if req.customer is not None else "",
            req.product.sku if req.product is not None else req.part_description,
            req.quantity, req.unit, req.requested_date, req.target_price if req.target_price is not None else "",
            req.deal_value if req.deal_value is not None else "", req.currency, req.get_priority_display(),
            req.requested_by.get_full_name() or req.requested_by.username,
            req.sales_team.name if req.sales_team is not None else "",
            when(req.submitted_at), when(req.acknowledged_at), when(req.answer_due), when(req.answered_at), when(req.closed_at),
        ]
