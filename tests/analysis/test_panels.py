"""Operations' panels on the request page: what each reader sees of Operations' work.

Sales (the author, a read-only teammate, their sales manager) read the published answer, its
alternatives, and each department's verdict, feasible quantity and date. The departments' notes,
cost impacts, who assessed, their internal due times and the alternatives' cost deltas are for
Operations and managers (DESIGN.md "Users and roles"). Checked on the rendered page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from analysis import services
from analysis.models import Decision, Verdict
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, file_request

pytestmark = pytest.mark.django_db

WEDNESDAY_1000 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
NOTE = "Supplier Kessler quotes 6 weeks; keep this between us"
INTERNAL = {
    "the department's note": NOTE,
    "the cost impact": "812.50",
    "the alternative's cost delta": "-360.00",
    "who assessed": "Paul",  # ops_member's first name
    "the departments' own due times": ">Due</th>",  # the column of the assessments table
}
SALES_READS = {
    "the verdict": "Can, with conditions",
    "the feasible quantity": "Feasible by the requested date: 300 pcs",
    "the full-quantity date": "20 Apr 2026",
    "the alternative's price": "13.40 EUR",
    "the alternative's conditions": "Two deliveries: 300 now, 200 on 20 April",
}


@pytest.fixture
def answered(rep, customer, ops_lead, ops_member, team_a):
    with time_machine.travel(MONDAY_0900, tick=False):
        req = file_request(rep, customer, now=MONDAY_0900, requested_date=date(2026, 4, 1), sales_team=team_a)
    with time_machine.travel(MONDAY_1000, tick=False):
        acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement"])
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        assess(req, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
               quantity_feasible=Decimal(300), earliest_full_date=date(2026, 4, 20), cost_impact=Decimal("812.50"),
               cost_basis="total",
               constraints=["supplier_lead_time"], notes=NOTE)
        services.answer_publish(
            request_id=req.pk, actor=ops_lead, expected_version=None, decision=Decision.ALTERNATIVES,
            summary="Not all by 1 April; here is what we can do", justification="", now=WEDNESDAY_1000,
            alternatives=[{"quantity": Decimal(300), "delivery_date": date(2026, 4, 1), "price": Decimal("13.40"),
                           "cost_delta": Decimal("-360.00"), "cost_basis": "total", "currency": "EUR", "recommended": True,
                           "conditions": "Two deliveries: 300 now, 200 on 20 April", "works_around": None}],
        )
    return req


def page_for(client, user, req) -> str:
    client.force_login(user)
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        response = client.get(req.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("persona", ["rep", "teammate", "sales_manager"])
def test_sales_read_the_answer_and_the_verdicts_but_not_operations_internals(client, request, answered, persona):
    page = page_for(client, request.getfixturevalue(persona), answered)

    assert {what: text in page for what, text in SALES_READS.items()} == dict.fromkeys(SALES_READS, True)
    assert {what: text in page for what, text in INTERNAL.items()} == dict.fromkeys(INTERNAL, False)


@pytest.mark.parametrize("persona", ["ops_member", "ops_lead", "manager"])
def test_operations_and_managers_read_the_internals_too(client, request, answered, persona):
    page = page_for(client, request.getfixturevalue(persona), answered)

    assert {what: text in page for what, text in SALES_READS.items()} == dict.fromkeys(SALES_READS, True)
    assert {what: text in page for what, text in INTERNAL.items()} == dict.fromkeys(INTERNAL, True)


def test_the_author_is_offered_the_decisions_and_a_teammate_only_reads(client, answered, rep, teammate):
    as_author = page_for(client, rep, answered)
    as_teammate = page_for(client, teammate, answered)

    assert "Accept this alternative" in as_author and "Decline all" in as_author and "Ask for a revision" in as_author
    assert "Accept this alternative" not in as_teammate and "Decline all" not in as_teammate
    assert "Not all by 1 April" in as_teammate
