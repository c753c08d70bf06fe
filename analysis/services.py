"""Operations' writes: acknowledge and route, extend the answer-by, record a department's
assessment, compose and publish the answer.

Every function is keyword-only, takes the acting user as `actor`, runs in one transaction and,
once it holds the request's row lock, asks the rulebook (`permissions.require`) before it changes
anything. State changes go through `lifecycle.transition`; other edits are version-checked
(`lifecycle.check_version` under that lock), so two people editing the same thing never silently
overwrite each other (shared/RELIABILITY.md rule 6). Business-rule failures raise
`ValidationError` (a dict keyed by form field where it applies), so a view can put the message next
to the input it concerns and keep the input.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Model
from django.utils import timezone

from analysis import clocks as department_clocks
from analysis import forecasts, rollups, search
from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, Decision, Verdict
from requests_app import clocks, dates, lifecycle, permissions, roles
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.middleware import user_time_zone
from requests_app.models import ClockEvent, Department, FeasibilityRequest, RequestEvent, Status
from requests_app.notifications import notify
from requests_app.roles import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Kind = RequestEvent.Kind

__all__ = [
    "ConflictError",
    "TransitionError",
    "PromiseError",
    "answer_by_extend",
    "answer_publish",
    "answer_save_draft",
    "assessment_save",
    "request_acknowledge",
    "request_route",
]

# ---------------------------------------------------------------------------------------------
# Helpers: people and times


def format_local(value: datetime, user: Actor) -> str:
    """A time as the user reads it: in their own zone (Preferences), else the site's."""
    zone = user_time_zone(user) or zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return timezone.localtime(value, zone).strftime("%a %d %b %Y, %H:%M %Z")


class PromiseError(ValidationError):
    """An answer-by a lead may not promise, on the `answer_due` field, with the answer-by to
    propose instead (`proposal`, None when there is none to offer)."""

    def __init__(self, message: str, *, proposal: datetime | None) -> None:
        super().__init__({"answer_due": message})
        self.proposal = proposal


def _check_promise(req: FeasibilityRequest, *, due: datetime, now: datetime, actor: Actor) -> None:
    """Refuse an answer-by outside working time, too soon or too far ahead (DESIGN.md), in words
    for the lead and with the next acceptable time to offer."""
    minimum, horizon = clocks.promise_limits(clocks.policy_for(req))
    problem = clocks.promise_problem(clocks.work_calendar(req), due=due, now=now, minimum=minimum, horizon=horizon)
    if problem is None:
        return
    when = format_local(due, actor)
    Issue = clocks.PromiseIssue
    if problem.issue == Issue.TOO_FAR:
        raise PromiseError(
            f"{when} is too far ahead: an answer-by can be at most {horizon.days} days away "
            f"(until {format_local(problem.latest, actor)}). Promise what Operations can keep and extend it later if needed.",
            proposal=None,
        )
    if problem.issue == Issue.PAST:
        message = "The answer-by time must be in the future."
    elif problem.issue == Issue.TOO_SOON:
        message = (
            f"{when} leaves less than the {_hours_text(minimum)} of working time this priority needs for an answer."
        )
    elif problem.issue == Issue.DAY_OFF:
        why = {
            "weekend": "not a working day",
            "holiday": f"a public holiday ({problem.holiday})" if problem.holiday else "a public holiday",
            "closure": "during a company closure",
        }[problem.day_off]
        message = f"{when} is {why}; an answer-by lies in working hours."
    else:
        message = f"{when} is outside working hours; an answer-by lies in working hours."
    if problem.proposal is not None and problem.issue != Issue.PAST:  # the page offers it; the words stay short
        message += f" The next possible answer-by is {format_local(problem.proposal, actor)}."
    raise PromiseError(message, proposal=problem.proposal)


def _hours_text(value: timedelta) -> str:
    minutes = round(value.total_seconds() / 60)
    whole, rest = divmod(minutes, 60)
    text = f"{whole} business hour{'s' if whole != 1 else ''}" if whole else ""
    if rest:
        text = f"{text} {rest} minutes".strip()
    return text
def forecast_sentence(outlook: forecasts.Forecast, user: Actor) -> str:
    """The acknowledgement's honest forecast, in the rep's zone (a notification holds 300 characters)."""
    if outlook.too_little_history or outlook.answer is None:
        return (f"Too few similar requests to forecast; the SLA answers by {format_local(outlook.sla_answer_at, user)}.")
    return (f"Similar requests: half answered by {format_local(outlook.answer.median_at, user)}, "
            f"9 in 10 by {format_local(outlook.answer.p90_at, user)} ({outlook.count} in 90 days).")


def _stamp_history(row: Model, actor: Actor | None, now: datetime) -> None:
    """Who and when for the row's next history record: django-simple-history reads these two
    attributes of the instance when it saves (no model fields, hence setattr)."""
    setattr(row, "_history_user", actor)  # noqa: B010
    setattr(row, "_history_date", now)  # noqa: B010


def _notify_each(
    users: Iterable[User | None], *, kind: str, request: FeasibilityRequest, text: Callable[..., str],
    actor: Actor | None = None, now: datetime,
    email_template: str = "notification", email_data: dict | None = None,
) -> None:
    """One notification per user, with times written in that user's zone (`text(user)`)."""
    seen: set[int] = set()
    for user in users:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        notify([user], kind=kind, message=text(user), request=request, email_template=email_template,
               email_data=email_data, exclude=actor, now=now)


def _departments(values: Iterable) -> list[Department]:
    items = list(values)
    codes = [v for v in items if isinstance(v, str)]
    found = {d.code: d for d in Department.objects.filter(code__in=codes)} if codes else {}
    result: list[Department] = []
    for value in items:
        dept = found.get(value) if isinstance(value, str) else value
        if dept is None:
            raise ValidationError({"departments": f"Unknown department “{value}”."})
        if dept.pk not in {d.pk for d in result}:
            result.append(dept)
    return result


def _check_owners(departments: Sequence[Department], owners: dict | None) -> dict[int, User]:
    """Owners keyed by department code (or Department); each must be a member of it."""
    by_dept: dict[int, User] = {}
    for key, user in (owners or {}).items():
        if user is None:
            continue
        dept = next((d for d in departments if d.code == key or d == key), None)
        if dept is None:
            continue  # an owner for a department that was not chosen: ignored
        if not dept.members.filter(pk=user.pk).exists():
            raise ValidationError({f"owner_{dept.code}": f"{user} is not a member of {dept.name}."})
        by_dept[dept.pk] = user
    return by_dept


def _route(
    req: FeasibilityRequest, departments: Sequence[Department], owners: dict[int, User], *, actor: Actor, now: datetime
) -> list[Assessment]:
    """Create one assessment per newly routed department, start its clock, record and tell."""
    already = set(req.assessments.values_list("department_id", flat=True))
    new = [d for d in departments if d.pk not in already]
    if not new:
        raise ValidationError({"departments": "Those departments are already assessing this request."})
    created = []
    for dept in new:
        assessment = Assessment(request=req, department=dept, owner=owners.get(dept.pk), routed_at=now)
        department_clocks.start_department_clock(assessment, now=now)  # due at the policy's share, on the sweep's list
        _stamp_history(assessment, actor, now)  # the history reads when it happened, not when it was recorded
        assessment.save()
        created.append(assessment)
    names = ", ".join(d.name for d in new)
    lifecycle.record_event(
        req, kind=Kind.ROUTED, actor=actor, now=now, message=f"Routed to {names}",
        data={"departments": [d.code for d in new], "owners": {d.code: getattr(owners.get(d.pk), "pk", None) for d in new}},
    )
    for assessment in created:
        members = list(assessment.department.members.filter(is_active=True))
        if assessment.owner is not None:
            members.append(assessment.owner)
        _notify_each(
            members, kind="routed", request=req, actor=actor, now=now,
            text=lambda user, a=assessment: (
                f"{req.reference} needs {a.department.name}'s assessment"
                + (f" by {format_local(a.due_at, user)}" if a.due_at else "")
                + f": {req.title}"
            ),
        )
    return created


# ---------------------------------------------------------------------------------------------
# Acknowledge, route, extend


def request_acknowledge(
    *,
    request_id: int,
    actor: Actor,
    departments: Iterable,
    owners: dict | None = None,
    answer_due: datetime | None = None,
    reason: str = "",
    now: datetime | None = None,
    expected_version: int | None = None,
) -> FeasibilityRequest:
    """The promise: accept the request for analysis, route it and commit an answer-by.

    The answer-by defaults to the SLA policy of the request's priority (business time from
    submission, moved by any pause); later than the policy's maximum needs a recorded reason.
    """
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        req = lifecycle.lock(request_id)
        permissions.require(actor, "s2o.acknowledge_request", req)
        lifecycle.check_version(req, expected_version)
        lifecycle.check_transition(req.status, Status.IN_ANALYSIS, Kind.ACKNOWLEDGED)
        depts = _departments(departments)
        if not depts:
            raise ValidationError({"departments": "Choose at least one department that must assess this request."})
        owner_map = _check_owners(depts, owners)
        policy_due = clocks.default_answer_due(req)
        due = answer_due or policy_due
        if answer_due is not None:  # the policy's own default is a promise it can keep
            _check_promise(req, due=due, now=now, actor=actor)
        elif due <= now:
            raise ValidationError({"answer_due": "The answer-by time must be in the future."})
        if due > clocks.max_answer_due(req) and not reason:
            raise ValidationError(
                {"reason": "This answer-by is later than the SLA policy allows; record the reason for the extra time."}
            )
        moved = lifecycle.transition(
            request_id, to=Status.IN_ANALYSIS, kind=Kind.ACKNOWLEDGED, actor=actor, now=now,
            fields={"answer_due": due, "answer_due_policy": policy_due, "answer_due_promised": due}, message=reason,
            data={
                "answer_due": due.isoformat(), "policy_answer_due": policy_due.isoformat(),
                "departments": [d.code for d in depts],
            },
        )
        req = moved.request
        if due != policy_due:
            clocks.log(req, ClockEvent.Clock.ANSWER, ClockEvent.Action.EXTEND, now, due)
        _route(req, depts, owner_map, actor=actor, now=now)
        outlook = forecasts.forecast_for_request(req, now=now)
        _notify_each(
            [req.requested_by], kind="acknowledged", request=req, actor=actor, now=now,
            text=lambda user: f"{req.reference}: we will analyze and let you know by {format_local(due, user)}. "
            + forecast_sentence(outlook, user),
        )
    return req


def request_route(
    *, request_id: int, actor: Actor, departments: Iterable, owners: dict | None = None, now: datetime | None = None,
    expected_version: int | None = None,
) -> FeasibilityRequest:
    """Add departments to a request already in analysis (re-routing)."""
    now = now or timezone.now()
    with transaction.atomic():
        req = lifecycle.lock(request_id)
        permissions.require(actor, "s2o.route_request", req)
        if not req.in_analysis:
            raise TransitionError("Departments can be added only while the request is in analysis.")
        lifecycle.check_version(req, expected_version)
        depts = _departments(departments)
        if not depts:
            raise ValidationError({"departments": "Choose at least one department to add."})
        owner_map = _check_owners(depts, owners)
        req.version += 1
        req.save(update_fields=["version", "updated_at"])
        _route(req, depts, owner_map, actor=actor, now=now)
    return req


def answer_by_extend(
    *, request_id: int, actor: Actor, answer_due: datetime, reason: str, now: datetime | None = None,
    expected_version: int | None = None,
) -> FeasibilityRequest:
    """Move the promised answer-by later; always with a reason, always telling the rep."""
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        req = lifecycle.lock(request_id)
        permissions.require(actor, "s2o.extend_answer_by", req)
        if not req.in_analysis:
            raise TransitionError("The answer-by can be moved only while the request is in analysis.")
        lifecycle.check_version(req, expected_version)
        if not reason:
            raise ValidationError({"reason": "Say why the answer needs more time; the rep will read it."})
        if req.answer_due and answer_due <= req.answer_due:
            raise ValidationError({"answer_due": "The new answer-by must be later than the current one."})
        _check_promise(req, due=answer_due, now=now, actor=actor)
        previous = req.answer_due
        req.answer_due = answer_due
        req.version += 1
        fields = ["answer_due", "version", "updated_at", *clocks.answer_due_moved(req, now=now)]
        req.save(update_fields=fields)
        lifecycle.record_event(
            req, kind=Kind.ANSWER_BY_EXTENDED, actor=actor, now=now, message=reason,
            data={"from": previous.isoformat() if previous else None, "to": answer_due.isoformat()},
        )
        _notify_each(
            [req.requested_by], kind="answer_by_extended", request=req, actor=actor, now=now,
            text=lambda user: (
                f"{req.reference}: Operations needs more time and will answer by {format_local(answer_due, user)}. {reason}"
            )[:300],
        )
    return req


# ---------------------------------------------------------------------------------------------
# Assessments


COST_BASIS_MISSING = "Say whether the {what} is per unit or for the whole quantity."


def assessment_validate(*, req: FeasibilityRequest, data: dict, constraints: Sequence, today: date) -> None:
    """The rules of a department assessment (DESIGN.md), as field-keyed errors."""
    errors: dict[str, str] = {}
    verdict = data.get("verdict")
    qty = data.get("quantity_feasible")
    earliest = data.get("earliest_full_date")
    if not verdict:
        errors["verdict"] = "Choose a verdict."
    if qty is not None:
        if qty < 0:
            errors["quantity_feasible"] = "The feasible quantity cannot be negative."
        elif req.quantity is not None and qty > req.quantity:
            errors["quantity_feasible"] = f"More than the {req.quantity.normalize():f} {req.unit} requested."
    if verdict == Verdict.CANNOT and qty is not None and req.quantity is not None and qty >= req.quantity:
        errors["verdict"] = "“Cannot” contradicts the full quantity being feasible by the requested date."
    if verdict == Verdict.CAN and qty is not None and 0 <= qty < req.quantity:
        errors["verdict"] = "“Can” means the full quantity by the requested date; with less, choose “with conditions”."
    if verdict in (Verdict.CAN_WITH_CONDITIONS, Verdict.CANNOT) and not constraints:
        errors["constraints"] = "Name at least one constraint that limits us (everything but “Can” needs one)."
    if earliest is not None and earliest < today:
        errors["earliest_full_date"] = "The earliest date for the full quantity cannot be in the past."
    elif earliest is not None and (far := dates.too_far(earliest, today)):
        errors["earliest_full_date"] = far
    if data.get("cost_impact") is not None and not data.get("cost_currency"):
        errors["cost_currency"] = "Give the currency of the cost impact."
    if data.get("cost_impact") is not None and not data.get("cost_basis"):
        errors["cost_basis"] = COST_BASIS_MISSING.format(what="cost impact")
    if errors:
        raise ValidationError(errors)


TEXT_FIELDS = ("notes", "cost_basis", "conditions")
ASSESSMENT_FIELDS = ("verdict", "quantity_feasible", "earliest_full_date", "cost_impact", "cost_currency", "cost_basis",
                     "notes")


def assessment_save(
    *, assessment_id: int, actor: Actor, data: dict, constraints: Sequence[ConstraintCategory], expected_version: int,
    now: datetime | None = None,
) -> Assessment:
    """Record (or correct) a department's assessment while the analysis is open.

    The first completion stops the department clock: business seconds since routing, met or
    breached against its own due time. Every save is a history row (django-simple-history).
    """
    now = now or timezone.now()
    with transaction.atomic():
        request_id = Assessment.objects.values_list("request_id", flat=True).get(pk=assessment_id)
        # Lock the request first, as every writer of it does: publishing (which freezes
        # assessments) and another save of this assessment cannot slip in between check and write.
        req = lifecycle.lock(request_id)
        assessment = Assessment.objects.select_related("department").get(pk=assessment_id)
        assessment.request = req
        permissions.require(actor, "s2o.assess_department", assessment)
        if not req.in_analysis:
            raise TransitionError("The answer has been published: assessments can no longer be changed.")
        assessment_validate(req=req, data=data, constraints=constraints, today=timezone.localdate(now))
        lifecycle.check_version(
            assessment, expected_version,
            f"{assessment.department.name}'s assessment was changed by someone else while you were editing it. "
            "Your input is kept below; compare with the current version and save again.",
        )
        assessment.version += 1
        first = assessment.assessed_at is None
        for name in ASSESSMENT_FIELDS:
            if name in data:
                setattr(assessment, name, data[name] if data[name] is not None or name not in TEXT_FIELDS else "")
        if assessment.cost_impact is None:
            assessment.cost_basis = ""
        assessment.assessed_by = actor
        if first:
            assessment.assessed_at = now
            department_clocks.stop_department_clock(assessment, now=now)  # business seconds, met, off the sweep's list
        _stamp_history(assessment, actor, now)  # the history reads when it happened, not when it was recorded
        # m2m first, without its own history row: the save below snapshots it in one history row.
        assessment.skip_history_when_saving = True  # type: ignore[attr-defined]  # simple_history's per-row switch
        assessment.constraints.set(constraints)
        del assessment.skip_history_when_saving  # type: ignore[attr-defined]
        assessment.save()
        rollups.refresh_constraint_hits([req.pk])  # the Pareto's rollup: verdict and constraints may have changed
        search.index_internal([req.pk])  # the notes, for Operations' and managers' searches
        lifecycle.record_event(
            req, kind=Kind.ASSESSED, actor=actor, now=now,
            message=f"{assessment.department.name}: {assessment.get_verdict_display()}" + ("" if first else " (revised)"),
            data={"department": assessment.department.code, "verdict": assessment.verdict, "revised": not first},
        )
        if first and not req.assessments.filter(assessed_at__isnull=True).exists():
            _notify_each(
                roles.ops_leads(), kind="assessed", request=req, actor=actor, now=now,
                text=lambda user: f"{req.reference}: every department has assessed; the answer can be composed.",
            )
    return assessment


# ---------------------------------------------------------------------------------------------
# Answers


def answer_validate(*, decision: str, justification: str, alternatives: Sequence[Mapping[str, Any]], today: date) -> None:
    """Rules for a publishable answer (DESIGN.md), as field-keyed errors."""
    errors: dict[str, str] = {}
    if not decision:
        errors["decision"] = "Choose a decision."
    if decision == Decision.ALTERNATIVES and not alternatives:
        errors["decision"] = "An answer with alternatives needs at least one alternative."
    if decision == Decision.NO and not alternatives and not (justification or "").strip():
        errors["justification"] = "A “No” without any alternative needs a written justification."
    if sum(1 for a in alternatives if a.get("recommended")) > 1:
        errors["__all__"] = "Recommend at most one alternative."
    for i, alt in enumerate(alternatives, start=1):
        if alt.get("quantity") is None or alt["quantity"] <= 0:
            errors.setdefault("__all__", f"Alternative {i}: the quantity must be more than zero.")
        if problem := _delivery_date_problem(i, alt.get("delivery_date"), today, required=True):
            errors.setdefault("__all__", problem)
    if errors:
        raise ValidationError(errors)


def _delivery_date_problem(i: int, day: date | None, today: date, *, required: bool) -> str | None:
    """What is wrong with alternative `i`'s delivery date, in words (a draft may leave it out; a
    published answer may not); None when nothing is."""
    if day is None:
        return f"Alternative {i}: the delivery date cannot be in the past." if required else None
    if day < today:
        return f"Alternative {i}: the delivery date cannot be in the past."
    if far := dates.too_far(day, today):
        return f"Alternative {i}'s delivery date is too far ahead. {far}"
    return None


ALTERNATIVE_FIELDS = ("quantity", "delivery_date", "price", "currency", "cost_delta", "cost_basis", "cost_currency",
                      "conditions", "works_around", "recommended")


def _draft_for(req: FeasibilityRequest, *, actor: Actor, expected_version: int | None, now: datetime) -> Answer:
    """The open draft, version-checked; or a new one numbered after every earlier answer. The
    caller holds the request's row lock, which every writer of its answers takes first."""
    draft = Answer.objects.filter(request=req, published_at__isnull=True).order_by("-number").first()
    if draft is None:
        if expected_version:
            raise ConflictError("The draft you were editing was published by someone else meanwhile.")
        number = (Answer.objects.filter(request=req).aggregate(n=Max("number"))["n"] or 0) + 1
        draft = Answer(request=req, number=number, composed_by=actor)
        _stamp_history(draft, actor, now)
        draft.save()
        return draft
    if expected_version is None:
        raise ConflictError("Someone else started a draft answer meanwhile; yours is kept below — compare and save again.")
    lifecycle.check_version(
        draft, expected_version,
        "The draft answer was changed by someone else while you were editing it; your input is kept below.",
    )
    draft.version += 1
    return draft


def _store_alternatives(answer: Answer, alternatives: Sequence[dict], actor: Actor, *, now: datetime) -> None:
    """Update alternatives in place by id, add new ones, delete removed ones (each a history row)."""
    existing = {a.pk: a for a in answer.alternatives.all()}
    keep: set[int] = set()
    for position, data in enumerate(alternatives):
        alt = existing.get(data["id"]) if data.get("id") else None
        if alt is None:
            alt = Alternative(answer=answer)
        for name in ALTERNATIVE_FIELDS:
            value = data.get(name)
            if value is None and name in TEXT_FIELDS:
                value = ""
            setattr(alt, name, value if value is not None or name != "recommended" else False)
        if alt.cost_delta is None:
            alt.cost_basis = ""
        if not alt.currency:
            alt.currency = answer.request.currency
        if not alt.cost_currency:  # not given: the price's
            alt.cost_currency = alt.currency
        alt.position = position
        _stamp_history(alt, actor, now)
        alt.save()
        keep.add(alt.pk)
    for pk, alt in existing.items():
        if pk not in keep:
            _stamp_history(alt, actor, now)
            alt.delete()


def answer_save_draft(
    *, request_id: int, actor: Actor, decision: str, summary: str, justification: str, alternatives: Sequence[dict],
    expected_version: int | None, now: datetime | None = None,
) -> Answer:
    """Save the lead's draft answer (not visible to Sales). `expected_version` is the draft's
    version the form was loaded with (None: the form started a new draft)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        req = lifecycle.lock(request_id)
        permissions.require(actor, "s2o.answer_request", req)
        for i, alt in enumerate(alternatives, start=1):  # shape rules hold for drafts too
            if problem := _delivery_date_problem(i, alt.get("delivery_date"), today, required=False):
                raise ValidationError({"__all__": problem})
            if alt.get("quantity") is not None and alt["quantity"] <= Decimal(0):
                raise ValidationError({"__all__": f"Alternative {i}: the quantity must be more than zero."})
            if alt.get("cost_delta") is not None and not alt.get("cost_basis"):
                raise ValidationError({"__all__": f"Alternative {i}: " + COST_BASIS_MISSING.format(what="cost delta")})
        if not req.in_analysis:
            raise TransitionError("An answer can be composed only while the request is in analysis.")
        draft = _draft_for(req, actor=actor, expected_version=expected_version, now=now)
        draft.decision = decision or ""
        draft.summary = summary
        draft.justification = justification
        draft.composed_by = actor
        _stamp_history(draft, actor, now)
        draft.save()
        _store_alternatives(draft, alternatives, actor, now=now)
    return draft


def answer_publish(
    *, request_id: int, actor: Actor, expected_version: int | None, decision: str | None = None, summary: str = "",
    justification: str = "", alternatives: Sequence[dict] | None = None, now: datetime | None = None,
) -> Answer:
    """Publish the draft answer (saving the given content first, if any): ANSWERED, the answer
    clock stops (`clocks.on_transition`), and the rep is told."""
    now = now or timezone.now()
    with transaction.atomic():
        permissions.require(actor, "s2o.answer_request", lifecycle.lock(request_id))
        if decision is not None:
            draft = answer_save_draft(
                request_id=request_id, actor=actor, decision=decision, summary=summary, justification=justification,
                alternatives=alternatives or [], expected_version=expected_version, now=now,
            )
        else:
            found = Answer.objects.filter(request_id=request_id, published_at__isnull=True).order_by("-number").first()
            if found is None:
                raise TransitionError("There is no draft answer to publish.")
            draft = found
            lifecycle.check_version(
                draft, expected_version, "The draft answer was changed by someone else; review it before publishing."
            )
        alternatives_data = list(draft.alternatives.values("quantity", "delivery_date", "recommended"))
        answer_validate(decision=draft.decision, justification=draft.justification, alternatives=alternatives_data,
                        today=timezone.localdate(now))
        if Answer.objects.filter(request_id=request_id, published_at__isnull=True).count() != 1:
            raise ConflictError("The answer changed meanwhile; review it before publishing.")
        moved = lifecycle.transition(
            request_id, to=Status.ANSWERED, kind=Kind.ANSWER_PUBLISHED, actor=actor, now=now,
            message=draft.summary[:500], data={"answer": draft.number, "decision": draft.decision},
        )
        draft.published_at = now
        draft.published_by = actor
        draft.version += 1
        _stamp_history(draft, actor, now)
        draft.save(update_fields=["published_at", "published_by", "version"])
        req = moved.request
        rollups.refresh_constraint_hits([req.pk])  # the Pareto's rollup: its alternatives now count
        Assessment.objects.filter(request=req, next_reminder_at__isnull=False).update(next_reminder_at=None)
        label = Decision(draft.decision).label
        _notify_each(
            [req.requested_by], kind="answer_published", request=req, actor=actor, now=now,
            text=lambda user: f"{req.reference}: Operations answered — {label}. {draft.summary}"[:300],
            email_template="answer", email_data={"answer": draft.pk},
        )
    return draft


# ---------------------------------------------------------------------------------------------
# Bulk acknowledgement (triage)


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one request of a bulk acknowledgement: acknowledged, or why not."""

    request_id: int
    reference: str
    acknowledged: bool
    error: str = ""


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(message for messages in exc.message_dict.values() for message in messages) if hasattr(
            exc, "error_dict") else " ".join(exc.messages)
    return str(exc)


def requests_acknowledge_bulk(
    *,
    request_ids: Sequence[int],
    actor: Actor,
    departments: Sequence[Department],
    answer_due: datetime | None = None,
    reason: str = "",
    versions: dict[int, int] | None = None,
    now: datetime | None = None,
) -> list[BulkOutcome]:
    """Acknowledge several requests with one routing and one answer-by (None: each request's own
    SLA policy default), each through `request_acknowledge` in its own transaction: a request
    refused (acknowledged meanwhile, changed since the lead saw it, an answer-by its policy does
    not allow) keeps its state and says why, the others are acknowledged. One outcome per request,
    in the order asked; a request the actor cannot see is reported as not found.

    Refused as a whole, before anything changes, when the actor may not acknowledge at all."""
    permissions.require(actor, "s2o.acknowledge_request")
    if not departments:
        raise ValidationError({"departments": "Choose at least one department that must assess these requests."})
    ids = list(dict.fromkeys(request_ids))
    references = dict(FeasibilityRequest.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", "reference"))
    outcomes = []
    for pk in ids:
        if pk not in references:
            outcomes.append(BulkOutcome(pk, "", False, "No such request."))
            continue
        try:
            request_acknowledge(
                request_id=pk, actor=actor, departments=departments, answer_due=answer_due, reason=reason, now=now,
                expected_version=(versions or {}).get(pk),
            )
        except (ValidationError, ConflictError, TransitionError, permissions.NotAllowed) as exc:
            outcomes.append(BulkOutcome(pk, references[pk] or "", False, _refusal(exc)))
        else:
            outcomes.append(BulkOutcome(pk, references[pk] or "", True))
    return outcomes
