"""The legal transitions, written out by hand from DESIGN.md "Lifecycle of a request" (not read
from `lifecycle.TRANSITIONS`: a wrong entry there must fail a test, not change which tests exist),
work through `lifecycle.transition` with who, when, from and to recorded; every other
(from, to, kind) is refused with a clear message and changes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

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
    assert (event.message, event.data) == ("", {})  # nothing given: the timeline shows no text
    assert moved.event == event
    assert (moved.request.pk, moved.request.status, moved.from_status, moved.to_status) == (req.pk, to, frm, to)


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


def test_the_refusal_names_the_state_and_the_move_or_the_action_refused():
    with pytest.raises(TransitionError) as moved:
        lifecycle.check_transition(Status.CLOSED, Status.SUBMITTED, Kind.SUBMITTED)
    assert str(moved.value) == "A request that is closed cannot be moved to submitted."
    # The move exists (an answered request is closed by a decision) but not by this action.
    with pytest.raises(TransitionError) as acted:
        lifecycle.check_transition(Status.ANSWERED, Status.CLOSED, Kind.ACKNOWLEDGED)
    assert str(acted.value) == "A request that is answered cannot be acknowledged."


# DESIGN.md "Outcome": Sales records lost or evaporated directly until the request is closed (a
# draft is withdrawn instead); declining needs its why, and so does lost or evaporated before
# Operations has answered, so that the people still working on it learn why they can stop.
RECORDABLE = {
    DRAFT: [], SUBMITTED: ["lost", "evaporated"], IN_ANALYSIS: ["lost", "evaporated"],
    WAITING: ["lost", "evaporated"], ANSWERED: ["lost", "evaporated"], CLOSED: [],
}
NEEDS_REASON = sorted([
    (ANSWERED, "declined", True),
    (ANSWERED, "lost", False), (ANSWERED, "evaporated", False),
    *((status, outcome, True) for status in (SUBMITTED, IN_ANALYSIS, WAITING) for outcome in ("lost", "evaporated")),
    (ANSWERED, "won", False), (ANSWERED, "alternative_accepted", False),
    *((status, "withdrawn", False) for status in (DRAFT, SUBMITTED, IN_ANALYSIS, WAITING, ANSWERED)),
])


@pytest.mark.parametrize("status", sorted(RECORDABLE))
def test_record_outcome_offers_lost_and_evaporated_until_the_request_is_closed(status):
    assert lifecycle.recordable_outcomes(status) == RECORDABLE[status]


@pytest.mark.parametrize(("status", "outcome", "needed"), NEEDS_REASON)
def test_which_outcomes_need_a_reason_in_which_state(status, outcome, needed):
    assert lifecycle.outcome_needs_reason(status, outcome) is needed


def test_a_move_made_by_the_system_is_recorded_without_an_actor_with_its_message_and_data(rep, ops_lead, customer):
    req = request_in(IN_ANALYSIS, rep=rep, customer=customer, lead=ops_lead)
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    with transaction.atomic():
        moved = lifecycle.transition(
            req.pk, to=CLOSED, kind=Kind.CLOSED, actor=None, now=at, message="Customer bought elsewhere",
            data={"by": "import"}, fields={"outcome": Outcome.LOST, "closed_at": at},
        )
    event = RequestEvent.objects.get(pk=moved.event.pk)
    assert (event.actor, event.message, event.data, event.at) == (None, "Customer bought elsewhere", {"by": "import"}, at)
    req.refresh_from_db()
    assert (req.status, req.outcome, req.closed_at) == (CLOSED, Outcome.LOST, at)


def test_an_event_that_changes_no_state_is_recorded_as_given(rep, ops_lead, customer):
    req = request_in(SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    event = lifecycle.record_event(req, kind=Kind.COMMENTED, actor=ops_lead, now=at, message="Which alloy?", data={"n": 1})
    event.refresh_from_db()
    assert (event.kind, event.actor, event.message, event.data) == (Kind.COMMENTED, ops_lead, "Which alloy?", {"n": 1})
    assert event.at == at
    assert (event.from_status, event.to_status) == ("", "")
    assert lifecycle.record_event(req, kind=Kind.COMMENTED, actor=None).actor is None


def test_an_event_recorded_without_a_message_or_data_has_none(rep, ops_lead, customer):
    req = request_in(SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    event = lifecycle.record_event(req, kind=Kind.COMMENTED, actor=ops_lead)
    event.refresh_from_db()
    assert (event.message, event.data) == ("", {})


def test_a_move_marks_the_request_as_changed_at_that_moment(rep, ops_lead, customer):
    req = request_in(SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    later = timezone.now().replace(microsecond=0) + timedelta(hours=3)
    with time_machine.travel(later, tick=False), transaction.atomic():
        lifecycle.transition(req.pk, to=IN_ANALYSIS, kind=Kind.ACKNOWLEDGED, actor=ops_lead)
    assert FeasibilityRequest.objects.get(pk=req.pk).updated_at == later  # the admin's "last changed"


def test_a_stale_form_is_told_that_someone_else_changed_the_request(rep, ops_lead, customer):
    req = request_in(SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    with pytest.raises(ConflictError) as conflict, transaction.atomic():
        lifecycle.transition(req.pk, to=IN_ANALYSIS, kind=Kind.ACKNOWLEDGED, actor=ops_lead,
                             expected_version=req.version - 1)
    assert str(conflict.value) == "This request was changed by someone else while you were working on it."


def test_every_move_is_announced_to_operations_with_what_moved_and_the_pause_it_ended(rep, ops_lead, customer):
    """`analysis` follows the request's moves through `request_transitioned` (its department
    clocks pause, resume and stop): it must learn which request moved, from where to where, by
    which action, when, and which pause the move ended."""
    from requests_app.clocks import request_transitioned
    from requests_app.models import Pause

    heard: list[dict] = []

    def receiver(sender, **kwargs):
        heard.append({"sender": sender, **kwargs})

    req = request_in(WAITING, rep=rep, customer=customer, lead=ops_lead)
    at = timezone.now().replace(microsecond=0) + timedelta(minutes=30)
    request_transitioned.connect(receiver, sender=FeasibilityRequest)
    try:
        with transaction.atomic():
            lifecycle.transition(req.pk, to=SUBMITTED, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, now=at)
    finally:
        request_transitioned.disconnect(receiver, sender=FeasibilityRequest)
    [told] = heard
    told.pop("signal")
    assert told == {
        "sender": FeasibilityRequest, "request": told["request"], "from_status": WAITING, "to_status": SUBMITTED,
        "kind": Kind.CLARIFICATION_ANSWERED, "now": at, "resumed_pause": Pause.objects.get(request=req),
    }
    assert (told["request"].pk, told["request"].status) == (req.pk, SUBMITTED)
    assert told["resumed_pause"].ended_at == at
