"""Triage and the department queue with hundreds of open requests: search, filters (priority,
customer, department, due state), sort by due, pages that never count the whole queue, and the
bulk acknowledgement of several requests with one answer-by and routing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from analysis import services
from analysis.decisions import revision_request
from analysis.models import Assessment
from requests_app import services as request_services
from requests_app.models import Customer, Department, FeasibilityRequest, Priority, Status
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, file_request
from tests.conftest import request_fields
from tests.requests_app.sales_factories import publish

pytestmark = pytest.mark.django_db

TRIAGE = reverse("analysis:triage")
BULK = reverse("analysis:triage_acknowledge")
QUEUE = reverse("analysis:department_queue")
# Tuesday 3 March 2026, 10:00 in Berlin (CET). A normal request filed Monday 09:00 had until
# Monday 17:00 to be acknowledged (8 business hours): it is breached now.
TUESDAY_1000 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TUESDAY_0930 = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def tuesday():
    with time_machine.travel(TUESDAY_1000, tick=False):
        yield


@pytest.fixture
def lead(client, ops_lead):
    client.force_login(ops_lead)
    return ops_lead


def unacknowledged(response) -> list[str]:
    return [row.request.title for row in response.context["queue"].unacknowledged]


def in_analysis(response) -> list[str]:
    return [row.request.title for row in response.context["queue"].in_analysis]


@pytest.fixture
def queue(rep, customer, ops_lead):
    """Three unacknowledged requests and two in analysis, of two customers and priorities."""
    globex = Customer.objects.create(name="Globex Tooling")
    made = {
        "old brackets": file_request(rep, customer, now=MONDAY_0900, title="old brackets"),  # ack due Mon 17:00: breached
        "urgent housings": file_request(rep, globex, now=TUESDAY_0930, title="urgent housings", priority=Priority.URGENT),
        "new flanges": file_request(rep, customer, now=TUESDAY_0930, title="new flanges"),  # ack due Wed 09:30
        "routed to stores": acknowledge(
            file_request(rep, globex, now=MONDAY_0900, title="routed to stores"), ops_lead, now=MONDAY_1000,
            departments=["stores"],
        ),
        "routed to procurement": acknowledge(
            file_request(rep, customer, now=MONDAY_0900, title="routed to procurement"), ops_lead, now=MONDAY_1000,
        ),
    }
    return made


def test_triage_lists_each_section_by_due_time_and_sorts_the_other_way_when_asked(client, lead, queue):
    # urgent: 2 business hours from 09:30 = Tue 11:30, before the flanges' Wed 09:30.
    response = client.get(TRIAGE)
    assert unacknowledged(response) == ["old brackets", "urgent housings", "new flanges"]
    assert unacknowledged(client.get(TRIAGE, {"sort": "-due"})) == ["new flanges", "urgent housings", "old brackets"]


def test_triage_filters_by_search_priority_customer_department_and_due_state(client, lead, queue):
    assert unacknowledged(client.get(TRIAGE, {"q": "flange"})) == ["new flanges"]
    assert unacknowledged(client.get(TRIAGE, {"q": "globex"})) == ["urgent housings"]
    assert unacknowledged(client.get(TRIAGE, {"priority": "urgent"})) == ["urgent housings"]
    by_customer = client.get(TRIAGE, {"customer": "Globex Tooling"})
    assert unacknowledged(by_customer) == ["urgent housings"] and in_analysis(by_customer) == ["routed to stores"]
    stores = Department.objects.get(code="stores")
    routed = client.get(TRIAGE, {"department": stores.pk})
    assert in_analysis(routed) == ["routed to stores"] and unacknowledged(routed) == []  # not routed yet
    assert unacknowledged(client.get(TRIAGE, {"due": "breached"})) == ["old brackets"]
    assert unacknowledged(client.get(TRIAGE, {"due": "due soon"})) == ["urgent housings"]  # 1.5 business h left
    assert unacknowledged(client.get(TRIAGE, {"due": "on track"})) == ["new flanges"]
    page = client.get(TRIAGE, {"q": "nothing like this"}).content.decode()
    assert "No request waiting for acknowledgement matches these filters." in page


@pytest.mark.parametrize("url", [TRIAGE, QUEUE], ids=["triage", "department queue"])
def test_the_queues_customer_filter_is_searched_not_a_list_of_every_customer(client, ops_lead, stores_member, queue, url):
    """The customer filter is the request list's search-as-you-type picker (name or ERP code), not a
    <select> that ships every customer with each view of the queue."""
    for i in range(30):
        Customer.objects.create(name=f"Bystander {i:02d}", code=f"BY{i:02d}")
    Customer.objects.filter(name="Globex Tooling").update(code="GBX")
    client.force_login(ops_lead if url == TRIAGE else stores_member)
    html = client.get(url).content.decode()
    assert "Bystander" not in html
    assert 'name="customer"' in html and 'data-picker="/requests/pick/customers/"' in html

    by_code = client.get(url, {"customer": "gbx"})  # Globex's ERP code, in any case
    assert (in_analysis(by_code) if url == TRIAGE else to_assess(by_code)) == ["routed to stores"]
    unknown = client.get(url, {"customer": "Nobody Ltd"})
    form = unknown.context["filter"].form
    assert form["customer"].errors == [
        "No customer matches “Nobody Ltd”: pick one from the suggestions, or type its exact name or ERP code."
    ]
    assert 'value="Nobody Ltd"' in unknown.content.decode()  # what was typed stays


def test_a_long_queue_comes_in_pages_without_counting_it_all(client, lead, rep, customer):
    for i in range(27):
        file_request(rep, customer, now=MONDAY_0900, title=f"waiting {i:02d}")
    first = client.get(TRIAGE)
    assert len(unacknowledged(first)) == 25
    page = first.context["queue"].unacknowledged
    assert page.count_label == "27" and page.has_next
    html = first.content.decode()
    assert "1–25 of 27" in html and "ack_page=2" in html
    assert unacknowledged(client.get(TRIAGE, {"ack_page": "2"})) == ["waiting 25", "waiting 26"]


def tick(*reqs, **fields) -> dict:
    data = {"requests": [str(r.pk) for r in reqs], "departments": [str(Department.objects.get(code="procurement").pk),
                                                                   str(Department.objects.get(code="shipping").pk)]}
    for r in reqs:
        data[f"version-{r.pk}"] = str(FeasibilityRequest.objects.get(pk=r.pk).version)
    data.update(fields)
    return data


def test_bulk_acknowledge_gives_each_request_the_same_answer_by_and_routing(client, lead, queue):
    chosen = [queue["old brackets"], queue["new flanges"]]
    response = client.post(BULK, tick(*chosen, answer_due="2026-03-06T15:00", query="sort=-due"))
    assert response.status_code == 302 and response["Location"] == f"{TRIAGE}?sort=-due"
    for req in chosen:
        req = FeasibilityRequest.objects.get(pk=req.pk)
        assert req.status == Status.IN_ANALYSIS
        assert req.answer_due == datetime(2026, 3, 6, 14, 0, tzinfo=UTC)  # Friday 15:00 Berlin
        assert set(Assessment.objects.filter(request=req).values_list("department__code", flat=True)) == {
            "procurement", "shipping"
        }
    assert FeasibilityRequest.objects.get(pk=queue["urgent housings"].pk).status == Status.SUBMITTED
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [f"Acknowledged and routed (2): {chosen[0].reference}, {chosen[1].reference}. "
                        "The reps have been told the answer-by."]


def test_bulk_acknowledge_without_a_date_keeps_each_request_s_policy_default(client, lead, queue):
    urgent, normal = queue["urgent housings"], queue["new flanges"]
    client.post(BULK, tick(urgent, normal))
    # From Tuesday 09:30: urgent answers within 8 business hours (Wed 09:30), normal within 40 (Tue 09:30 next week).
    assert FeasibilityRequest.objects.get(pk=urgent.pk).answer_due == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)
    assert FeasibilityRequest.objects.get(pk=normal.pk).answer_due == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)


def test_bulk_acknowledge_reports_each_refusal_and_acknowledges_the_rest(client, lead, ops_lead, rep, queue):
    taken, edited, fine = queue["old brackets"], queue["urgent housings"], queue["new flanges"]
    data = tick(taken, edited, fine)
    # Meanwhile another lead acknowledged one, and the rep edited another.
    acknowledge(taken, ops_lead, now=TUESDAY_1000)
    request_services.request_update(
        req=FeasibilityRequest.objects.get(pk=edited.pk), actor=rep, expected_version=edited.version,
        data=request_fields(Customer.objects.get(name="Globex Tooling"), title="urgent housings, 200 more",
                            part_description="Housing", priority=Priority.URGENT),
    )
    response = client.post(BULK, data)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages[0] == f"Acknowledged and routed (1): {fine.reference}. The reps have been told the answer-by."
    changed = "was not acknowledged: This request was changed by someone else while you were working on it."
    assert messages[1:] == [f"{taken.reference} {changed}", f"{edited.reference} {changed}"]
    assert FeasibilityRequest.objects.get(pk=edited.pk).status == Status.SUBMITTED
    assert list(Assessment.objects.filter(request=taken).values_list("department__code", flat=True)) == ["procurement"]


def test_bulk_acknowledge_with_bad_input_keeps_it_and_changes_nothing(client, lead, queue):
    chosen = queue["new flanges"]
    response = client.post(BULK, tick(chosen, departments=[], answer_due="2026-03-06T15:00"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose at least one department that must assess these requests." in html
    assert f'value="{chosen.pk}" form="bulk-ack" id="tick-{chosen.pk}" aria-label="Select {chosen.reference}' in html
    assert f'id="tick-{chosen.pk}" aria-label="Select {chosen.reference} for bulk acknowledgement" checked' in html
    assert 'value="2026-03-06T15:00"' in html
    assert FeasibilityRequest.objects.get(pk=chosen.pk).status == Status.SUBMITTED
    nothing = client.post(BULK, tick())
    assert nothing.status_code == 400 and "Tick the requests to acknowledge." in nothing.content.decode()


def test_a_past_answer_by_is_refused_for_each_request(client, lead, queue):
    chosen = queue["new flanges"]
    response = client.post(BULK, tick(chosen, answer_due="2026-03-02T15:00"))
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [f"{chosen.reference} was not acknowledged: The answer-by time must be in the future."]
    assert FeasibilityRequest.objects.get(pk=chosen.pk).status == Status.SUBMITTED


@pytest.mark.parametrize(
    "persona", ["rep", "teammate", "sales_manager", "other_rep", "ops_member", "stores_member", "manager", "nobody"]
)
def test_only_operations_leads_acknowledge_in_bulk(client, request, persona, queue):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(BULK, tick(queue["new flanges"])).status_code == 403
    assert FeasibilityRequest.objects.get(pk=queue["new flanges"].pk).status == Status.SUBMITTED


def test_anonymous_visitors_cannot_acknowledge_in_bulk(client, queue):
    response = client.post(BULK, tick(queue["new flanges"]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert FeasibilityRequest.objects.get(pk=queue["new flanges"].pk).status == Status.SUBMITTED


def test_the_bulk_service_refuses_an_actor_who_may_not_acknowledge_before_touching_anything(manager, queue):
    procurement = Department.objects.get(code="procurement")
    with pytest.raises(services.permissions.NotAllowed):
        services.requests_acknowledge_bulk(request_ids=[queue["new flanges"].pk], actor=manager, departments=[procurement])
    assert FeasibilityRequest.objects.get(pk=queue["new flanges"].pk).status == Status.SUBMITTED


def test_the_bulk_service_reports_an_unknown_request(ops_lead, queue):
    procurement = Department.objects.get(code="procurement")
    outcomes = services.requests_acknowledge_bulk(
        request_ids=[987654, queue["new flanges"].pk], actor=ops_lead, departments=[procurement],
    )
    assert [(o.request_id, o.acknowledged, o.error) for o in outcomes] == [
        (987654, False, "No such request."), (queue["new flanges"].pk, True, ""),
    ]


# -- the department queue ------------------------------------------------------------------------


def to_assess(response) -> list[str]:
    return [row.request.title for row in response.context["queue"].to_assess]


def test_the_department_queue_filters_and_sorts(client, rep, customer, ops_lead, ops_member, stores_member):
    globex = Customer.objects.create(name="Globex Tooling", code="GBX")
    acknowledge(file_request(rep, customer, now=MONDAY_0900, title="early"), ops_lead, now=MONDAY_1000)
    acknowledge(file_request(rep, globex, now=TUESDAY_0930, title="late", priority=Priority.HIGH), ops_lead,
                       now=TUESDAY_0930)
    done = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="done"), ops_lead, now=MONDAY_1000)
    assess(done, "procurement", ops_member, now=TUESDAY_0930)
    acknowledge(file_request(rep, customer, now=MONDAY_0900, title="stores only"), ops_lead, now=MONDAY_1000,
                departments=["stores"])
    client.force_login(ops_member)
    response = client.get(QUEUE)
    # Procurement is due at 70% of the business time from routing to answer-by: "late" (high
    # priority, 24 h from Tue 09:30) on Thu 10:18, "early" (normal, 40 h from Mon 09:00) on Thu 14:18.
    assert to_assess(response) == ["late", "early"]
    assert [row.request.title for row in response.context["queue"].assessed] == ["done"]
    assert to_assess(client.get(QUEUE, {"sort": "-due"})) == ["early", "late"]
    assert to_assess(client.get(QUEUE, {"q": "globex"})) == ["late"]
    assert to_assess(client.get(QUEUE, {"priority": "high"})) == ["late"]
    assert to_assess(client.get(QUEUE, {"customer": customer.name})) == ["early"]
    assert to_assess(client.get(QUEUE, {"customer": "gbx"})) == ["late"]  # Globex's ERP code, in any case
    # Procurement's share of Monday's window (70% of 40 business h from Monday 10:00) is still running.
    assert to_assess(client.get(QUEUE, {"due": "on track"})) == ["late", "early"]
    assert to_assess(client.get(QUEUE, {"due": "breached"})) == []
    # Only the user's own departments are offered.
    offered = client.get(QUEUE).context["filter"].form.fields["department"].queryset
    assert [d.code for d in offered] == ["procurement"]


def test_the_department_queue_due_state_follows_the_department_clock(client, rep, customer, ops_lead, ops_member):
    req = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="tight"), ops_lead, now=MONDAY_1000)
    Assessment.objects.filter(request=req).update(due_at=datetime(2026, 3, 3, 10, 0, tzinfo=UTC))  # Tue 11:00 Berlin
    other = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="overdue"), ops_lead, now=MONDAY_1000)
    Assessment.objects.filter(request=other).update(due_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC))  # Tue 09:00
    client.force_login(ops_member)
    assert to_assess(client.get(QUEUE, {"due": "due soon"})) == ["tight"]
    assert to_assess(client.get(QUEUE, {"due": "breached"})) == ["overdue"]
    request_services.clarification_ask(request_id=req.pk, actor=ops_lead, question="Which alloy?")
    assert to_assess(client.get(QUEUE, {"due": "paused"})) == ["tight"]


def sections(response) -> tuple[list[str], list[str]]:
    queue = response.context["queue"]
    return [row.request.title for row in queue.to_assess], [row.request.title for row in queue.assessed]


def test_a_request_leaves_the_department_queue_with_its_answer_and_comes_back_for_a_revision(
    client, rep, customer, ops_lead, ops_member,
):
    pending = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="pending"), ops_lead, now=MONDAY_1000)
    done = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="done"), ops_lead, now=MONDAY_1000)
    assess(done, "procurement", ops_member, now=TUESDAY_0930)
    client.force_login(ops_member)
    assert sections(client.get(QUEUE)) == (["pending"], ["done"])

    publish(done, ops_lead)
    assert sections(client.get(QUEUE)) == (["pending"], [])
    revision_request(request_id=done.pk, actor=rep, reason="The customer can take 400 now")
    assert sections(client.get(QUEUE)) == (["pending"], ["done"])
    # Waiting on Sales is still the department's work (its clock paused); withdrawn is not.
    request_services.clarification_ask(request_id=pending.pk, actor=ops_lead, question="Which alloy?")
    assert sections(client.get(QUEUE)) == (["pending"], ["done"])
    request_services.request_withdraw(request_id=pending.pk, actor=rep)
    assert sections(client.get(QUEUE)) == ([], ["done"])


def test_the_department_queue_shows_what_was_handed_to_its_owner_and_other_departments_pending(
    client, rep, customer, ops_lead, ops_member, stores_member,
):
    both = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="both"), ops_lead, now=MONDAY_1000,
                       departments=["procurement", "stores"])
    acknowledge(file_request(rep, customer, now=MONDAY_0900, title="stores only"), ops_lead, now=MONDAY_1000,
                departments=["stores"])
    handed = acknowledge(file_request(rep, customer, now=MONDAY_0900, title="handed over"), ops_lead, now=MONDAY_1000,
                         departments=["shipping"])
    Assessment.objects.filter(request=handed).update(owner=ops_member)  # a lead hands shipping's work to them
    client.force_login(ops_member)
    response = client.get(QUEUE)
    assert sections(response) == (["both", "handed over"], [])
    assert [row.others_pending for row in response.context["queue"].to_assess] == [["Stores"], []]
    assess(both, "stores", stores_member, now=TUESDAY_0930)
    assert [row.others_pending for row in client.get(QUEUE).context["queue"].to_assess] == [[], []]


def test_each_section_of_a_long_department_queue_comes_in_its_own_pages(client, rep, customer, ops_lead, ops_member):
    for i in range(28):
        req = acknowledge(file_request(rep, customer, now=MONDAY_0900, title=f"open {i:02d}"), ops_lead, now=MONDAY_1000)
        if i < 2:
            assess(req, "procurement", ops_member, now=TUESDAY_0930)
    client.force_login(ops_member)
    first = client.get(QUEUE, {"sort": "-submitted"})  # all filed at once: the last filed first
    queue = first.context["queue"]
    assert (queue.to_assess.count_label, queue.assessed.count_label) == ("26", "2")
    assert sections(first)[0][:2] == ["open 27", "open 26"] and len(sections(first)[0]) == 25
    assert "1–25 of 26" in first.content.decode()
    assert sections(client.get(QUEUE, {"sort": "-submitted", "page": "2"})) == (["open 02"], ["open 01", "open 00"])
