"""Operations' reads: the triage and department queues, one assessment or answer with its access
rules, the pre-filled alternatives and the assessment/answer history for the request timeline.

Queues run a fixed number of queries whatever their length (tests pin it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, Model, OrderBy, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from analysis import money
from analysis.clocks import department_calendar_id
from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, CostBasis, Decision, Verdict
from requests_app import businesstime, paging, permissions
from requests_app.clocks import DUE_SOON, Calendars, Clock, ClockState, ClockStatus, calendar_by_id
from requests_app.models import BusinessCalendar, Department, FeasibilityRequest, Status
from requests_app.paging import Page
from requests_app.roles import Actor
from requests_app.selectors import get_request_for

# ---------------------------------------------------------------------------------------------
# Access (who may edit it is the rulebook's `s2o.assess_department`, asked by the view and the service)


def get_assessment_for(user: Actor, pk: int, code: str) -> Assessment:
    """The assessment of department `code` on request `pk`: 404 when the user may not see the
    request or the department was not routed."""
    req = get_request_for(user, pk)
    try:
        assessment = Assessment.objects.select_related("department", "owner", "assessed_by").get(
            request=req, department__code=code
        )
    except Assessment.DoesNotExist:
        raise Http404("That department was not asked to assess this request.") from None
    assessment.request = req
    return assessment


# ---------------------------------------------------------------------------------------------
# Queues


@dataclass
class QueueRow:
    """A triage row: the request and its running clock's state (`FeasibilityRequest.get_clock_state`)."""

    request: FeasibilityRequest
    state: ClockState | None
    pending: list[str] = field(default_factory=list)  # departments still owing an assessment
    done: list[str] = field(default_factory=list)

    @property
    def due(self) -> datetime | None:
        return self.state.due if self.state else None

    @property
    def breached(self) -> bool:
        return self.state is not None and self.state.is_breached


@dataclass
class TriageQueue:
    unacknowledged: Page  # of QueueRow
    in_analysis: Page  # of QueueRow


def _assessments_prefetch() -> Prefetch:
    return Prefetch("assessments", queryset=Assessment.objects.select_related("department").order_by("department__name"))


def queue_order(sort: str, due_field: str) -> tuple:
    """A queue section's order: by its clock's due time (soonest or latest first), or newest first."""
    if sort == "-due":
        return (F(due_field).desc(nulls_last=True), F("pk").desc())
    if sort == "-submitted":
        return (F("submitted_at").desc(), F("pk").desc())
    return (F(due_field).asc(nulls_last=True), F("pk").asc())


def triage_queue(
    *, now: datetime, requests: QuerySet[FeasibilityRequest] | None = None, sort: str = "due",
    ack_page: str | None = None, page: str | None = None, per_page: int = paging.PER_PAGE,
) -> TriageQueue:
    """Unacknowledged requests by acknowledge deadline (closest first), then requests in analysis
    (or waiting on Sales) by answer-by, with the departments still owing their assessment.

    `requests`: the filtered requests to show (default: all); `sort` orders both sections
    (`queue_order`); `ack_page` and `page` are each section's page. A fixed number of queries
    whatever the number of open requests: each section reads its page (one row more) and a count
    capped at `paging.COUNT_CAP`; the assessments of the page's rows in one more."""
    base = (FeasibilityRequest.objects.all() if requests is None else requests).select_related("customer", "requested_by")
    submitted = base.filter(status=Status.SUBMITTED).order_by(*queue_order(sort, "acknowledge_due"))
    analysing = base.filter(status__in=[Status.IN_ANALYSIS, Status.WAITING_ON_SALES]).order_by(
        *queue_order(sort, "answer_due")
    )
    first = paging.paginate(submitted, ack_page, per_page=per_page)
    second = paging.paginate(analysing, page, per_page=per_page)
    prefetch_related_objects(second.object_list, _assessments_prefetch())
    calendars = Calendars()
    rows = []
    for req in second.object_list:
        assessments = list(req.assessments.all())
        rows.append(
            QueueRow(
                req, req.get_clock_state(now, calendars.of(req), Clock.ANSWER),
                pending=[a.department.name for a in assessments if not a.is_done],
                done=[a.department.name for a in assessments if a.is_done],
            )
        )
    unacknowledged = [QueueRow(r, r.get_clock_state(now, calendars.of(r), Clock.ACKNOWLEDGE)) for r in first.object_list]
    return TriageQueue(unacknowledged=replace(first, object_list=unacknowledged), in_analysis=replace(second, object_list=rows))


def F_nulls_last(name: str) -> OrderBy:
    from django.db.models import F

    return F(name).asc(nulls_last=True)


@dataclass
class DepartmentRow:
    """A department-queue row: the assessment and its clock's state (`Assessment.get_clock_state`)."""

    assessment: Assessment
    state: ClockState | None
    missing: list[str]
    others_pending: list[str]

    @property
    def request(self) -> FeasibilityRequest:
        return self.assessment.request

    @property
    def breached(self) -> bool:
        return self.state is not None and self.state.is_breached


@dataclass
class DepartmentQueue:
    to_assess: Page  # of DepartmentRow
    assessed: Page  # of DepartmentRow


def assessment_missing(assessment: Assessment) -> list[str]:
    """What a department still has to give (for the queue's “still missing” column)."""
    if not assessment.is_done:
        return ["verdict"]
    missing = []
    if assessment.verdict != Verdict.CAN and assessment.quantity_feasible is None:
        missing.append("feasible quantity")
    if assessment.verdict != Verdict.CAN and assessment.earliest_full_date is None:
        missing.append("earliest full date")
    return missing


def department_assessments(user: Actor) -> QuerySet[Assessment]:
    """Assessments of the user's departments (or handed to them) on requests still in analysis.

    Read from the request's state copied onto the assessment (`Assessment.request_open`), so that a
    queue's rows come from its partial indexes in their order; membership is a condition on each
    row (the user's few departments, or the owner), not a set of all the departments' assessments
    built before the first row."""
    departments = Department.members.through.objects.filter(user=user).values("department_id")
    return Assessment.objects.filter(Q(department__in=departments) | Q(owner=user), request_open=True)


def assessment_status_q(status: str, *, now: datetime) -> Q:
    """Assessments whose department clock (`Assessment.get_clock_state(now)`) has `status`, in SQL,
    among assessments still owed on a request in analysis (`department_assessments`).

    The rule of `clocks.measure` as `requests_app.selectors.clock_status_q` states it, on the
    department clock: paused while the request waits on Sales, breached past `due_at`, due soon
    within `clocks.DUE_SOON` of business time in the clock's calendar (the department's own, else
    the request's, else the default)."""
    pending = Q(assessed_at__isnull=True, due_at__isnull=False)
    if status == ClockStatus.PAUSED:
        return pending & Q(request__status=Status.WAITING_ON_SALES)
    running = pending & Q(request__status=Status.IN_ANALYSIS)
    if status == ClockStatus.BREACHED:
        return running & Q(due_at__lt=now)
    soon = Q(pk__in=[])
    for calendar_id, is_default in BusinessCalendar.objects.values_list("pk", "is_default"):
        cal = calendar_by_id(calendar_id)
        until = businesstime.next_working_instant(cal, businesstime.add_business_time(cal, now, DUE_SOON))
        of_request = Q(request__calendar_id=calendar_id)
        if is_default:
            of_request |= Q(request__calendar__isnull=True)
        of_calendar = Q(department__calendar_id=calendar_id) | (Q(department__calendar__isnull=True) & of_request)
        soon |= of_calendar & Q(due_at__gte=now, due_at__lte=until)
    if status == ClockStatus.DUE_SOON:
        return running & soon
    if status == ClockStatus.ON_TRACK:
        return running & Q(due_at__gte=now) & ~soon
    raise ValueError(f"Not a running clock's state: {status}")


def department_queue(
    *, user: Actor, now: datetime, assessments: QuerySet[Assessment] | None = None, sort: str = "due",
    page: str | None = None, done_page: str | None = None, per_page: int = paging.PER_PAGE,
) -> DepartmentQueue:
    """Assessments of the user's departments on requests still in analysis: to do first (by
    their due time, then the request's answer-by), then done ones still editable.

    `assessments`: the filtered ones to show (default: `department_assessments(user)`); `sort`:
    `analysis.filters.SORTS`; `page` and `done_page`: each section's page. A fixed number of
    queries whatever the queue's length (each section: its page, a capped count, the other
    departments of its rows)."""
    qs = (department_assessments(user) if assessments is None else assessments).select_related(
        "department", "owner", "request", "request__customer", "request__requested_by"
    )
    # By due time and newest first, each section's rows come from its partial index in that order
    # (`Assessment.Meta.indexes`, "assess_q_…") and PostgreSQL stops after the page; the answer-by
    # only breaks ties of due time. Latest due first sorts the user's open rows.
    if sort == "-submitted":
        order: tuple[OrderBy, ...] = (F("request_submitted_at").desc(), F("pk").desc())
    elif sort == "-due":
        order = (F("due_at").desc(nulls_last=True), F("request__answer_due").desc(nulls_last=True), F("pk").desc())
    else:
        order = (F_nulls_last("due_at"), F_nulls_last("request__answer_due"), F("pk").asc())
    sections = []
    calendars = Calendars()
    others = Prefetch("request__assessments", queryset=Assessment.objects.select_related("department"), to_attr="all_assessments")
    for done, raw_page in ((False, page), (True, done_page)):
        section = paging.paginate(qs.filter(assessed_at__isnull=not done).order_by(*order), raw_page, per_page=per_page)
        prefetch_related_objects(section.object_list, others)
        rows = []
        for a in section.object_list:
            pending = [o.department.name for o in a.request.all_assessments if o.pk != a.pk and not o.is_done]
            state = a.get_clock_state(now, calendars.get(department_calendar_id(a, a.request)))
            rows.append(DepartmentRow(a, state, assessment_missing(a), pending))
        sections.append(replace(section, object_list=rows))
    return DepartmentQueue(to_assess=sections[0], assessed=sections[1])


# ---------------------------------------------------------------------------------------------
# Composer


def assessments_of(req: FeasibilityRequest, *, viewer: Actor | None = None) -> list[Assessment]:
    """The request's assessments with their constraints, in one query: each assessment row is
    joined to its constraints (one row per constraint, or one without), and `a.constraints.all()`
    answers from what was read, as after a `prefetch_related` (which would be a second query on
    every request page). With `viewer`, whether they belong to each department is read along
    (`permissions.works_on_department` asks it for every assessment shown)."""
    rows = (
        Assessment.objects.filter(request=req)
        .select_related("department", "assessed_by", "owner")
        .annotate(**_joined_columns("constraints", ConstraintCategory, "_constraint_"))
        .order_by("department__name", "pk", "_constraint_sort_order", "_constraint_code")
    )
    if viewer is not None and viewer.is_authenticated:
        members = Department.members.through.objects.filter(department_id=OuterRef("department_id"), user_id=viewer.pk)
        rows = rows.annotate(_viewer_member=Exists(members))
    assessments: dict[int, Assessment] = {}
    constraints: dict[int, list[ConstraintCategory]] = {}
    for row in rows:
        assessment = assessments.setdefault(row.pk, row)
        found = constraints.setdefault(row.pk, [])
        constraint = _joined(row, "_constraint_", ConstraintCategory)
        if constraint is not None:
            found.append(constraint)
    for pk, assessment in assessments.items():
        assessment.request = req  # their clock states read the request's status
        _set_prefetched(assessment, "constraints", constraints[pk])
        if viewer is not None and hasattr(assessment, "_viewer_member"):
            permissions.remember_department_member(assessment, viewer, assessment._viewer_member)
    return list(assessments.values())


def _set_prefetched(obj: Model, name: str, items: list) -> None:
    """Make `obj.<name>.all()` return `items` without a query, the way prefetch_related stores them."""
    queryset = getattr(obj, name).all()
    queryset._result_cache = items
    queryset._prefetch_done = True
    # Django's own per-instance cache of prefetch_related, which the stubs do not declare.
    obj._prefetched_objects_cache = {**getattr(obj, "_prefetched_objects_cache", {}), name: queryset}  # type: ignore[attr-defined]


def draft_answer(req: FeasibilityRequest) -> Answer | None:
    return Answer.objects.filter(request=req, published_at__isnull=True).order_by("-number").first()


def published_answers(req: FeasibilityRequest) -> list[Answer]:
    """What Sales reads of Operations' answers: every published one, newest first, each with its
    alternatives (their constraint and who accepted them). One query, read once per request object
    (the answer panel and the history both show them): each answer row is joined to its
    alternatives (`_joined_columns`), one row per alternative or one without, as `assessments_of`
    reads constraints."""
    memo = getattr(req, "_s2o_published_answers", None)
    if memo is not None:
        return memo
    if req.pk is None or req.status == Status.DRAFT:  # nothing is published before submission
        req._s2o_published_answers = []  # type: ignore[attr-defined]  # a memo, read above
        return []
    joined: dict[str, tuple[str, type[Model]]] = {
        "_alt_": ("alternatives", Alternative),
        "_altc_": ("alternatives__works_around", ConstraintCategory),
        "_altu_": ("alternatives__accepted_by", get_user_model()),
    }
    rows = (
        Answer.objects.filter(request=req, published_at__isnull=False)
        .select_related("published_by")
        .annotate(**{name: column for prefix, (path, model) in joined.items()
                     for name, column in _joined_columns(path, model, prefix).items()})
        .order_by("-number", "_alt_position", "_alt_id")
    )
    answers: dict[int, Answer] = {}
    alternatives: dict[int, list[Alternative]] = {}
    for row in rows:
        answer = answers.setdefault(row.pk, row)
        found = alternatives.setdefault(row.pk, [])
        alternative = cast("Alternative | None", _joined(row, "_alt_", Alternative))
        if alternative is None:
            continue
        alternative.answer = answer
        alternative.works_around = _joined(row, "_altc_", ConstraintCategory)
        alternative.accepted_by = _joined(row, "_altu_", get_user_model())
        found.append(alternative)
    for pk, answer in answers.items():
        answer.request = req
        _set_prefetched(answer, "alternatives", alternatives[pk])
    memo = req._s2o_published_answers = list(answers.values())  # type: ignore[attr-defined]  # a memo, read above
    return memo


def _joined_columns(path: str, model: type[Model], prefix: str) -> dict[str, F]:
    """Every column of the `model` reached through `path`, read into the row as `<prefix><column>`
    (an outer join: one row per related object, or one of NULLs); `_joined` makes them an instance."""
    return {f"{prefix}{f.attname}": F(f"{path}__{f.attname}") for f in model._meta.concrete_fields}


def _joined(row: Model, prefix: str, model: type[Model]) -> Any:
    """The `model` instance whose columns were read into `row` as `<prefix><column>`, or None
    when the outer join found none."""
    fields = model._meta.concrete_fields
    values = [getattr(row, f"{prefix}{f.attname}") for f in fields]
    if values[[f.primary_key for f in fields].index(True)] is None:
        return None
    return model.from_db(row._state.db, [f.attname for f in fields], values)


def alternatives_from_assessments(req: FeasibilityRequest, assessments: list[Assessment]) -> tuple[str, list[dict]]:
    """Suggested decision and alternatives from the departments' verdicts.

    The bottleneck department sets what is possible: the smallest quantity feasible by the
    requested date and the latest date for the full quantity. Suggests (1) that quantity by the
    requested date with the rest by the earliest full date, working around the constraint of the
    department that limits the quantity, and (2) everything by that date, working around the
    constraint of the department that sets the date. The departments' cost impacts become the
    cost delta only when they are of one kind (`money.combined`); otherwise it is left to the lead.
    """
    done = [a for a in assessments if a.is_done]
    asked = cast(Decimal, req.quantity)  # a submitted request always has its quantity
    if not done:
        return "", []
    if all(a.verdict == Verdict.CAN for a in done):
        return Decision.YES, []
    feasible = min((a.quantity_feasible for a in done if a.quantity_feasible is not None), default=None)
    earliest = max((a.earliest_full_date for a in done if a.earliest_full_date is not None), default=None)
    cost = suggested_cost(done)
    cost_fields = (
        {"cost_delta": cost.amount, "cost_basis": cost.basis, "cost_currency": cost.currency}
        if cost else {"cost_delta": None, "cost_basis": "", "cost_currency": req.currency}
    )
    limiting = [a for a in done if a.verdict != Verdict.CAN]
    counts = Counter(c for a in limiting for c in a.constraints.all())
    if all(a.verdict != Verdict.CANNOT for a in done) and (feasible is None or feasible >= asked):
        return Decision.YES_WITH_CONDITIONS, []
    unit = req.unit
    alternatives = []
    if feasible and feasible < asked:
        rest = asked - feasible
        conditions = f"{feasible.normalize():f} {unit} by the requested date"
        if earliest:
            conditions += f"; the remaining {rest.normalize():f} {unit} by {earliest:%d %b %Y}"
        short = [a for a in limiting if a.quantity_feasible == feasible]
        alternatives.append({
            "quantity": feasible, "delivery_date": req.requested_date, **cost_fields,
            "conditions": conditions + ".", "works_around": _main_constraint(short, counts), "recommended": True,
        })
    if earliest:
        late = [a for a in limiting if a.earliest_full_date == earliest]
        alternatives.append({
            "quantity": asked, "delivery_date": earliest, **cost_fields,
            "conditions": f"The full {asked.normalize():f} {unit} by {earliest:%d %b %Y}.",
            "works_around": _main_constraint(late, counts), "recommended": not alternatives,
        })
    return (Decision.ALTERNATIVES if alternatives else Decision.NO), alternatives


def suggested_cost(assessments: list[Assessment]) -> money.Cost | None:
    """The departments' cost impacts added up, when they are of one kind (basis and currency)."""
    return money.combined(
        money.Cost(a.cost_impact, a.cost_currency, a.cost_basis) for a in assessments if a.cost_impact is not None
    )


def _main_constraint(departments: list[Assessment], counts: Counter) -> ConstraintCategory | None:
    """The constraint these departments cite that the most limiting departments cite most often
    (ties: the taxonomy's order); None when they cite none."""
    cited = {c for a in departments for c in a.constraints.all()}
    if not cited:
        return None
    return min(cited, key=lambda c: (-counts[c], c.sort_order, c.code))


# ---------------------------------------------------------------------------------------------
# History for the request timeline


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str  # "assessment" | "answer"
    actor: object | None
    title: str
    lines: tuple[str, ...] = ()
    superseded: bool = False


def request_history(req: FeasibilityRequest, *, internals: bool) -> list[HistoryEntry]:
    """Every recorded assessment (each save, from django-simple-history) and every published
    answer with its alternatives, oldest first. Three queries.

    Without `internals` (Sales: `s2o.read_internals` says no) the entries keep what Sales reads,
    each department's verdict, feasible quantity and date and the answers with their alternatives,
    and leave out who assessed, the notes, cost impacts and the alternatives' cost deltas."""
    entries: list[HistoryEntry] = []
    records = (
        Assessment.history.filter(request_id=req.pk)
        .exclude(verdict="")
        .select_related("department", "history_user")
        .order_by("history_date", "history_id")
    )
    seen_departments: set[int] = set()
    for rec in records:
        revised = rec.department_id in seen_departments
        seen_departments.add(rec.department_id)
        lines = []
        if rec.quantity_feasible is not None:
            lines.append(f"Feasible by the requested date: {rec.quantity_feasible.normalize():f} {req.unit}")
        if rec.earliest_full_date:
            lines.append(f"Full quantity by {rec.earliest_full_date:%d %b %Y}")
        if internals and rec.cost_impact is not None:
            lines.append("Cost impact: " + money.cost_text(rec.cost_impact, rec.cost_currency, rec.cost_basis,
                                                           unit=req.unit, quantity=req.quantity))
        if internals and rec.notes:
            lines.append(rec.notes)
        verdict = Verdict(rec.verdict).label if rec.verdict in Verdict.values else rec.verdict
        entries.append(
            HistoryEntry(
                at=rec.history_date, kind="assessment", actor=rec.history_user if internals else None,
                title=f"{rec.department.name} {'revised its assessment' if revised else 'assessed'}: {verdict}",
                lines=tuple(lines),
            )
        )
    for answer in published_answers(req):
        lines = [answer.summary] if answer.summary else []
        if answer.justification:
            lines.append(f"Justification: {answer.justification}")
        for i, alt in enumerate(answer.alternatives.all(), start=1):
            text = f"Alternative {i}: {alt.quantity.normalize():f} {req.unit} by {alt.delivery_date:%d %b %Y}"
            if alt.price is not None:
                text += f", price {money.cost_text(alt.price, alt.currency, CostBasis.PER_UNIT, unit=req.unit)}"
            if internals and alt.cost_delta is not None:
                text += ", cost " + money.cost_text(alt.cost_delta, alt.cost_currency, alt.cost_basis, unit=req.unit,
                                                    quantity=alt.quantity, signed=True)
            if alt.recommended:
                text += " (recommended)"
            if alt.conditions:
                text += f" — {alt.conditions}"
            lines.append(text)
        if answer.revision_reason:
            lines.append(f"Revision asked: {answer.revision_reason}")
        entries.append(
            HistoryEntry(
                at=cast(datetime, answer.published_at), kind="answer", actor=answer.published_by,  # published ones only
                title=f"Answer {answer.number} published: {Decision(answer.decision).label}",
                lines=tuple(lines), superseded=answer.superseded_at is not None,
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


# ---------------------------------------------------------------------------------------------
# The Operations panel on the request page


@dataclass
class OpsPanel:
    """What the request page shows of Operations' work, and which of its actions this user has
    (each one the rulebook's permission and the state rule its service applies: `permissions.offered`)."""

    req: FeasibilityRequest
    assessments: list[Assessment]
    history: list[HistoryEntry]
    internals: bool  # notes, costs, assessors and the departments' own due times (`s2o.read_internals`)
    can_acknowledge: bool
    can_compose: bool
    can_route: bool
    can_extend: bool
    can_ask: bool
    editable_assessments: list[Assessment]


def ops_panel(*, req: FeasibilityRequest, user: Actor, assessments: list[Assessment] | None = None) -> OpsPanel:
    """Context for `templates/analysis/_ops_panel.html`; `assessments` as `assessments_of` read them
    for this user, when the caller has them already."""
    if assessments is None:
        assessments = assessments_of(req, viewer=user)
    internals = permissions.allowed(user, "s2o.read_internals", req)
    return OpsPanel(
        req=req,
        assessments=assessments,
        history=request_history(req, internals=internals),
        internals=internals,
        can_acknowledge=permissions.offered(user, "s2o.acknowledge_request", req),
        can_compose=permissions.offered(user, "s2o.answer_request", req),
        can_route=permissions.offered(user, "s2o.route_request", req),
        can_extend=permissions.offered(user, "s2o.extend_answer_by", req),
        can_ask=permissions.offered(user, "s2o.ask_clarification", req),
        editable_assessments=[a for a in assessments if permissions.offered(user, "s2o.assess_department", a)],
    )
