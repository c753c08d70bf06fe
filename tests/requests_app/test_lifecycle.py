"""The legal transitions, written out by hand from DESIGN.md "Lifecycle of a request" (not read
from `lifecycle.TRANSITIONS`: a wrong entry there must fail a test, not change which tests exist),
work through `lifecycle.transition` with who, when, from and to recorded; every other
(from, to, kind) is refused with a clear message and changes nothing."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from requests_app import lifecycle
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import FeasibilityRequest, Outcome, RequestEvent, Status
from tests.requests_app.sales_factories import request_in

Kind = RequestEvent.Kind

DRAFT, SUBMITTED, IN_ANALYSIS = "draft", "submitted", "in_analysis"
WAITING, ANSWERED, CLOSED = "waiting_on_sales", "answered", "closed"

# (from, to, event kind), each with the line of DESIGN.md (or the product rule) it comes from.
LEGAL = sorted([
    (DRAFT, SUBMITTED, "submitted"),  # a rep files the draft
    (SUBMITTED, IN_ANALYSIS, "acknowledged"),  # SUBMITTED ──ack──▶ ACKNOWLEDGED/IN_ANALYSIS
    (IN_ANALYSIS, WAITING, "clarification_asked"),  # IN_ANALYSIS ▶ WAITING_ON_SALES (clock paused)
    (WAITING, IN_ANALYSIS, "clarification_answered"),  # … and back when Sales answers
    # Operations may ask before it acknowledges (it cannot promise a date for what it does not
    # understand); Sales' reply puts the request back where it was.
    (SUBMITTED, WAITING, "clarification_asked"),
    (WAITING, SUBMITTED, "clarification_answered"),
    (IN_ANALYSIS, ANSWERED, "answer_published"),  # ──publish──▶ ANSWERED
    (ANSWERED, IN_ANALYSIS, "revision_requested"),  # └─ revise (re-open with new info)
    # ANSWERED ──sales decides──▶ CLOSED (outcome): WON, ALTERNATIVE_ACCEPTED, DECLINED, LOST/EVAPORATED.
    (ANSWERED, CLOSED, "answer_accepted"),
    (ANSWERED, CLOSED, "alternative_accepted"),
    (ANSWERED, CLOSED, "declined"),
    (ANSWERED, CLOSED, "closed"),
    # └─ withdrawn by Sales at any time before CLOSED ─▶ CLOSED (WITHDRAWN)
    (DRAFT, CLOSED, "withdrawn"),
    (SUBMITTED, CLOSED, "withdrawn"),
    (IN_ANALYSIS, CLOSED, "withdrawn"),
    (WAITING, CLOSED, "withdrawn"),
    (ANSWERED, CLOSED, "withdrawn"),
    # LOST / EVAPORATED recorded before an answer: the customer went elsewhere meanwhile. Not on a
    # draft (nothing was asked of anyone: it is withdrawn).
    (SUBMITTED, CLOSED, "closed"),
    (IN_ANALYSIS, CLOSED, "closed"),
    (WAITING, CLOSED, "closed"),
])
ILLEGAL = [
    (frm, to, kind) for frm, to, kind in itertools.product(Status.values, Status.values, Kind.values)
    if (frm, to, kind) not in LEGAL
]


def test_the_hand_written_table_names_every_state_and_kind_the_code_has():
    # A typo above would only make a test vacuous; this keeps the hand table honest.
    assert {s for frm, to, _ in LEGAL for s in (frm, to)} == set(Status.values)
    assert {kind for *_, kind in LEGAL} <= set(Kind.values)
    assert len(LEGAL) == len(set(LEGAL)) == 20


def closing_fields(to: str, kind: str = Kind.CLOSED) -> dict:
    if to != Status.CLOSED:
        return {}
    return {"outcome": Outcome.WITHDRAWN if kind == Kind.WITHDRAWN else Outcome.LOST}


@pytest.mark.parametrize(("frm", "to", "kind"), LEGAL, ids=[f"{f}->{t}:{k}" for f, t, k in LEGAL])
def test_every_legal_transition_moves_the_request_and_records_who_when_from_to(frm, to, kind, rep, ops_lead, customer):
    req = request_in(frm, rep=rep, customer=customer, lead=ops_lead)
    assert req.status == frm
    version = FeasibilityRequest.objects.get(pk=req.pk).version
    fields = closing_fields(to, kind)
    if frm == Status.DRAFT and to == Status.SUBMITTED:
        fields = {"reference": "S2O-2026-99999", "submitted_at": lifecycle.timezone.now()}
    with transaction.atomic():
        moved = lifecycle.transition(req.pk, to=to, kind=kind, actor=ops_lead, fields=fields)
    req.refresh_from_db()
    assert req.status == to
    assert req.version == version + 1
    event = req.events.latest("at", "id")
    assert (event.kind, event.from_status, event.to_status, event.actor) == (kind, frm, to, ops_lead)
    assert moved.event == event


@pytest.mark.parametrize(("frm", "to", "kind"), ILLEGAL)
def test_every_other_transition_is_refused_by_the_table(frm, to, kind):
    with pytest.raises(TransitionError) as excinfo:
        lifecycle.check_transition(frm, to, kind)
    assert "cannot be" in str(excinfo.value)


@pytest.mark.parametrize("frm", Status.values)
@pytest.mark.parametrize("to", Status.values)
def test_an_illegal_transition_on_a_real_request_changes_nothing(frm, to, rep, ops_lead, customer):
    kinds = [k for k in Kind.values if (frm, to, k) not in LEGAL]
    req = request_in(frm, rep=rep, customer=customer, lead=ops_lead)
    before = (req.status, FeasibilityRequest.objects.get(pk=req.pk).version, req.events.count())
    kind = Kind.COMMENTED if Kind.COMMENTED in kinds else kinds[0]
    with pytest.raises(TransitionError), transaction.atomic():
        lifecycle.transition(req.pk, to=to, kind=kind, actor=rep, fields=closing_fields(to))
    req.refresh_from_db()
    assert (req.status, req.version, req.events.count()) == before


def test_a_stale_version_is_a_conflict_not_a_lost_update(rep, ops_lead, customer):
    req = request_in(Status.SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    with pytest.raises(ConflictError), transaction.atomic():
        lifecycle.transition(
            req.pk, to=Status.IN_ANALYSIS, kind=Kind.ACKNOWLEDGED, actor=ops_lead, expected_version=req.version - 1
        )
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.SUBMITTED


def test_the_refusal_message_names_the_states():
    with pytest.raises(TransitionError, match="closed cannot be moved to submitted"):
        lifecycle.check_transition(Status.CLOSED, Status.SUBMITTED, Kind.SUBMITTED)
