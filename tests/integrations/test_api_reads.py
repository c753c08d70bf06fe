"""The API's reads, per role: the same scoping as the pages (404 for what a caller may not see), and
Sales reading exactly what Sales reads on the request page — never a department's notes, cost
impact, assessor or due time, nor an alternative's cost delta."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analysis import services as ops
from analysis.models import Alternative, Decision, Verdict
from requests_app import services as sales
from requests_app.models import Customer, FeasibilityRequest, Notification, Product
from tests.analysis.ops_helpers import constraint
from tests.integrations.api_support import api, references, results
from tests.requests_app.sales_factories import file_request, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(rep, customer, product) -> FeasibilityRequest:
    return file_request(rep, customer, product, title="North's brackets")


@pytest.fixture
def south(other_rep, customer, product) -> FeasibilityRequest:
    return file_request(other_rep, customer, product, title="South's brackets")


@pytest.fixture
def assessed(north, ops_lead, ops_member) -> FeasibilityRequest:
    """North's request acknowledged, routed to procurement and assessed with notes and a cost."""
    ops.request_acknowledge(request_id=north.pk, actor=ops_lead, departments=["procurement"])
    assessment = north.assessments.get()
    ops.assessment_save(
        assessment_id=assessment.pk, actor=ops_member, expected_version=assessment.version,
        data={"verdict": Verdict.CAN_WITH_CONDITIONS, "quantity_feasible": Decimal("300"),
              "earliest_full_date": timezone.localdate() + timedelta(days=60), "cost_impact": Decimal("1200.00"),
              "cost_currency": "EUR", "cost_basis": "total",
              "notes": "Supplier X only; margin thin"},
        constraints=[constraint("supplier_lead_time")],
    )
    return FeasibilityRequest.objects.get(pk=north.pk)


def test_without_a_token_or_session_every_endpoint_answers_401(north):
    anonymous = api()
    for url in ("/api/v1/requests/", f"/api/v1/requests/{north.reference}/", "/api/v1/customers/",
                "/api/v1/notifications/", "/api/v1/dashboard/", "/api/v1/me/"):
        response = anonymous.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_list_shows_each_role_what_the_requests_page_shows(
    north, south, rep, teammate, sales_manager, other_rep, ops_member, ops_lead, manager, nobody, customer, product,
):
    draft = file_request(rep, customer, product, submit=False, title="Rita's draft")
    routed = file_request(teammate, customer, product, title="Routed to procurement")
    ops.request_acknowledge(request_id=routed.pk, actor=ops_lead, departments=["procurement"])

    assert references(api(rep).get("/api/v1/requests/")) == {north.reference, routed.reference, f"draft:{draft.pk}"}
    assert references(api(teammate).get("/api/v1/requests/")) == {north.reference, routed.reference}
    assert references(api(sales_manager).get("/api/v1/requests/")) == {north.reference, routed.reference}
    assert references(api(other_rep).get("/api/v1/requests/")) == {south.reference}
    assert references(api(ops_member).get("/api/v1/requests/")) == {routed.reference}
    assert references(api(ops_lead).get("/api/v1/requests/")) == {north.reference, south.reference, routed.reference}
    assert references(api(manager).get("/api/v1/requests/")) == {north.reference, south.reference, routed.reference}
    assert references(api(nobody).get("/api/v1/requests/")) == set()


def test_the_list_takes_the_requests_page_filters(rep, customer, product):
    urgent = file_request(rep, customer, product, title="Urgent gears", priority="urgent")
    other = Customer.objects.create(name="Zeta Motors")
    zeta = file_request(rep, other, product, title="Zeta housings")
    client = api(rep)

    assert references(client.get("/api/v1/requests/", {"priority": "urgent"})) == {urgent.reference}
    assert references(client.get("/api/v1/requests/", {"q": "housings"})) == {zeta.reference}
    assert references(client.get("/api/v1/requests/", {"customer": "Zeta Motors"})) == {zeta.reference}
    assert references(client.get("/api/v1/requests/", {"status": ["closed"]})) == set()
    oldest_first = [row["reference"] for row in results(client.get("/api/v1/requests/", {"sort": "submitted"}))]
    assert oldest_first == [urgent.reference, zeta.reference]


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost_in_space"}, "status"),
    ({"priority": "whenever"}, "priority"),
    ({"submitted_from": "yesterday"}, "submitted_from"),
    ({"customer": "99999999999999999999"}, "customer"),
    ({"sort": "DROP TABLE"}, "sort"),
    ({"page": "0"}, "page"),
    ({"page": "7"}, "page"),
    ({"page_size": "100000"}, "page_size"),
])
def test_a_bad_filter_is_a_400_naming_it(north, rep, params, field):
    response = api(rep).get("/api/v1/requests/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_pages_of_the_list_link_to_each_other(rep, customer, product):
    for i in range(3):
        file_request(rep, customer, product, title=f"Batch {i}")
    page = api(rep).get("/api/v1/requests/", {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2
    assert "page=2" in page["next"] and page["previous"] is None


def test_one_request_by_reference_for_those_who_may_see_it_and_404_for_the_others(
    north, rep, teammate, other_rep, ops_member, nobody,
):
    url = f"/api/v1/requests/{north.reference}/"
    body = api(rep).get(url).json()
    assert (body["reference"], body["title"], body["status"]) == (north.reference, "North's brackets", "submitted")
    assert body["customer"]["name"] == "Acme Industrial" and body["requested_by"]["username"] == "rita"
    assert body["clock"]["clock"] == "acknowledge" and body["version"] == north.version
    assert api(teammate).get(url).status_code == 200
    for outsider in (other_rep, ops_member, nobody):  # not routed to procurement yet
        response = api(outsider).get(url)
        assert response.status_code == 404
        assert "North" not in response.content.decode()
    assert api(rep).get("/api/v1/requests/S2O-1999-99999/").status_code == 404
    assert api(rep).get(f"/api/v1/requests/{'x' * 300}/").status_code == 404


def test_a_draft_is_read_by_its_id_and_only_by_its_author(rep, teammate, customer, product):
    draft = file_request(rep, customer, product, submit=False)
    assert api(rep).get(f"/api/v1/requests/{draft.pk}/").json()["status"] == "draft"
    assert api(teammate).get(f"/api/v1/requests/{draft.pk}/").status_code == 404


def test_sales_read_verdicts_and_dates_but_not_notes_costs_or_assessors(assessed, rep, teammate):
    for reader in (rep, teammate):
        [row] = api(reader).get(f"/api/v1/requests/{assessed.reference}/assessments/").json()
        assert row["department"] == "procurement" and row["verdict"] == "can_with_conditions"
        assert row["quantity_feasible"] == "300.000" and row["constraints"] == ["supplier_lead_time"]
        for internal in ("notes", "cost_impact", "cost_currency", "assessed_by", "owner", "due_at", "met", "version"):
            assert internal not in row
        text = api(reader).get(f"/api/v1/requests/{assessed.reference}/assessments/procurement/").content.decode()
        assert "Supplier X" not in text and "1200" not in text and "paul" not in text


def test_operations_and_managers_read_the_internals(assessed, ops_member, ops_lead, manager):
    for reader in (ops_member, ops_lead, manager):
        [row] = api(reader).get(f"/api/v1/requests/{assessed.reference}/assessments/").json()
        assert (row["notes"], row["cost_impact"], row["assessed_by"]["username"]) == (
            "Supplier X only; margin thin", "1200.00", "paul")


def test_an_assessment_of_a_department_not_routed_is_404(assessed, ops_lead, rep):
    assert api(ops_lead).get(f"/api/v1/requests/{assessed.reference}/assessments/shipping/").status_code == 404
    assert api(rep).get(f"/api/v1/requests/{assessed.reference}/assessments/{'x' * 500}/").status_code == 404


def test_sales_read_the_published_answer_without_cost_deltas(assessed, rep, ops_lead):
    answer = publish(assessed, ops_lead, decision=Decision.ALTERNATIVES, alternatives=2)
    Alternative.objects.filter(answer=answer).update(cost_delta=Decimal("450.00"), cost_basis="total", cost_currency="CHF")
    [seen] = api(rep).get(f"/api/v1/requests/{assessed.reference}/answers/").json()
    assert seen["decision"] == "alternatives" and [a["number"] for a in seen["alternatives"]] == [1, 2]
    assert all("cost_delta" not in a and "cost_currency" not in a for a in seen["alternatives"])
    [lead_sees] = api(ops_lead).get(f"/api/v1/requests/{assessed.reference}/answers/").json()
    assert lead_sees["alternatives"][0]["cost_delta"] == "450.00"
    assert (lead_sees["alternatives"][0]["cost_currency"], lead_sees["alternatives"][0]["cost_basis"]) == ("CHF", "total")


def test_the_draft_answer_is_for_operations_leads_only(assessed, rep, ops_lead, ops_member):
    ops.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision=Decision.YES, summary="Yes we can",
                          justification="", alternatives=[], expected_version=None)
    url = f"/api/v1/requests/{assessed.reference}/answer-draft/"
    assert api(ops_lead).get(url).json()["summary"] == "Yes we can"
    assert api(rep).get(url).status_code == 404
    assert api(ops_member).get(url).status_code == 404


def test_the_timeline_hides_who_assessed_from_sales(assessed, rep, ops_lead):
    kinds = {e["kind"]: e for e in api(rep).get(f"/api/v1/requests/{assessed.reference}/events/").json()}
    assert kinds["assessed"]["actor"] is None and kinds["acknowledged"]["actor"]["username"] == "lena"
    lead_view = {e["kind"]: e for e in api(ops_lead).get(f"/api/v1/requests/{assessed.reference}/events/").json()}
    assert lead_view["assessed"]["actor"]["username"] == "paul"


def test_comments_are_read_by_who_sees_the_request(north, rep, other_rep):
    sales.comment_add(req=north, actor=rep, body="Customer may accept 400")
    [comment] = api(rep).get(f"/api/v1/requests/{north.reference}/comments/").json()
    assert (comment["body"], comment["author"]["username"], comment["kind"]) == ("Customer may accept 400", "rita", "comment")
    assert api(other_rep).get(f"/api/v1/requests/{north.reference}/comments/").status_code == 404


def test_customers_and_products_are_read_by_anyone_with_a_role(rep, ops_member, manager, nobody, customer, product):
    for reader in (rep, ops_member, manager):
        assert [c["name"] for c in results(api(reader).get("/api/v1/customers/"))] == ["Acme Industrial"]
        assert [p["sku"] for p in results(api(reader).get("/api/v1/products/"))] == ["BRK-100"]
    assert api(rep).get(f"/api/v1/customers/{customer.pk}/").json()["name"] == "Acme Industrial"
    assert api(rep).get(f"/api/v1/products/{product.pk}/").json()["unit"] == "pcs"
    assert api(rep).get("/api/v1/products/99999999999/").status_code == 404
    refused = api(nobody).get("/api/v1/customers/")
    assert refused.status_code == 403 and "Sales, Operations and managers" in refused.json()["detail"]
    assert api(nobody).get(f"/api/v1/products/{product.pk}/").status_code == 403


def test_customers_and_products_can_be_searched(rep, customer, product):
    Customer.objects.create(name="Zeta Motors", code="Z-1")
    Product.objects.create(sku="GR-7", name="Gear 7")
    assert [c["name"] for c in results(api(rep).get("/api/v1/customers/", {"q": "zeta"}))] == ["Zeta Motors"]
    assert [p["sku"] for p in results(api(rep).get("/api/v1/products/", {"q": "gear"}))] == ["GR-7"]
    assert api(rep).get("/api/v1/customers/", {"q": "x" * 201}).status_code == 400


def test_notifications_are_each_callers_own_and_can_be_marked_read(ops_lead, north, rep):
    mine = Notification.objects.filter(user=ops_lead).get()  # "submitted", for the lead
    lead = api(ops_lead)
    assert [n["id"] for n in results(lead.get("/api/v1/notifications/", {"unread": "true"}))] == [mine.pk]
    assert results(api(rep).get("/api/v1/notifications/")) == []
    assert api(rep).post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=mine.pk).read_at is None

    marked = lead.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    assert results(lead.get("/api/v1/notifications/", {"unread": "true"})) == []
    assert lead.get("/api/v1/notifications/", {"unread": "maybe"}).status_code == 400


def test_marking_every_notification_read_touches_only_the_callers(ops_lead, north, rep):
    sales.comment_add(req=north, actor=ops_lead, body="Which alloy?")  # tells rita
    assert api(rep).post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert Notification.objects.filter(user=ops_lead, read_at__isnull=True).exists()


def test_the_dashboard_is_for_managers(north, manager, ops_lead, rep):
    body = api(manager).get("/api/v1/dashboard/").json()
    assert body["filter"]["date_to"] == timezone.localdate().isoformat()
    open_now = next(k for k in body["kpis"] if "open" in k["label"].lower())
    assert open_now["value"] == 1
    for refused in (ops_lead, rep):
        response = api(refused).get("/api/v1/dashboard/")
        assert response.status_code == 403 and response.json()["detail"] == "The dashboard is for managers."


@pytest.mark.parametrize(("params", "field"), [
    ({"date_to": "9999-12-31"}, "date_to"),
    ({"date_from": "0001-01-01"}, "date_from"),
    ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "non_field_errors"),
    ({"department": "99999999999"}, "department"),
    ({"priority": "asap"}, "priority"),
])
def test_a_bad_dashboard_filter_is_a_400_naming_it(manager, params, field):
    response = api(manager).get("/api/v1/dashboard/", params)
    assert response.status_code == 400 and field in response.json()


def test_me_says_who_the_token_belongs_to(rep):
    assert api(rep).get("/api/v1/me/").json() == {
        "username": "rita", "name": "Rita", "roles": ["sales_rep"], "departments": [], "sales_teams": ["Team North"],
        "token": "CRM sync",
    }
