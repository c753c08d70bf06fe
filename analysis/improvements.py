"""Improvement actions: what Operations does about a constraint, and whether it worked.

An operations lead or a manager opens an action on a constraint category from the Pareto, links the
requests it would have changed (pre-filled with the recent requests that cite the constraint) and
moves it proposed → in progress → done, or drops it (`MOVES`). Each move is a row of its history,
written in the same transaction. When an action is done, the reps whose linked requests the
constraint blocked are told, with a link to their request, where "file again" copies it.

A done action shows its effect (`effect`): the same figures before and after it was done, over two
windows of equal length (up to `WINDOW_DAYS`, shorter while the action is recent), each with the
number of requests or assessments it is computed from, and no figure at all under `MIN_COUNT`
("too few to say").
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from analysis.metrics.kpis import FILLED
from analysis.models import (
    Assessment,
    ConstraintCategory,
    ConstraintHit,
    ImprovementAction,
    ImprovementActionEvent,
    Verdict,
)
from requests_app import permissions
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import Department, FeasibilityRequest, Status
from requests_app.notifications import notify
from requests_app.roles import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ActionStatus = ImprovementAction.Status
MOVES: dict[str, set[str]] = {
    ActionStatus.PROPOSED: {ActionStatus.IN_PROGRESS, ActionStatus.DROPPED},
    ActionStatus.IN_PROGRESS: {ActionStatus.DONE, ActionStatus.DROPPED},
    ActionStatus.DONE: set(),
    ActionStatus.DROPPED: set(),
}
OPEN = [ActionStatus.PROPOSED, ActionStatus.IN_PROGRESS]
WINDOW_DAYS = 90
MIN_COUNT = 10
SUGGESTED_REQUESTS = 50
MAX_TARGET_YEARS = 3


# ---------------------------------------------------------------------------------------------
# Reads


def requests_citing(constraint: ConstraintCategory, *, since: datetime, limit: int = SUGGESTED_REQUESTS) -> list[int]:
    """The requests this constraint blocked or bent since `since`, newest first (an action's
    pre-filled links)."""
    return list(
        ConstraintHit.objects.filter(constraint=constraint, submitted_at__gte=since)
        .order_by("-submitted_at").values_list("request_id", flat=True)[:limit]
    )


def departments_citing(constraint: ConstraintCategory, *, since: datetime) -> list[int]:
    """The departments whose assessments cited this constraint since `since` (an action's
    pre-filled departments)."""
    return list(
        Assessment.objects.filter(constraints=constraint, request_submitted_at__gte=since)
        .values_list("department_id", flat=True).distinct()
    )


def open_actions_by_constraint() -> dict[str, list[ImprovementAction]]:
    """Every open action, per constraint code (the Pareto's "being worked on" column)."""
    grouped: dict[str, list[ImprovementAction]] = defaultdict(list)
    for action in ImprovementAction.objects.filter(status__in=OPEN).select_related("constraint", "owner"):
        grouped[action.constraint.code].append(action)
    return dict(grouped)


def actions_for_request(req: FeasibilityRequest, assessments: list[Assessment]) -> list[ImprovementAction]:
    """Actions on the constraints that blocked this request (a CANNOT verdict citing them, among its
    `assessments` as the page read them, constraints included): under way, or done since it was
    answered. What its rep sees on the request page. No query when nothing blocked it."""
    blocked = {c.pk for a in assessments if a.verdict == Verdict.CANNOT for c in a.constraints.all()}
    if not blocked:
        return []
    since = req.answered_at or req.submitted_at
    return list(
        ImprovementAction.objects.filter(constraint__in=blocked).select_related("constraint")
        .filter(Q(status__in=OPEN) | Q(status=ActionStatus.DONE, finished_at__gte=since))
        .order_by("status", "-created_at")
    )


# ---------------------------------------------------------------------------------------------
# Writes


def _check_fields(*, title: str, target_date: date | None, expected_effect: str, today: date) -> None:
    errors = {}
    if not title.strip():
        errors["title"] = "Give the action a title."
    if not expected_effect.strip():
        errors["expected_effect"] = "Say what it should change (for instance: machine capacity no longer blocks 500+ pcs)."
    if target_date is None:
        errors["target_date"] = "Set a target date."
    elif not today - timedelta(days=31) <= target_date <= today + timedelta(days=365 * MAX_TARGET_YEARS):
        errors["target_date"] = f"The target date must lie between a month ago and {MAX_TARGET_YEARS} years from now."
    if errors:
        raise ValidationError(errors)


def action_open(
    *, actor: Actor, constraint: ConstraintCategory, title: str, owner: User, target_date: date, expected_effect: str,
    departments: Sequence[Department] = (), request_ids: Sequence[int] = (), now: datetime | None = None,
) -> ImprovementAction:
    """Open a (proposed) improvement action on a constraint, with its first history row."""
    now = now or timezone.now()
    permissions.require(actor, "s2o.manage_improvements")
    _check_fields(title=title, target_date=target_date, expected_effect=expected_effect,
                  today=timezone.localdate(now))
    if not permissions.allowed(owner, "s2o.view_improvements"):
        raise ValidationError({"owner": "The owner must work in Operations or be a manager."})
    with transaction.atomic():
        action = ImprovementAction.objects.create(
            constraint=constraint, title=title.strip(), owner=owner, target_date=target_date,
            expected_effect=expected_effect.strip(), created_by=actor, created_at=now,
        )
        action.departments.set(departments)
        action.requests.set(FeasibilityRequest.objects.filter(pk__in=list(request_ids)).exclude(status=Status.DRAFT))
        ImprovementActionEvent.objects.create(action=action, at=now, actor=actor, to_status=ActionStatus.PROPOSED)
    return action


def action_move(
    *, action_id: int, actor: Actor, to: str, note: str = "", expected_version: int | None = None,
    now: datetime | None = None,
) -> ImprovementAction:
    """Move an action along its lifecycle (`MOVES`), guarded on its current status and version;
    done tells the reps whose linked requests the constraint blocked."""
    now = now or timezone.now()
    permissions.require(actor, "s2o.manage_improvements")
    with transaction.atomic():
        action = ImprovementAction.objects.select_for_update().select_related("constraint").get(pk=action_id)
        if expected_version is not None and action.version != expected_version:
            raise ConflictError("Someone else changed this action meanwhile; look at it again before moving it.")
        if to not in MOVES[action.status]:
            raise TransitionError(
                f"A {action.get_status_display().lower()} action cannot become {ActionStatus(to).label.lower()}."
            )
        if to == ActionStatus.DROPPED and not note.strip():
            raise ValidationError({"note": "Say why it is dropped."})
        before = action.status
        action.status = to
        action.version += 1
        fields = ["status", "version"]
        if to == ActionStatus.IN_PROGRESS:
            action.started_at = now
            fields.append("started_at")
        if to in (ActionStatus.DONE, ActionStatus.DROPPED):
            action.finished_at = now
            fields.append("finished_at")
        action.save(update_fields=fields)
        ImprovementActionEvent.objects.create(action=action, at=now, actor=actor, from_status=before, to_status=to,
                                              note=note.strip())
        if to == ActionStatus.DONE:
            _tell_reps(action, actor=actor, now=now)
    return action


def _tell_reps(action: ImprovementAction, *, actor: Actor, now: datetime) -> None:
    """"The constraint that blocked S2O-… was addressed: ask again?" to each rep of a linked request
    the constraint blocked, once per request."""
    blocked = (
        action.requests.filter(assessments__verdict=Verdict.CANNOT, assessments__constraints=action.constraint)
        .select_related("requested_by").distinct()
    )
    for req in blocked:
        notify(
            [req.requested_by], kind="constraint_addressed", request=req, email_template="notification", now=now,
            exclude=actor,
            message=(f"The constraint that blocked {req.reference} ({action.constraint.label.lower()}) was addressed: "
                     f"{action.title}. Ask again?"),
        )


# ---------------------------------------------------------------------------------------------
# Before and after


@dataclass(frozen=True)
class Figure:
    """A figure and the number of requests (or assessments) it is computed from; `value` is None
    when there are fewer than MIN_COUNT of them (too few to say) or none at all."""

    value: float | None
    count: int

    @property
    def too_few(self) -> bool:
        return self.count < MIN_COUNT


@dataclass(frozen=True)
class Money:
    """Deal values at stake per currency (never added across currencies), and how many requests."""

    by_currency: dict[str, Decimal]
    count: int

    @property
    def too_few(self) -> bool:
        return self.count < MIN_COUNT


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    cannot_share: Figure  # requests the constraint blocked ÷ requests assessed, in percent
    fill_rate: Figure  # filled ÷ closed answered, among requests the constraint blocked or bent, in percent
    value_at_stake: Money  # deal value of the requests it blocked or bent that were not filled
    answer_hours: Figure  # median business hours of the concerned departments' assessments


@dataclass(frozen=True)
class Effect:
    days: int
    before: Window
    after: Window

    @property
    def windows(self) -> tuple[Window, Window]:
        return self.before, self.after


def _figure(numerator: int | float | None, count: int, *, percent: bool = True) -> Figure:
    if count < MIN_COUNT or numerator is None:
        return Figure(None, count)
    return Figure(round(100.0 * numerator / count, 1) if percent else round(float(numerator), 1), count)


def window_figures(action: ImprovementAction, start: datetime, end: datetime) -> Window:
    """The action's figures over requests submitted in [start, end). Five queries."""
    in_window = Q(submitted_at__gte=start, submitted_at__lt=end)
    assessed = (
        Assessment.objects.filter(request_submitted_at__gte=start, request_submitted_at__lt=end, assessed_at__isnull=False)
        .values("request_id").distinct().count()
    )
    hits = ConstraintHit.objects.filter(in_window, constraint=action.constraint)
    blocked = hits.filter(blocked=True).count()
    hit_requests = FeasibilityRequest.objects.filter(pk__in=hits.values("request_id"))
    closed = hit_requests.filter(status=Status.CLOSED, answered_at__isnull=False).aggregate(
        n=Count("pk"), filled=Count("pk", filter=Q(outcome__in=list(FILLED))))
    at_stake = hit_requests.exclude(outcome__in=list(FILLED)).exclude(deal_value__isnull=True).exclude(deal_value=0)
    money: dict[str, Decimal] = defaultdict(Decimal)
    valued = 0
    for currency, value in at_stake.values_list("currency", "deal_value"):
        money[currency] += value or Decimal(0)  # never None: null deal values are excluded above
        valued += 1
    departments = list(action.departments.values_list("pk", flat=True))
    seconds = cast("list[int]", list(  # never None: excluded by the filter
        Assessment.objects.filter(
            request_submitted_at__gte=start, request_submitted_at__lt=end, department_id__in=departments,
            assessment_seconds__isnull=False,
        ).values_list("assessment_seconds", flat=True)
    )) if departments else []
    median = statistics.median(seconds) / 3600 if seconds else None
    return Window(
        start=start, end=end,
        cannot_share=_figure(blocked, assessed),
        fill_rate=_figure(closed["filled"], closed["n"]),
        value_at_stake=Money(dict(sorted(money.items())), valued),
        answer_hours=_figure(median, len(seconds), percent=False),
    )


def effect(action: ImprovementAction, *, now: datetime) -> Effect | None:
    """Before and after a done action, over two equal windows ending and starting when it was done:
    `WINDOW_DAYS` long, or as long as it has been done if that is shorter. None until it is done
    (or on the day it was done: there is no after yet)."""
    if action.status != ActionStatus.DONE or action.finished_at is None:
        return None
    days = min(WINDOW_DAYS, (now - action.finished_at).days)
    if days < 1:
        return None
    span = timedelta(days=days)
    done = action.finished_at
    return Effect(days=days, before=window_figures(action, done - span, done),
                  after=window_figures(action, done, done + span))
