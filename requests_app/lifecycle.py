"""The one place where a request changes state.

Every transition locks the request row, checks the from-state against the table below, applies
the change, bumps `version`, writes a `RequestEvent` (who, when, from, to) and moves the SLA
clocks (the request's own, then `clocks.request_transitioned` for Operations' department clocks)
— all in one transaction. Views, the API, commands and tasks call these functions; they
never assign `.status` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.utils import timezone

from requests_app.models import FeasibilityRequest, Outcome, RequestEvent, Status
from requests_app.roles import Actor

Kind = RequestEvent.Kind

# (from, to) pairs that are legal, and the event kinds that may cause them.
TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (Status.DRAFT, Status.SUBMITTED): {Kind.SUBMITTED},
    (Status.SUBMITTED, Status.IN_ANALYSIS): {Kind.ACKNOWLEDGED},
    (Status.IN_ANALYSIS, Status.WAITING_ON_SALES): {Kind.CLARIFICATION_ASKED},
    (Status.SUBMITTED, Status.WAITING_ON_SALES): {Kind.CLARIFICATION_ASKED},
    (Status.WAITING_ON_SALES, Status.IN_ANALYSIS): {Kind.CLARIFICATION_ANSWERED},
    (Status.WAITING_ON_SALES, Status.SUBMITTED): {Kind.CLARIFICATION_ANSWERED},
    (Status.IN_ANALYSIS, Status.ANSWERED): {Kind.ANSWER_PUBLISHED},
    (Status.ANSWERED, Status.IN_ANALYSIS): {Kind.REVISION_REQUESTED},
    (Status.ANSWERED, Status.CLOSED): {
        Kind.CLOSED,
        Kind.ALTERNATIVE_ACCEPTED,
        Kind.ANSWER_ACCEPTED,
        Kind.DECLINED,
        Kind.WITHDRAWN,
    },
    (Status.DRAFT, Status.CLOSED): {Kind.WITHDRAWN},
    (Status.SUBMITTED, Status.CLOSED): {Kind.WITHDRAWN, Kind.CLOSED},
    (Status.IN_ANALYSIS, Status.CLOSED): {Kind.WITHDRAWN, Kind.CLOSED},
    (Status.WAITING_ON_SALES, Status.CLOSED): {Kind.WITHDRAWN, Kind.CLOSED},
}


# How each outcome closes a request (DESIGN.md "Outcome"): the event kind that records it, and so,
# through the table above, the states it may close from. Sales records LOST and EVAPORATED
# directly ("Record outcome"); the others come from their own action: withdrawing, accepting the
# answer (WON) or one of its alternatives, declining them all.
OUTCOME_KINDS: dict[str, str] = {
    Outcome.WON: Kind.ANSWER_ACCEPTED,
    Outcome.ALTERNATIVE_ACCEPTED: Kind.ALTERNATIVE_ACCEPTED,
    Outcome.DECLINED: Kind.DECLINED,
    Outcome.WITHDRAWN: Kind.WITHDRAWN,
    Outcome.LOST: Kind.CLOSED,
    Outcome.EVAPORATED: Kind.CLOSED,
}
RECORDED_DIRECTLY = (Outcome.LOST, Outcome.EVAPORATED)


class TransitionError(Exception):
    """An illegal transition; the message is shown to the user as is."""


class ConflictError(Exception):
    """Someone else changed the request since the user loaded it (optimistic locking)."""


@dataclass(frozen=True)
class Transition:
    request: FeasibilityRequest
    from_status: str
    to_status: str
    event: RequestEvent


def allows(from_status: str, to_status: str, kind: str) -> bool:
    """The table lets `kind` move a request from `from_status` to `to_status`."""
    return kind in TRANSITIONS.get((from_status, to_status), ())


def recordable_outcomes(status: str) -> list[Outcome]:
    """Outcomes Sales may record directly ("Record outcome") on a request in `status`.

    None on a draft (withdraw it) or a closed request; before an answer the outcome says the
    customer went elsewhere or the opportunity disappeared, and needs the reason (`outcome_needs_reason`)."""
    return [o for o in RECORDED_DIRECTLY if allows(status, Status.CLOSED, OUTCOME_KINDS[o])]


def outcome_needs_reason(status: str, outcome: str) -> bool:
    """Declining needs its why; so does closing as lost or evaporated before Operations has
    answered, so that the people still working on it learn why they can stop."""
    return outcome == Outcome.DECLINED or (outcome in RECORDED_DIRECTLY and status != Status.ANSWERED)


def check_transition(from_status: str, to_status: str, kind: str) -> None:
    kinds = TRANSITIONS.get((from_status, to_status))
    if kinds is None or kind not in kinds:
        raise TransitionError(
            f"A request that is {Status(from_status).label.lower()} cannot be "
            f"{'moved to ' + Status(to_status).label.lower() if kinds is None else RequestEvent.Kind(kind).label.lower()}."
        )


CONFLICT = "This request was changed by someone else while you were working on it."


class Versioned(Protocol):
    """A row with an optimistic-lock counter: a request, an assessment, an answer."""

    version: int


def check_version(row: Versioned, expected_version: int | None, message: str = CONFLICT) -> None:
    """The optimistic lock, one definition for every versioned row (a request, an assessment, an
    answer): a form loaded at `expected_version` may write `row` only if nobody wrote it since.

    The caller holds the request's row lock (`lock()`; every writer of a request's assessments and
    answers takes it first), so reading and comparing is race-free; it moves `row.version` on when
    it saves. None means there is no form to check (a command, a task, a first draft)."""
    if expected_version is not None and row.version != expected_version:
        raise ConflictError(message)


def lock(request_id: int) -> FeasibilityRequest:
    """Lock the row for the rest of the transaction (SQLite serialises writers anyway)."""
    return FeasibilityRequest.objects.select_for_update().get(pk=request_id)


def transition(
    request_id: int,
    *,
    to: str,
    kind: str,
    actor: Actor,
    now: datetime | None = None,
    expected_version: int | None = None,
    message: str = "",
    data: dict | None = None,
    fields: dict | None = None,
) -> Transition:
    """Move a request to `to`; must be called inside `transaction.atomic()`.

    `fields` are set on the row together with the status (e.g. `closed_at`, `outcome`).
    `expected_version` turns a stale form into a ConflictError instead of a lost update.
    """
    now = now or timezone.now()
    req = lock(request_id)
    check_version(req, expected_version)
    from_status = req.status
    check_transition(from_status, to, kind)
    req.status = to
    req.version += 1
    changed = ["status", "version", "updated_at"]
    for name, value in (fields or {}).items():
        setattr(req, name, value)
        changed.append(name)
    from requests_app import clocks

    clock_fields, resumed_pause = clocks.on_transition(req, from_status=from_status, to_status=to, kind=kind, now=now)
    req.save(update_fields=sorted({*changed, *clock_fields}))
    if "reference" in changed:
        # Submitted: from now on found by its reference (and whatever wrote the row before, the ORM included).
        from requests_app import search

        search.index_requests([req.pk])
    # Operations' clocks (department assessments, in `analysis`) follow in this same transaction.
    clocks.request_transitioned.send(
        sender=FeasibilityRequest, request=req, from_status=from_status, to_status=to, kind=kind, now=now,
        resumed_pause=resumed_pause,
    )
    event = RequestEvent.objects.create(
        request=req,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=from_status,
        to_status=to,
        message=message,
        data=data or {},
        at=now,
    )
    return Transition(req, from_status, to, event)


def record_event(
    req: FeasibilityRequest, *, kind: str, actor: Actor | None = None, now: datetime | None = None, message: str = "",
    data: dict | None = None,
) -> RequestEvent:
    """An event that does not change the state (comment, routing, reminder sent, …)."""
    return RequestEvent.objects.create(
        request=req,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        message=message,
        data=data or {},
        at=now or timezone.now(),
    )
