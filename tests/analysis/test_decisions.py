"""Sales decides on a published answer: accept an alternative, accept the YES, decline all with a
reason, or ask for a revision (which keeps the earlier answer in history)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analysis import decisions
from analysis.models import Alternative, Answer, Decision
from requests_app.lifecycle import TransitionError
from requests_app.models import FeasibilityRequest, Notification, RequestEvent, Status
from tests.requests_app.sales_factories import acknowledge, file_request, publish


@pytest.fixture
def answered(rep, ops_lead, customer, product) -> tuple[FeasibilityRequest, Answer]:
    req = acknowledge(file_request(rep, customer, product), ops_lead)
    answer = publish(req, ops_lead, decision=Decision.ALTERNATIVES, alternatives=2)
    return FeasibilityRequest.objects.get(pk=req.pk), answer


def test_accepting_an_alternative_closes_as_alternative_accepted(client, answered, rep, ops_lead):
    req, answer = answered
    second = answer.alternatives.get(position=1)
    client.force_login(rep)
    response = client.post(reverse("decisions:accept_alternative", args=[req.pk, second.pk]))
    assert response.status_code == 302
    req.refresh_from_db()
    second.refresh_from_db()
    assert (req.status, req.outcome) == (Status.CLOSED, "alternative_accepted")
    assert second.accepted_by == rep and second.accepted_at == req.closed_at
    event = req.events.latest("at", "id")
    assert event.kind == RequestEvent.Kind.ALTERNATIVE_ACCEPTED and event.data["alternative"] == second.pk
    assert Notification.objects.filter(user=ops_lead, kind="alternative_accepted").exists()


def test_the_accept_button_asks_for_confirmation(client, answered, rep):
    req, _answer = answered
    client.force_login(rep)
    page = client.get(req.get_absolute_url()).content.decode()
    assert "Accept this alternative" in page and "data-confirm=" in page


def test_an_alternative_of_a_superseded_answer_cannot_be_accepted(answered, rep, ops_lead):
    req, first = answered
    decisions.revision_request(request_id=req.pk, actor=rep, reason="Customer can take 400 now")
    publish(FeasibilityRequest.objects.get(pk=req.pk), ops_lead)
    with pytest.raises(TransitionError, match="earlier answer"):
        decisions.alternative_accept(alternative_id=first.alternatives.first().pk, actor=rep)
    assert not Alternative.objects.filter(accepted_at__isnull=False).exists()


def test_accepting_the_yes_closes_as_won(rep, ops_lead, customer, product):
    req = acknowledge(file_request(rep, customer, product), ops_lead)
    publish(req, ops_lead, decision=Decision.YES, alternatives=0)
    decisions.answer_accept(request_id=req.pk, actor=rep)
    req.refresh_from_db()
    assert (req.status, req.outcome) == (Status.CLOSED, "won")
    assert req.events.latest("at", "id").kind == RequestEvent.Kind.ANSWER_ACCEPTED


def test_an_answer_that_is_not_a_yes_cannot_be_accepted_as_won(answered, rep):
    req, _ = answered
    with pytest.raises(TransitionError, match="not a yes"):
        decisions.answer_accept(request_id=req.pk, actor=rep)
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.ANSWERED


def test_declining_all_needs_a_reason_and_closes_as_declined(client, answered, rep):
    req, _ = answered
    with pytest.raises(ValueError):
        decisions.answer_decline(request_id=req.pk, actor=rep, reason=" ")
    client.force_login(rep)
    client.post(reverse("decisions:decide", args=[req.pk, "decline"]), {"reason": "Too late for the customer"})
    req.refresh_from_db()
    assert (req.status, req.outcome, req.outcome_reason) == (Status.CLOSED, "declined", "Too late for the customer")


def test_a_revision_reopens_the_analysis_and_keeps_the_answer_in_history(client, answered, rep, ops_lead):
    req, answer = answered
    client.force_login(rep)
    client.post(reverse("decisions:decide", args=[req.pk, "revise"]), {"reason": "Customer now accepts two deliveries"})
    req.refresh_from_db()
    answer.refresh_from_db()
    assert req.status == Status.IN_ANALYSIS
    assert answer.superseded_at is not None and answer.revision_reason == "Customer now accepts two deliveries"
    assert req.events.latest("at", "id").kind == RequestEvent.Kind.REVISION_REQUESTED
    assert Notification.objects.filter(user=ops_lead, kind="revision_requested").exists()
    second = publish(req, ops_lead, decision=Decision.YES, alternatives=0)
    assert decisions.current_answer(req) == second
    page = client.get(req.get_absolute_url()).content.decode()
    assert "Earlier answers (1)" in page and "Customer now accepts two deliveries" in page


def test_a_teammate_cannot_decide(client, answered, teammate):
    req, answer = answered
    client.force_login(teammate)
    alt = answer.alternatives.first()
    assert client.post(reverse("decisions:accept_alternative", args=[req.pk, alt.pk])).status_code == 403
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.ANSWERED


def test_the_sales_manager_can_decide_for_the_team(answered, sales_manager):
    req, answer = answered
    decisions.alternative_accept(alternative_id=answer.alternatives.first().pk, actor=sales_manager)
    assert FeasibilityRequest.objects.get(pk=req.pk).outcome == "alternative_accepted"


def test_no_decision_before_an_answer(rep, ops_lead, customer, product):
    req = acknowledge(file_request(rep, customer, product), ops_lead)
    for decide in (decisions.answer_accept, decisions.answer_decline, decisions.revision_request):
        with pytest.raises(TransitionError):
            decide(request_id=req.pk, actor=rep, reason="x")


# The decide endpoints read their reason through a form (attack probe F13): bounded, no NUL
# character, required where it is the point; bad input keeps what was typed and saves nothing.

@pytest.mark.parametrize(
    ("action", "reason", "message"),
    [
        ("decline", "Too\x00late", "contains a NUL character"),
        ("revise", "Two deliveries\x00", "contains a NUL character"),
        ("decline", "x" * 1_000_000, "the limit is 2000"),
        ("decline", "   ", "This field is required"),
        ("revise", "", "This field is required"),
    ],
)
def test_a_bad_reason_is_refused_with_a_message_and_nothing_is_saved(client, answered, rep, action, reason, message):
    req, answer = answered
    client.force_login(rep)
    before = (req.version, req.events.count())

    response = client.post(reverse("decisions:decide", args=[req.pk, action]), {"reason": reason})

    assert response.status_code == 400
    assert message in response.content.decode()
    req.refresh_from_db()
    answer.refresh_from_db()
    assert (req.status, req.version, req.events.count(), answer.superseded_at) == (Status.ANSWERED, *before, None)


def test_a_refused_reason_is_kept_on_the_page_to_correct(client, answered, rep):
    req, _answer = answered
    client.force_login(rep)
    typed = "The customer wants " + "a very long explanation " * 100

    response = client.post(reverse("decisions:decide", args=[req.pk, "decline"]), {"reason": typed})

    assert response.status_code == 400
    assert typed.strip() in response.content.decode()


def test_an_unknown_decision_is_404(client, answered, rep):
    req, _answer = answered
    client.force_login(rep)
    assert client.post(reverse("decisions:decide", args=[req.pk, "shred"]), {"reason": "x"}).status_code == 404
