"""Every legal transition of the TRANSITIONS table works through `lifecycle.transition`, with who,
when, from and to recorded; every other (from, to, kind) is refused with a clear message."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from requests_app import lifecycle
from requests_app.lifecycle import TRANSITIONS, ConflictError, TransitionError
from requests_app.models import FeasibilityRequest, Outcome, RequestEvent, Status
from tests.requests_app.sales_factories import request_in

Kind = RequestEvent.Kind

LEGAL = sorted((frm, to, kind) for (frm, to), kinds in TRANSITIONS.items() for kind in kinds)
ILLEGAL = [
    (frm, to, kind)
    for frm, to, kind in itertools.product(Status.values, Status.values, Kind.values)
    if kind not in TRANSITIONS.get((frm, to), set())
]


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
    kinds = [k for k in Kind.values if k not in TRANSITIONS.get((frm, to), set())]
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
