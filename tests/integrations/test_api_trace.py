"""The pages and the API are one product: each API action leaves the same trace as the page doing the
same thing — the same timeline events, notifications (and e-mails), SLA clock events and milestones.

Each test builds two identical requests at the same frozen instant, does the action on one through
the page and on the other through the API, and compares what each left behind (references, which
necessarily differ, are written REF)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from analysis.models import Answer, Assessment, ConstraintCategory, Decision
from requests_app import services as sales
from requests_app.models import ClockEvent, FeasibilityRequest, Notification
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, file_request
from tests.integrations.api_support import api
from tests.requests_app.sales_factories import filing_form_data, publish

pytestmark = pytest.mark.django_db

TUESDAY_1000 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def tuesday():
    with time_machine.travel(TUESDAY_1000, tick=False):
        yield


def trace(req: FeasibilityRequest) -> dict[str, Any]:
    """Everything an action leaves on a request, with its reference (and row ids) taken out."""
    req = FeasibilityRequest.objects.get(pk=req.pk)
    ref = req.reference or "DRAFT"

    def plain(text: str) -> str:
        return text.replace(ref, "REF")

    row = {name: getattr(req, name) for name in (
        "status", "outcome", "outcome_reason", "priority", "submitted_at", "acknowledge_due", "acknowledged_at",
        "answer_due", "answered_at", "closed_at", "paused_seconds", "acknowledge_seconds", "answer_seconds",
        "acknowledge_met", "answer_met", "next_reminder_at", "version", "title", "quantity", "unit", "requested_date")}
    return {
        "request": row,
        "events": [(e.kind, e.from_status, e.to_status, getattr(e.actor, "username", None), plain(e.message),
                    {k: v for k, v in e.data.items() if k != "alternative"}, e.at)
                   for e in req.events.select_related("actor").order_by("at", "id")],
        "notifications": sorted((n.user.username, n.kind, plain(n.message), n.email_template, sorted(n.email_data),
                                 n.created_at)
                                for n in Notification.objects.filter(request=req).select_related("user")),
        "clocks": [(c.clock, c.action, getattr(c.department, "code", None), c.at, c.due)
                   for c in ClockEvent.objects.filter(request=req).select_related("department").order_by("at", "id")],
        "comments": [(c.kind, c.author.username, c.body) for c in req.comments.select_related("author")],
        "assessments": [(a.department.code, a.verdict, getattr(a.assessed_by, "username", None), a.assessed_at, a.met,
                         a.assessment_seconds, a.notes, a.version, a.next_reminder_at)
                        for a in Assessment.objects.filter(request=req).select_related("department", "assessed_by")
                        .order_by("department__code")],
        "answers": [(a.number, a.decision, a.summary, getattr(a.published_by, "username", None), a.published_at,
                     a.version, [(x.position, x.quantity, x.accepted_at) for x in a.alternatives.all()])
                    for a in Answer.objects.filter(request=req).order_by("number")],
    }


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pair(rep, customer, team_a, ops_lead):  # ops_lead first: the submission tells the leads
    """Two identical submitted requests of rep's."""
    return tuple(file_request(rep, customer, now=MONDAY_0900, sales_team=team_a, requested_date=date(2026, 4, 30))
                 for _ in range(2))


@pytest.fixture
def routed_pair(pair, ops_lead, ops_member):
    return tuple(acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement"]) for req in pair)


@pytest.fixture
def answered_pair(routed_pair, ops_lead):
    for req in routed_pair:
        publish(req, ops_lead, decision=Decision.ALTERNATIVES, alternatives=2)
    return tuple(FeasibilityRequest.objects.get(pk=req.pk) for req in routed_pair)


def test_filing(ops_lead, rep, customer, product):
    form = filing_form_data(customer, product, requested_date="2026-04-30")
    assert page(rep).post("/requests/new/", form).status_code == 302
    body = {k: v for k, v in form.items() if k not in ("token", "new_customer", "part_description")}
    body.update(customer=customer.pk, product=product.pk)
    assert api(rep).post("/api/v1/requests/", body, format="json").status_code == 201
    by_page, by_api = FeasibilityRequest.objects.order_by("pk")
    assert trace(by_api) == trace(by_page)
    assert [e[0] for e in trace(by_api)["events"]] == ["created", "submitted"]
    assert trace(by_api)["notifications"][0][:2] == ("lena", "submitted")


def test_commenting(pair, rep):
    a, b = pair
    page(rep).post(f"/requests/{a.pk}/comment/", {"body": "Drawing rev B"})
    api(rep).post(f"/api/v1/requests/{b.reference}/comments/", {"body": "Drawing rev B"}, format="json")
    assert trace(b) == trace(a) and trace(b)["comments"] == [("comment", "rita", "Drawing rev B")]


def test_withdrawing(routed_pair, rep):
    a, b = routed_pair
    page(rep).post(f"/requests/{a.pk}/withdraw/", {"reason": "Customer postponed"})
    api(rep).post(f"/api/v1/requests/{b.reference}/withdraw/", {"reason": "Customer postponed"}, format="json")
    assert trace(b) == trace(a) and trace(b)["request"]["outcome"] == "withdrawn"


def test_recording_an_outcome(routed_pair, rep):
    a, b = routed_pair
    page(rep).post(f"/requests/{a.pk}/close/", {"outcome": "lost", "reason": "Went to a competitor"})
    api(rep).post(f"/api/v1/requests/{b.reference}/outcome/", {"outcome": "lost", "reason": "Went to a competitor"},
                  format="json")
    assert trace(b) == trace(a) and trace(b)["request"]["outcome"] == "lost"


def test_answering_a_clarification(pair, rep, ops_lead):
    for req in pair:
        sales.clarification_ask(request_id=req.pk, actor=ops_lead, question="Which alloy?")
    a, b = pair
    page(rep).post(f"/requests/{a.pk}/reply/", {"body": "AlMg3"})
    api(rep).post(f"/api/v1/requests/{b.reference}/reply/", {"body": "AlMg3"}, format="json")
    assert trace(b) == trace(a) and trace(b)["request"]["status"] == "submitted"


def test_accepting_an_alternative(answered_pair, rep):
    a, b = answered_pair
    second_a, second_b = (req.answers.get().alternatives.get(position=1) for req in (a, b))
    page(rep).post(f"/requests/{a.pk}/alternatives/{second_a.pk}/accept/")
    api(rep).post(f"/api/v1/requests/{b.reference}/accept-alternative/", {"alternative": second_b.pk}, format="json")
    assert trace(b) == trace(a) and trace(b)["request"]["outcome"] == "alternative_accepted"


def test_declining_the_answer(answered_pair, rep):
    a, b = answered_pair
    page(rep).post(f"/requests/{a.pk}/decide/decline/", {"reason": "Too late"})
    api(rep).post(f"/api/v1/requests/{b.reference}/decision/", {"action": "decline", "reason": "Too late"}, format="json")
    assert trace(b) == trace(a) and trace(b)["request"]["outcome"] == "declined"


def test_recording_an_assessment(routed_pair, ops_member):
    a, b = routed_pair
    supplier = ConstraintCategory.objects.get(code="supplier_lead_time")
    form = {"verdict": "can_with_conditions", "quantity_feasible": "300", "earliest_full_date": "2026-05-15",
            "cost_impact": "1200.00", "cost_currency": "EUR", "cost_basis": "total", "constraints": [supplier.pk],
            "notes": "Supplier X", "version": "1"}
    assert page(ops_member).post(f"/ops/requests/{a.pk}/assessments/procurement/", form).status_code == 302
    body = {**form, "constraints": ["supplier_lead_time"], "version": 1}
    assert api(ops_member).put(f"/api/v1/requests/{b.reference}/assessments/procurement/", body,
                               format="json").status_code == 200
    assert trace(b) == trace(a) and trace(b)["assessments"][0][1] == "can_with_conditions"


def test_publishing_the_answer(routed_pair, ops_lead):
    a, b = routed_pair
    form = {"action": "publish", "decision": "yes", "summary": "We can do it", "justification": "", "version": "",
            "alt-TOTAL_FORMS": "0", "alt-INITIAL_FORMS": "0", "alt-MIN_NUM_FORMS": "0", "alt-MAX_NUM_FORMS": "20"}
    assert page(ops_lead).post(f"/ops/requests/{a.pk}/answer/", form).status_code == 302
    client = api(ops_lead)
    draft = client.put(f"/api/v1/requests/{b.reference}/answer-draft/",
                       {"decision": "yes", "summary": "We can do it", "version": None}, format="json").json()
    assert client.post(f"/api/v1/requests/{b.reference}/answer-draft/publish/", {"version": draft["version"]},
                       format="json").status_code == 200
    assert trace(b) == trace(a) and trace(b)["request"]["status"] == "answered"
