"""Sales' decisions on a published answer.

They touch Operations' records (an Answer, its Alternatives) and the request's state, so they live
in `analysis`, which depends on `requests_app` (shared/STYLE.md habit 2). Each takes the acting
user as `actor` and is one transaction that locks the request, asks the rulebook
(`permissions.require`), checks that the answer is the current one, records the decision and
moves the request through `lifecycle.transition`.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from analysis.models import Alternative, Answer, Decision
from requests_app import lifecycle, permissions, roles, services
from requests_app.lifecycle import TransitionError
from requests_app.models import FeasibilityRequest, Outcome, RequestEvent, Status
from requests_app.notifications import notify
from requests_app.roles import Actor

Kind = RequestEvent.Kind

ACCEPTABLE_AS_ASKED = {Decision.YES, Decision.YES_WITH_CONDITIONS}


def current_answer(req: FeasibilityRequest | int) -> Answer | None:
    """The published answer Sales decides on (later revisions supersede earlier ones)."""
    request_id = req if isinstance(req, int) else req.pk
    return (
        Answer.objects.filter(request_id=request_id, published_at__isnull=False, superseded_at__isnull=True)
        .order_by("-number")
        .first()
    )


def _answered_request(request_id: int, *, actor: Actor, perm: str) -> tuple[FeasibilityRequest, Answer]:
    req = lifecycle.lock(request_id)
    permissions.require(actor, perm, req)
    if req.status != Status.ANSWERED:
        raise TransitionError("There is no answer to decide on: the request is not in the answered state.")
    answer = current_answer(request_id)
    if answer is None:
        raise TransitionError("There is no published answer to decide on.")
    return req, answer


def _tell_operations(req: FeasibilityRequest, answer: Answer, *, kind: str, message: str, actor: Actor, now: datetime) -> None:
    publisher = [answer.published_by] if answer.published_by_id else []
    notify(
        [*publisher, *roles.ops_leads(), *services.routed_members(req)],
        kind=kind,
        message=message,
        request=req,
        email_template="notification",
        exclude=actor,
        now=now,
    )


def alternative_accept(*, alternative_id: int, actor: Actor, reason: str = "", now: datetime | None = None) -> FeasibilityRequest:
    """Sales takes one alternative of the current answer: the request closes ALTERNATIVE_ACCEPTED."""
    now = now or timezone.now()
    with transaction.atomic():
        request_id = Alternative.objects.filter(pk=alternative_id).values_list("answer__request_id", flat=True).first()
        if request_id is None:
            raise TransitionError("That alternative does not exist.")
        req, answer = _answered_request(request_id, actor=actor, perm="s2o.accept_alternative")
        alternative = Alternative.objects.select_for_update().get(pk=alternative_id)
        if alternative.answer_id != answer.pk:
            raise TransitionError("That alternative belongs to an earlier answer; decide on the current one.")
        alternative.accepted_at = now
        alternative.accepted_by = actor
        alternative.save(update_fields=["accepted_at", "accepted_by"])
        req = services.request_close(
            request_id=request_id,
            actor=actor,
            outcome=Outcome.ALTERNATIVE_ACCEPTED,
            reason=reason,
            now=now,
            kind=Kind.ALTERNATIVE_ACCEPTED,
            data={"answer": answer.number, "alternative": alternative.pk, "position": alternative.position + 1},
        )
        _tell_operations(
            req, answer, kind="alternative_accepted", actor=actor, now=now,
            message=f"{req.reference}: Sales accepted alternative {alternative.position + 1}",
        )
    return req


def answer_accept(*, request_id: int, actor: Actor, reason: str = "", now: datetime | None = None) -> FeasibilityRequest:
    """Sales takes the YES (as asked, or with its conditions): the request closes WON."""
    now = now or timezone.now()
    with transaction.atomic():
        _req, answer = _answered_request(request_id, actor=actor, perm="s2o.decide_answer")
        if answer.decision not in ACCEPTABLE_AS_ASKED:
            raise TransitionError("This answer is not a yes: accept one of its alternatives or decline.")
        req = services.request_close(
            request_id=request_id, actor=actor, outcome=Outcome.WON, reason=reason, now=now,
            kind=Kind.ANSWER_ACCEPTED, data={"answer": answer.number},
        )
        _tell_operations(
            req, answer, kind="answer_accepted", actor=actor, now=now, message=f"{req.reference}: Sales accepted the answer"
        )
    return req


def answer_decline(*, request_id: int, actor: Actor, reason: str, now: datetime | None = None) -> FeasibilityRequest:
    """Sales declines the answer and every alternative, saying why: closes DECLINED."""
    now = now or timezone.now()
    with transaction.atomic():
        _req, answer = _answered_request(request_id, actor=actor, perm="s2o.decide_answer")
        if not reason.strip():
            raise ValueError(services.REASON_NEEDED[Outcome.DECLINED])
        req = services.request_close(
            request_id=request_id, actor=actor, outcome=Outcome.DECLINED, reason=reason, now=now,
            kind=Kind.DECLINED, data={"answer": answer.number},
        )
        _tell_operations(
            req, answer, kind="declined", actor=actor, now=now,
            message=f"{req.reference}: Sales declined — {reason.strip()[:150]}",
        )
    return req


def revision_request(*, request_id: int, actor: Actor, reason: str, now: datetime | None = None) -> FeasibilityRequest:
    """Sales re-opens the analysis with new information; the current answer stays as history
    (superseded, with the reason) and a fresh answer window starts (`clocks.on_transition`)."""
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        _req, answer = _answered_request(request_id, actor=actor, perm="s2o.decide_answer")
        if not reason:
            raise ValueError("Say what changed or what Operations should look at again.")
        answer.superseded_at = now
        answer.revision_reason = reason
        answer.save(update_fields=["superseded_at", "revision_reason"])
        moved = lifecycle.transition(
            request_id, to=Status.IN_ANALYSIS, kind=Kind.REVISION_REQUESTED, actor=actor, now=now,
            message=reason, data={"answer": answer.number},
        )
        _tell_operations(
            moved.request, answer, kind="revision_requested", actor=actor, now=now,
            message=f"{moved.request.reference}: Sales asks for a revision — {reason[:150]}",
        )
    return moved.request
