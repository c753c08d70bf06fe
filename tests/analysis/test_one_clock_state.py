"""A request re-opened for revision shows one SLA state everywhere: the request page's badge and its
"overdue since" line, the list, triage and the dashboard all read it from one rule
(`FeasibilityRequest.get_clock_state`, and `clocks.breached_q` in SQL). Its first answer was on time;
the revision's new answer window has run out, so it is breached, whatever the first answer's
"met" says.

An urgent request (answer 8 business hours) filed Monday 2 March 2026 08:00 in Berlin, answered at
12:00 (met); re-opened Tuesday 08:00, so the new answer is due Tuesday 17:00; read Friday 10:00."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from analysis import metrics
from analysis import services as ops
from analysis.decisions import revision_request
from requests_app.clocks import default_calendar
from requests_app.models import FeasibilityRequest, Priority, Status
from tests.conftest import aware
from tests.requests_app.sales_factories import file_request

pytestmark = pytest.mark.django_db

FILED = aware(2026, 3, 2, 7, 0)  # Monday 08:00 CET
ANSWERED = aware(2026, 3, 2, 11, 0)  # Monday 12:00 CET, before its 17:00 answer-by
REOPENED = aware(2026, 3, 3, 7, 0)  # Tuesday 08:00 CET
NEW_ANSWER_DUE = aware(2026, 3, 3, 16, 0)  # Tuesday 17:00 CET
FRIDAY = aware(2026, 3, 6, 9, 0)  # Friday 10:00 CET


@pytest.fixture
def reopened(rep, customer, product, ops_lead) -> FeasibilityRequest:
    with time_machine.travel(FILED, tick=False):
        req = file_request(rep, customer, product, priority=Priority.URGENT, now=FILED, title="Re-opened brackets")
        ops.request_acknowledge(request_id=req.pk, actor=ops_lead, departments=["procurement"], now=FILED)
    with time_machine.travel(ANSWERED, tick=False):
        ops.answer_publish(request_id=req.pk, actor=ops_lead, expected_version=None, decision="yes", summary="Yes",
                           justification="", alternatives=[], now=ANSWERED)
    with time_machine.travel(REOPENED, tick=False):
        revision_request(request_id=req.pk, actor=rep, reason="The customer doubled the quantity.", now=REOPENED)
    req.refresh_from_db()
    assert req.status == Status.IN_ANALYSIS and req.answer_met is True and req.answer_due == NEW_ANSWER_DUE
    return req


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_reopened_request_is_breached_on_every_page_that_shows_it(client, reopened, rep, ops_lead):
    with time_machine.travel(FRIDAY, tick=False):
        client.force_login(rep)
        page = text(client.get(reopened.get_absolute_url()))
        listed = text(client.get(reverse("requests_app:list")))
        client.force_login(ops_lead)
        triage = client.get(reverse("analysis:triage"))
        board = metrics.dashboard(metrics.DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 7)),
                                  now=FRIDAY, work_calendar=default_calendar().as_work_calendar(), use_rollup=False)

    assert "Overdue since Tue 3 Mar, 17:00" in page
    assert "breached · overdue" in page and " met" not in page.replace("Re-opened", "")
    row = listed[listed.index("Re-opened brackets"):][:300]
    assert "breached · overdue" in row
    [in_analysis] = [r for r in triage.context["queue"].in_analysis if r.request.pk == reopened.pk]
    assert in_analysis.breached and in_analysis.state.status == "breached"
    assert reopened.reference in [r.reference for r in board.breached]
    assert board.current.breached_now == 1
