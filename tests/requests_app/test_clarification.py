"""Clarification round-trip with a frozen clock: the answer clock pauses while the request waits
on Sales; the pause is stored, and answer-by moves by the paused *business* time.

Calendar (the default): Europe/Berlin, Mon–Fri 08–12 and 13–17, German public holidays.
The worked example of shared/RELIABILITY.md: filed Fri 2026-03-27 16:00 CET; an urgent request
(8 business hours to answer) is due Mon 2026-03-30 16:00 CEST; a pause from Mon 10:00 to
Tue 09:00 removes 7 business hours (2 + 4 + 1), so answer-by moves to Tue 15:00 CEST.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from requests_app import permissions, services
from requests_app.lifecycle import TransitionError
from requests_app.models import ClockEvent, Comment, FeasibilityRequest, Notification, Pause, Priority, Status
from tests.requests_app.sales_factories import acknowledge, file_request, publish

FILED = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)  # Fri 16:00 CET
ACKED = datetime(2026, 3, 30, 6, 30, tzinfo=UTC)  # Mon 08:30 CEST (clocks went forward on Sunday)
ASKED = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Mon 10:00 CEST
REPLIED = datetime(2026, 3, 31, 7, 0, tzinfo=UTC)  # Tue 09:00 CEST
PUBLISHED = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # Tue 14:00 CEST


@pytest.fixture
def urgent_request(rep, ops_lead, customer, product) -> FeasibilityRequest:
    with time_machine.travel(FILED, tick=False):
        req = file_request(rep, customer, product, priority=Priority.URGENT)
    assert req.answer_due == datetime(2026, 3, 30, 14, 0, tzinfo=UTC)  # Mon 16:00 CEST
    with time_machine.travel(ACKED, tick=False):
        return acknowledge(req, ops_lead)


def test_asking_pauses_the_answer_clock_and_replying_moves_answer_by(client, urgent_request, rep, ops_lead):
    req = urgent_request
    with time_machine.travel(ASKED, tick=False):
        services.clarification_ask(request_id=req.pk, actor=ops_lead, question="Which surface finish?")
    req.refresh_from_db()
    assert req.status == Status.WAITING_ON_SALES and req.paused_since == ASKED
    pause = Pause.objects.get(request=req)
    assert (pause.started_at, pause.ended_at) == (ASKED, None)

    client.force_login(rep)
    with time_machine.travel(REPLIED, tick=False):
        response = client.post(reverse("requests_app:reply", args=[req.pk]), {"body": "Zinc plated"})
    assert response.status_code == 302
    req.refresh_from_db()
    pause.refresh_from_db()
    assert req.status == Status.IN_ANALYSIS  # back to where the question came from
    assert (pause.ended_at, pause.business_seconds) == (REPLIED, 7 * 3600)
    assert req.paused_seconds == 7 * 3600 and req.paused_since is None
    assert req.answer_due == datetime(2026, 3, 31, 13, 0, tzinfo=UTC)  # Tue 15:00 CEST
    actions = list(req.clock_events.filter(clock=ClockEvent.Clock.ANSWER).values_list("action", "at"))
    assert (ClockEvent.Action.PAUSE, ASKED) in actions and (ClockEvent.Action.RESUME, REPLIED) in actions
    assert list(req.comments.values_list("kind", "body")) == [
        (Comment.Kind.QUESTION, "Which surface finish?"),
        (Comment.Kind.REPLY, "Zinc plated"),
    ]


def test_time_to_answer_leaves_out_the_paused_time(urgent_request, ops_lead):
    req = urgent_request
    with time_machine.travel(ASKED, tick=False):
        services.clarification_ask(request_id=req.pk, actor=ops_lead, question="Which alloy?")
    with time_machine.travel(REPLIED, tick=False):
        services.clarification_answer(request_id=req.pk, actor=req.requested_by, body="6061")
    with time_machine.travel(PUBLISHED, tick=False):
        publish(FeasibilityRequest.objects.get(pk=req.pk), ops_lead)
    req.refresh_from_db()
    # Fri 16–17, Mon 8 h, Tue 08–12 and 13–14 = 14 business hours, minus 7 paused.
    assert req.answer_seconds == 7 * 3600
    assert req.answer_met is True


def test_both_sides_are_told(urgent_request, rep, ops_lead, sales_manager):
    req = urgent_request
    with time_machine.travel(ASKED, tick=False):
        services.clarification_ask(request_id=req.pk, actor=ops_lead, question="Which alloy?")
    asked = Notification.objects.filter(kind="clarification_asked")
    assert set(asked.values_list("user__username", flat=True)) == {rep.username, sales_manager.username}
    with time_machine.travel(REPLIED, tick=False):
        services.clarification_answer(request_id=req.pk, actor=rep, body="6061")
    assert Notification.objects.filter(kind="clarification_answered", user=ops_lead).exists()


def test_a_question_before_acknowledgement_returns_to_submitted_and_moves_both_clocks(rep, ops_lead, customer, product):
    with time_machine.travel(FILED, tick=False):
        req = file_request(rep, customer, product, priority=Priority.URGENT)
    ack_due, answer_due = req.acknowledge_due, req.answer_due
    assert ack_due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Mon 09:00 CEST: 1 h on Friday + 1 h on Monday
    with time_machine.travel(datetime(2026, 3, 30, 6, 0, tzinfo=UTC), tick=False):  # Mon 08:00
        services.clarification_ask(request_id=req.pk, actor=ops_lead, question="Drawing?")
    with time_machine.travel(datetime(2026, 3, 30, 8, 0, tzinfo=UTC), tick=False):  # Mon 10:00: 2 h paused
        services.clarification_answer(request_id=req.pk, actor=rep, body="Attached")
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED
    assert req.paused_seconds == 2 * 3600
    assert req.acknowledge_due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # Mon 11:00
    assert answer_due == datetime(2026, 3, 30, 14, 0, tzinfo=UTC)
    assert req.answer_due == datetime(2026, 3, 31, 7, 0, tzinfo=UTC)  # Mon 16:00 + 2 business hours = Tue 09:00


def test_a_pause_outside_working_hours_costs_nothing(urgent_request, ops_lead):
    req = urgent_request
    with time_machine.travel(datetime(2026, 3, 30, 15, 30, tzinfo=UTC), tick=False):  # Mon 17:30, after hours
        services.clarification_ask(request_id=req.pk, actor=ops_lead, question="?")
    with time_machine.travel(datetime(2026, 3, 31, 5, 30, tzinfo=UTC), tick=False):  # Tue 07:30, before opening
        services.clarification_answer(request_id=req.pk, actor=req.requested_by, body="!")
    req.refresh_from_db()
    assert req.paused_seconds == 0
    assert req.answer_due == datetime(2026, 3, 30, 14, 0, tzinfo=UTC)


def test_only_operations_asks_and_only_when_waiting_sales_replies(urgent_request, rep, ops_lead):
    with pytest.raises(permissions.NotAllowed):
        services.clarification_ask(request_id=urgent_request.pk, actor=rep, question="?")
    with pytest.raises(TransitionError):
        services.clarification_answer(request_id=urgent_request.pk, actor=rep, body="unprompted")
    with pytest.raises(ValueError):
        services.clarification_ask(request_id=urgent_request.pk, actor=ops_lead, question="  ")
