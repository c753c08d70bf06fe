"""The due-state filter selects exactly the requests whose clock state (`get_clock_state`) is the one
asked for: breached, due soon (at most 2 business hours left, also across a closing time), on
track, paused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from requests_app import services
from requests_app.clocks import work_calendar
from requests_app.models import FeasibilityRequest
from requests_app.selectors import DUE_STATES, clock_status_q
from tests.requests_app.sales_factories import acknowledge, file_request


def cet(day: int, hh: int, mm: int = 0) -> datetime:
    """An instant in March 2026 given in Berlin time (CET = UTC+1). 2 March is a Monday."""
    return datetime(2026, 3, day, hh - 1, mm, tzinfo=UTC)


# The head office works 08:00–12:00 and 13:00–17:00, Monday to Friday.
MON_1530 = cet(2, 15, 30)
ACK_DUE_AT_1530 = {
    "breached": cet(2, 15, 0),
    "1.5 h left": cet(2, 17, 0),
    "after closing, 1.5 h left": cet(2, 19, 0),
    "next morning, 2 h left": cet(3, 8, 30),
    "next morning, 2 h 1 min left": cet(3, 8, 31),
    "next morning, 2.5 h left": cet(3, 9, 0),
}
EXPECTED_AT_1530 = {
    "breached": {"breached"},
    "due soon": {"1.5 h left", "after closing, 1.5 h left", "next morning, 2 h left", "in analysis, 1 h left"},
    "on track": {"next morning, 2 h 1 min left", "next morning, 2.5 h left"},
    "paused": {"waiting on Sales"},
}


@pytest.fixture
def requests_by_due(rep, ops_lead, customer, product):
    made = {}
    for title, due in ACK_DUE_AT_1530.items():
        req = file_request(rep, customer, product, title=title, now=cet(2, 8))
        FeasibilityRequest.objects.filter(pk=req.pk).update(acknowledge_due=due)
        made[title] = req
    analysed = acknowledge(file_request(rep, customer, product, title="in analysis, 1 h left", now=cet(2, 8)), ops_lead)
    FeasibilityRequest.objects.filter(pk=analysed.pk).update(answer_due=cet(2, 16, 30))
    waiting = file_request(rep, customer, product, title="waiting on Sales", now=cet(2, 8))
    services.clarification_ask(request_id=waiting.pk, actor=ops_lead, question="Which alloy?", now=cet(2, 9))
    file_request(rep, customer, product, title="a draft", submit=False)
    return made


def titles(status: str, now: datetime) -> set[str]:
    return set(FeasibilityRequest.objects.filter(clock_status_q(status, now=now)).values_list("title", flat=True))


def test_each_due_state_selects_the_requests_in_that_state(requests_by_due):
    for status, expected in EXPECTED_AT_1530.items():
        assert titles(status, MON_1530) == expected, status


# 15:00: two business hours from now end exactly at closing time (17:00), and the 19:00 due time
# still has two business hours left: due soon, though it lies after that instant.
@pytest.mark.parametrize("now", [MON_1530, cet(2, 15, 0), cet(2, 10, 30), cet(2, 12, 30), cet(2, 17, 30), cet(3, 7, 0)])
def test_the_filter_agrees_with_the_clock_state_every_page_shows(requests_by_due, now):
    rows = list(FeasibilityRequest.objects.exclude(status="draft"))
    for status, _label in DUE_STATES:
        shown = {r.title for r in rows if (state := r.get_clock_state(now, work_calendar(r))) and state.status == status}
        assert titles(status, now) == shown, (status, now)
