"""Closing safely: "Record outcome" starts with nothing chosen and asks before it closes; it offers
only outcomes that make sense in the request's state (DESIGN.md "Outcome"), and says what each
means. Before Operations has answered, "Lost" or "Evaporated" needs a reason. Bad input keeps what
was typed and saves nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.models import FeasibilityRequest, Status
from tests.requests_app.sales_factories import publish, request_in

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<option value="([^"]*)"[^>]*>([^<]*)</option>')


def close_form(page: str) -> str | None:
    """The "Record outcome" form of the page, or None."""
    match = re.search(r'<form[^>]*action="/requests/\d+/close/"[^>]*>.*?</form>', page, re.S)
    return match.group(0) if match else None


def page_of(client, user, req) -> str:
    client.force_login(user)
    response = client.get(req.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        # Nothing to record on a draft (withdraw it) or a closed request.
        (Status.DRAFT, None),
        (Status.CLOSED, None),
        # Before an answer: the customer went elsewhere, or the opportunity disappeared.
        (Status.SUBMITTED, ["lost", "evaporated"]),
        (Status.IN_ANALYSIS, ["lost", "evaporated"]),
        (Status.WAITING_ON_SALES, ["lost", "evaporated"]),
        # Won, alternative accepted and declined are decisions on the answer (their own buttons).
        (Status.ANSWERED, ["lost", "evaporated"]),
    ],
)
def test_the_outcomes_offered_follow_the_state(client, rep, customer, ops_lead, status, offered):
    req = request_in(status, rep=rep, customer=customer, lead=ops_lead)
    form = close_form(page_of(client, rep, req))

    if offered is None:
        assert form is None
    else:
        options = OPTION.findall(form)
        assert [value for value, _ in options] == ["", *offered]


def test_the_form_starts_with_no_outcome_chosen_says_what_each_means_and_asks_first(client, rep, customer, ops_lead):
    req = request_in(Status.SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    form = close_form(page_of(client, rep, req))

    assert OPTION.findall(form) == [
        ("", "Choose an outcome…"),
        ("lost", "Lost — the customer went elsewhere"),
        ("evaporated", "Evaporated — the opportunity disappeared"),
    ]
    assert not re.search(r'<option value="[^"]+"[^>]*selected', form)  # none until the user picks one
    assert re.search(r'<select name="outcome"[^>]*required', form)
    assert 'data-confirm-submit="Close this request as “{outcome}”? This cannot be undone."' in form


def test_a_teammate_is_offered_no_outcome(client, rep, teammate, customer, ops_lead):
    req = request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead)
    assert close_form(page_of(client, teammate, req)) is None


def test_lost_before_an_answer_needs_a_reason_and_keeps_the_form(client, rep, customer, ops_lead):
    req = request_in(Status.SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    client.force_login(rep)

    response = client.post(reverse("requests_app:close", args=[req.pk]), {"outcome": "lost", "reason": "  "})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Say what happened: Operations has not answered yet" in page
    assert re.search(r'<option value="lost"[^>]*selected', page)
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.SUBMITTED

    client.post(reverse("requests_app:close", args=[req.pk]), {"outcome": "lost", "reason": "Bought from a competitor"})
    req.refresh_from_db()
    assert (req.status, req.outcome, req.outcome_reason) == (Status.CLOSED, "lost", "Bought from a competitor")


def test_after_an_answer_lost_needs_no_reason(client, rep, customer, ops_lead):
    req = request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead)
    client.force_login(rep)

    client.post(reverse("requests_app:close", args=[req.pk]), {"outcome": "lost", "reason": ""})

    assert FeasibilityRequest.objects.get(pk=req.pk).outcome == "lost"


def test_no_outcome_chosen_is_refused_with_a_message_and_nothing_closes(client, rep, customer, ops_lead):
    req = request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead)
    client.force_login(rep)

    response = client.post(reverse("requests_app:close", args=[req.pk]), {"outcome": "", "reason": "Typed this"})

    assert response.status_code == 400
    assert "Pick an outcome." in response.content.decode() and "Typed this" in response.content.decode()
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.ANSWERED


def test_won_is_not_recorded_from_the_close_form_even_when_posted(client, rep, customer, ops_lead):
    req = request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead)
    client.force_login(rep)

    response = client.post(reverse("requests_app:close", args=[req.pk]), {"outcome": "won"})

    assert response.status_code == 400
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.ANSWERED


def test_the_service_refuses_lost_without_a_reason_before_an_answer(rep, customer, ops_lead):
    req = request_in(Status.IN_ANALYSIS, rep=rep, customer=customer, lead=ops_lead)
    with pytest.raises(ValueError, match="Say what happened"):
        services.request_close(request_id=req.pk, actor=rep, outcome="evaporated")
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.IN_ANALYSIS


def test_a_draft_is_withdrawn_not_lost(rep, customer, ops_lead):
    from requests_app.lifecycle import TransitionError

    req = request_in(Status.DRAFT, rep=rep, customer=customer, lead=ops_lead)
    with pytest.raises(TransitionError, match="withdraw it instead"):
        services.request_close(request_id=req.pk, actor=rep, outcome="lost", reason="Gone")
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.DRAFT


@pytest.mark.parametrize("field", ["comment", "withdraw"])
def test_a_nul_character_is_refused_plainly_and_nothing_is_saved(client, rep, customer, ops_lead, field):
    req = request_in(Status.IN_ANALYSIS, rep=rep, customer=customer, lead=ops_lead)
    client.force_login(rep)
    url, data = {
        "comment": (reverse("requests_app:comment", args=[req.pk]), {"body": "Bad\x00byte"}),
        "withdraw": (reverse("requests_app:withdraw", args=[req.pk]), {"reason": "Bad\x00byte"}),
    }[field]
    before = (req.comments.count(), req.events.count())

    response = client.post(url, data)

    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()
    req.refresh_from_db()
    assert (req.status, req.comments.count(), req.events.count()) == (Status.IN_ANALYSIS, *before)


def test_the_answer_decisions_stay_on_the_answer(client, rep, customer, ops_lead):
    req = request_in(Status.IN_ANALYSIS, rep=rep, customer=customer, lead=ops_lead)
    publish(req, ops_lead, decision="yes", alternatives=0)
    page = page_of(client, rep, req)

    assert "Accept the answer" in page
    assert [value for value, _ in OPTION.findall(close_form(page))] == ["", "lost", "evaporated"]
