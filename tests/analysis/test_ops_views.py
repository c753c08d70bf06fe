"""Operations' pages: who may see and do what (per role, per view), the main flows through the
browser, and queue pages whose query count does not grow with their length."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis import services
from analysis.models import Answer, Assessment, Verdict
from requests_app.models import Status
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, file_request

pytestmark = pytest.mark.django_db

TUESDAY_1000 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
PERSONAS = ["rep", "teammate", "sales_manager", "other_rep", "ops_member", "stores_member", "ops_lead", "manager", "nobody"]


@pytest.fixture(autouse=True)
def tuesday():
    with time_machine.travel(TUESDAY_1000, tick=False):
        yield


@pytest.fixture
def submitted(rep, customer, team_a):
    return file_request(rep, customer, now=MONDAY_0900, sales_team=team_a, requested_date=date(2026, 4, 1))


@pytest.fixture
def routed(rep, customer, team_a, ops_lead):
    req = file_request(rep, customer, now=MONDAY_0900, sales_team=team_a, requested_date=date(2026, 4, 1))
    return acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement"])


def status_for(client, user, method: str, url: str) -> int:
    client.force_login(user)
    return (client.post(url, {}) if method == "post" else client.get(url)).status_code


# Expected status per persona; 404 = out of scope (ids must not leak), 403 = visible but not allowed.
LEAD_ONLY_ON_ROUTED = {"rep": 403, "teammate": 403, "sales_manager": 403, "other_rep": 404, "ops_member": 403,
                       "stores_member": 404, "ops_lead": 200, "manager": 403, "nobody": 404}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("view", "method", "expected"),
    [
        ("extend_answer_by", "get", LEAD_ONLY_ON_ROUTED),
        ("route", "get", LEAD_ONLY_ON_ROUTED),
        ("answer_compose", "get", LEAD_ONLY_ON_ROUTED),
        ("clarification_ask", "get", {**LEAD_ONLY_ON_ROUTED, "ops_member": 200}),
    ],
)
def test_request_views_per_role(client, request, routed, persona, view, method, expected):
    user = request.getfixturevalue(persona)
    assert status_for(client, user, method, reverse(f"analysis:{view}", args=[routed.pk])) == expected[persona]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("rep", 403), ("teammate", 403), ("sales_manager", 403), ("other_rep", 404), ("ops_member", 404),
     ("stores_member", 404), ("ops_lead", 200), ("manager", 403), ("nobody", 404)],
)
def test_acknowledge_page_per_role(client, request, submitted, persona, expected):
    user = request.getfixturevalue(persona)
    assert status_for(client, user, "get", reverse("analysis:acknowledge", args=[submitted.pk])) == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    # Only procurement's members edit procurement's assessment; the lead belongs to manufacturing.
    [("rep", 403), ("teammate", 403), ("sales_manager", 403), ("other_rep", 404), ("ops_member", 200),
     ("stores_member", 404), ("ops_lead", 403), ("manager", 403), ("nobody", 404)],
)
def test_assessment_page_per_role(client, request, routed, persona, expected):
    user = request.getfixturevalue(persona)
    url = reverse("analysis:assessment_edit", args=[routed.pk, "procurement"])
    assert status_for(client, user, "get", url) == expected


def test_an_unrouted_department_has_no_assessment_page(client, routed, ops_lead):
    client.force_login(ops_lead)
    assert client.get(reverse("analysis:assessment_edit", args=[routed.pk, "stores"])).status_code == 404


@pytest.mark.parametrize(
    ("persona", "triage", "department"),
    [("rep", 403, 403), ("sales_manager", 403, 403), ("ops_member", 403, 200), ("stores_member", 403, 200),
     ("ops_lead", 200, 200), ("manager", 200, 403), ("nobody", 403, 403)],
)
def test_queue_pages_per_role(client, request, persona, triage, department):
    user = request.getfixturevalue(persona)
    assert status_for(client, user, "get", reverse("analysis:triage")) == triage
    assert status_for(client, user, "get", reverse("analysis:department_queue")) == department


def test_anonymous_users_are_sent_to_log_in(client, routed):
    response = client.get(reverse("analysis:answer_compose", args=[routed.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_department_member_sees_only_what_is_routed_to_their_departments(client, rep, customer, ops_lead, ops_member):
    mine = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="Routed to procurement"), ops_lead, now=MONDAY_1000)
    acknowledge(file_request(rep, customer, now=MONDAY_0900, title="Routed to shipping"), ops_lead, now=MONDAY_1000,
                departments=["shipping"])
    client.force_login(ops_member)

    page = client.get(reverse("analysis:department_queue")).content.decode()

    assert mine.reference in page and "Routed to procurement" in page
    assert "Routed to shipping" not in page


def test_triage_lists_unacknowledged_first_with_time_left_and_breaches(client, rep, customer, ops_lead, ops_member):
    overdue = file_request(rep, customer, now=MONDAY_0900, title="Overdue one")  # ack due Tue 09:00 CET: breached
    fresh = file_request(rep, customer, now=TUESDAY_1000, title="Fresh one")
    analysing = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="Being analysed"), ops_lead, now=MONDAY_1000,
                            departments=["procurement", "stores"])
    assess(analysing, "procurement", ops_member, now=TUESDAY_1000)
    client.force_login(ops_lead)

    page = client.get(reverse("analysis:triage")).content.decode()

    assert page.index(overdue.reference) < page.index(fresh.reference) < page.index(analysing.reference)
    assert "breached" in page and "overdue" in page and "left" in page
    assert ">Stores<" in page  # still owes its assessment


def _queries(client, url) -> int:
    client.get(url)  # warm-up: session write, first-time caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def _fill(rep, customer, lead, n: int) -> None:
    for i in range(n):
        file_request(rep, customer, now=MONDAY_0900, title=f"Waiting {i}")
        acknowledge(file_request(rep, customer, now=MONDAY_0900, title=f"Routed {i}"), lead, now=MONDAY_1000,
                    departments=["procurement", "stores"])


def test_the_triage_page_runs_a_fixed_number_of_queries(client, rep, customer, ops_lead, django_assert_num_queries):
    client.force_login(ops_lead)
    _fill(rep, customer, ops_lead, 2)
    small = _queries(client, reverse("analysis:triage"))
    _fill(rep, customer, ops_lead, 8)
    with django_assert_num_queries(small):
        assert client.get(reverse("analysis:triage")).content.decode().count("Routed ") == 10


def test_the_department_queue_runs_a_fixed_number_of_queries(client, rep, customer, ops_lead, ops_member,
                                                             django_assert_num_queries):
    """Both sections, rows handed to their owner, other departments pending: the same queries for 3
    rows as for 11, and none per row."""
    def assess_some() -> None:
        for assessment in Assessment.objects.filter(department__code="procurement", assessed_at__isnull=True)[::3]:
            assess(assessment.request, "procurement", ops_member, now=MONDAY_1000)

    client.force_login(ops_member)
    _fill(rep, customer, ops_lead, 2)
    handed = Assessment.objects.filter(department__code="stores").first()
    Assessment.objects.filter(pk=handed.pk).update(owner=ops_member)  # a lead hands stores' work to them
    assess_some()
    small = _queries(client, reverse("analysis:department_queue"))
    _fill(rep, customer, ops_lead, 8)
    assess_some()
    with django_assert_num_queries(small):
        page = client.get(reverse("analysis:department_queue")).content.decode()
    assert page.count("Routed ") == 10 + 1  # procurement's ten, in both sections, and the stores one handed over
    assert 'id="dept-assessed"' in page and ">Edit<" in page


# -- flows through the pages ------------------------------------------------------------------


def test_a_lead_acknowledges_through_the_page_with_the_policy_default(client, submitted, ops_lead, ops_member):
    client.force_login(ops_lead)
    url = reverse("analysis:acknowledge", args=[submitted.pk])
    page = client.get(url)
    default = page.context["form"]["answer_due"].value()

    response = client.post(url, {"departments": [ops_member.departments.get().pk], "reason": "",
                                 "answer_due": default.strftime("%Y-%m-%dT%H:%M"), "version": submitted.version})

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.IN_ANALYSIS and submitted.answer_due == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def test_an_answer_by_beyond_policy_without_reason_is_shown_on_the_form_with_input_kept(client, submitted, ops_lead, ops_member):
    client.force_login(ops_lead)
    response = client.post(reverse("analysis:acknowledge", args=[submitted.pk]), {
        "departments": [ops_member.departments.get().pk], "answer_due": "2026-04-30T12:00", "reason": "",
        "version": submitted.version,
    })

    assert response.status_code == 200
    assert "record the reason" in response.context["form"].errors["reason"][0]
    assert 'value="2026-04-30T12:00"' in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_a_member_saves_the_assessment_through_the_page(client, routed, ops_member):
    client.force_login(ops_member)
    url = reverse("analysis:assessment_edit", args=[routed.pk, "procurement"])
    version = client.get(url).context["form"]["version"].value()

    response = client.post(url, {"verdict": "can", "cost_currency": "EUR", "notes": "In stock", "version": version})

    assert response.status_code == 302
    assert Assessment.objects.get(request=routed).notes == "In stock"


def test_a_concurrent_assessment_edit_shows_a_conflict_and_keeps_the_input(client, routed, ops_member):
    client.force_login(ops_member)
    url = reverse("analysis:assessment_edit", args=[routed.pk, "procurement"])
    version = client.get(url).context["form"]["version"].value()
    assess(routed, "procurement", ops_member, now=TUESDAY_1000, notes="saved by a colleague")

    response = client.post(url, {"verdict": "can", "cost_currency": "EUR", "notes": "my careful notes", "version": version})

    assert response.status_code == 200
    body = response.content.decode()
    assert "changed by someone else" in body and "my careful notes" in body
    assert "saved by a colleague" in body  # shown for comparison
    assert Assessment.objects.get(request=routed).notes == "saved by a colleague"

    # Saving the kept input again is checked against the version just shown, so it goes through.
    again = client.post(url, {**response.context["form"].data.dict(), "constraints": []})
    assert again.status_code == 302
    assert Assessment.objects.get(request=routed).notes == "my careful notes"


def _answer_post(action: str, **extra) -> dict:
    data = {"action": action, "decision": "alternatives", "summary": "Split delivery", "justification": "", "version": "",
            "alt-TOTAL_FORMS": "1", "alt-INITIAL_FORMS": "0", "alt-MIN_NUM_FORMS": "0", "alt-MAX_NUM_FORMS": "20",
            "alt-0-quantity": "300", "alt-0-delivery_date": "2026-04-01", "alt-0-currency": "EUR", "alt-0-recommended": "on"}
    data.update(extra)
    return data


def test_the_lead_prefills_saves_and_publishes_through_the_composer(client, routed, ops_lead, ops_member, rep):
    assess(routed, "procurement", ops_member, now=TUESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
           quantity_feasible=Decimal(300), earliest_full_date=date(2026, 4, 20), constraints=["labour"])
    client.force_login(ops_lead)
    url = reverse("analysis:answer_compose", args=[routed.pk])

    prefilled = client.post(url, {"action": "prefill", "summary": "typed text"})
    assert prefilled.status_code == 200
    assert prefilled.context["formset"].initial[0]["quantity"] == Decimal(300)
    assert "typed text" in prefilled.content.decode()

    assert client.post(url, _answer_post("save")).status_code == 302
    draft = Answer.objects.get(request=routed)
    assert draft.published_at is None and draft.alternatives.count() == 1

    response = client.post(url, _answer_post("publish", **{"version": draft.version, "alt-INITIAL_FORMS": "1",
                                                           "alt-0-id": draft.alternatives.get().pk}))
    assert response.status_code == 302
    routed.refresh_from_db()
    assert routed.status == Status.ANSWERED
    assert Answer.objects.get(request=routed).alternatives.count() == 1


def test_publishing_alternatives_without_any_is_refused_on_the_page(client, routed, ops_lead):
    client.force_login(ops_lead)
    response = client.post(reverse("analysis:answer_compose", args=[routed.pk]),
                           _answer_post("publish", **{"alt-TOTAL_FORMS": "0"}))
    assert response.status_code == 200
    assert "at least one alternative" in response.content.decode()
    routed.refresh_from_db()
    assert routed.status == Status.IN_ANALYSIS and not Answer.objects.exists()


def test_a_member_asks_sales_a_question_and_the_clock_pauses(client, routed, ops_member):
    client.force_login(ops_member)
    response = client.post(reverse("analysis:clarification_ask", args=[routed.pk]),
                           {"question": "Which finish?", "version": routed.version})
    assert response.status_code == 302
    routed.refresh_from_db()
    assert routed.status == Status.WAITING_ON_SALES and routed.paused_since == TUESDAY_1000


def test_extending_the_answer_by_through_the_page(client, routed, ops_lead):
    client.force_login(ops_lead)
    response = client.post(reverse("analysis:extend_answer_by", args=[routed.pk]),
                           {"answer_due": "2026-03-12T16:00", "reason": "Waiting for a tooling quote", "version": routed.version})
    assert response.status_code == 302
    routed.refresh_from_db()
    assert routed.answer_due == datetime(2026, 3, 12, 15, 0, tzinfo=UTC)


def test_the_ops_panel_offers_each_role_its_own_actions(routed, ops_lead, ops_member, stores_member):
    from django.template.loader import render_to_string

    from analysis.selectors import ops_panel

    assess(routed, "procurement", ops_member, now=TUESDAY_1000, notes="Checked the stock")
    as_lead = render_to_string("analysis/_ops_panel.html", {"panel": ops_panel(req=routed, user=ops_lead)})
    as_member = render_to_string("analysis/_ops_panel.html", {"panel": ops_panel(req=routed, user=ops_member)})

    assert "Compose answer" in as_lead and "Edit: Procurement" not in as_lead
    assert "Edit: Procurement" in as_member and "Compose answer" not in as_member
    assert "Procurement assessed: Can" in as_member and "Checked the stock" in as_member


def test_a_stale_draft_answer_shows_a_conflict_keeps_the_input_and_can_be_saved_again(client, routed, ops_lead):
    draft = services.answer_save_draft(request_id=routed.pk, actor=ops_lead, decision="yes", summary="first take",
                                       justification="", alternatives=[], expected_version=None)
    services.answer_save_draft(request_id=routed.pk, actor=ops_lead, decision="yes", summary="colleague's take",
                               justification="", alternatives=[], expected_version=draft.version)
    client.force_login(ops_lead)
    url = reverse("analysis:answer_compose", args=[routed.pk])

    response = client.post(url, _answer_post("save", summary="my better take", version=draft.version))

    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode() and "my better take" in response.content.decode()
    assert Answer.objects.get(request=routed).summary == "colleague's take"
    assert client.post(url, response.context["form"].data).status_code == 302
    assert Answer.objects.get(request=routed).summary == "my better take"


def test_every_operations_url_is_in_the_permission_matrix():
    """A new page must be added to the per-role tests above (shared/RELIABILITY.md rule 8)."""
    from analysis import urls_ops

    covered = {"extend_answer_by", "route", "answer_compose", "clarification_ask", "acknowledge",
               "assessment_edit", "triage", "department_queue",
               "triage_acknowledge",  # per role in tests/analysis/test_queues.py
               # The learning loop's pages: per-role tests in test_precedents, test_forecasts, test_improvements.
               "precedents", "forecast", "improvements", "improvement_new", "improvement_detail", "improvement_move"}
    assert {p.name for p in urls_ops.urlpatterns} == covered


@pytest.mark.parametrize("view", ["acknowledge", "route", "extend_answer_by", "clarification_ask"])
def test_an_action_the_state_does_not_allow_sends_back_to_the_request_saying_why(client, routed, ops_lead, view):
    services.answer_publish(request_id=routed.pk, actor=ops_lead, expected_version=None, decision="yes", summary="Yes",
                            justification="", alternatives=[])
    client.force_login(ops_lead)

    response = client.get(reverse(f"analysis:{view}", args=[routed.pk]), follow=False)

    assert response.status_code == 302 and response["Location"] == routed.get_absolute_url()
