"""The admin shows what the clocks and the dashboard derive, and offers no input for it: due
times, when a request was acknowledged or answered, when a department assessed, whether a clock
was met, when an answer was published. The services alone write them; a hand edit would move a
running clock or a metric without a trace."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from analysis import services
from analysis.models import Answer, Assessment, Decision, Verdict
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, file_request

pytestmark = pytest.mark.django_db

WEDNESDAY_1000 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def answered(rep, customer, ops_lead, ops_member):
    with time_machine.travel(MONDAY_0900, tick=False):
        req = file_request(rep, customer, now=MONDAY_0900)
    with time_machine.travel(MONDAY_1000, tick=False):
        acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement"])
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        assess(req, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CAN)
        services.answer_publish(
            request_id=req.pk, actor=ops_lead, now=WEDNESDAY_1000, decision=Decision.YES, summary="Yes, as asked.",
            justification="", alternatives=[], expected_version=None,
        )
    req.refresh_from_db()
    return req


def inputs(admin_client, url: str) -> set[str]:
    """The names of the change form's inputs (a date and time field posts as `<name>_0` and `<name>_1`)."""
    response = admin_client.get(url)
    assert response.status_code == 200
    names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', response.content.decode())
    return {re.sub(r"_[01]$", "", name) for name in names}


def test_a_requests_due_times_and_met_flags_are_shown_but_not_editable(admin_client, answered):
    names = inputs(admin_client, reverse("admin:requests_app_feasibilityrequest_change", args=[answered.pk]))

    derived = {"submitted_at", "acknowledge_due", "acknowledged_at", "acknowledge_met", "answer_due", "answered_at",
               "answer_met", "status"}
    assert names & derived == set()
    assert "title" in names  # what Sales typed stays correctable


def test_an_assessments_routing_due_time_completion_and_met_are_shown_but_not_editable(admin_client, answered):
    assessment = Assessment.objects.get(request=answered)
    names = inputs(admin_client, reverse("admin:analysis_assessment_change", args=[assessment.pk]))

    assert names & {"routed_at", "due_at", "assessed_at", "assessed_by", "met"} == set()
    assert "notes" in names


def test_an_answers_publication_is_shown_but_not_editable(admin_client, answered):
    answer = Answer.objects.get(request=answered)
    names = inputs(admin_client, reverse("admin:analysis_answer_change", args=[answer.pk]))

    assert names & {"published_at", "published_by", "superseded_at"} == set()
    assert "summary" in names
