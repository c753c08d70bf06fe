"""The API's writes, per role: the same services as the pages, so the same rules (403 with the
rulebook's reason for a caller who may see but not act, 404 for one who may not see), the same
optimistic lock (409 on a stale version), and bad input refused with a 400 naming each field,
nothing half-saved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analysis import services as ops
from analysis.models import Answer, Assessment, Decision
from requests_app.models import Comment, Customer, FeasibilityRequest, Notification, Product, Status
from tests.integrations.api_support import api
from tests.requests_app.sales_factories import acknowledge, file_request, publish

pytestmark = pytest.mark.django_db


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def filing(the_customer, the_product=None, /, **overrides) -> dict:
    body = {"title": "500 brackets by end of month", "customer": the_customer.pk, "quantity": "500",
            "requested_date": in_days(30), "target_price": "12.50", "deal_value": "6250", "currency": "EUR",
            "priority": "normal", "description": "One-off batch."}
    if the_product is not None:
        body["product"] = the_product.pk
    else:
        body["part_description"] = "Custom bracket"
    body.update(overrides)
    return body


# ---------------------------------------------------------------------------------------------
# Filing


def test_a_rep_files_a_request_and_reads_it_back(ops_lead, rep, customer, product):
    response = api(rep).post("/api/v1/requests/", filing(customer, product), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    req = FeasibilityRequest.objects.get(pk=body["id"])
    assert (req.status, req.requested_by, req.customer, req.product, req.quantity, req.unit) == (
        Status.SUBMITTED, rep, customer, product, Decimal("500"), "pcs")
    assert body["reference"] == req.reference and body["status"] == "submitted"
    assert Notification.objects.filter(user=ops_lead, kind="submitted", request=req).count() == 1


def test_a_draft_is_filed_with_submit_false_and_submitted_later(rep, customer):
    client = api(rep)
    body = client.post("/api/v1/requests/", {**filing(customer), "submit": False,
                                             "new_customer": "Brand New GmbH", "customer": None}, format="json").json()
    assert body["status"] == "draft" and body["reference"] is None and body["customer"]["name"] == "Brand New GmbH"
    submitted = client.post(f"/api/v1/requests/{body['id']}/submit/")
    assert submitted.status_code == 200 and submitted.json()["reference"].startswith("S2O-")


@pytest.mark.parametrize("role", ["ops_lead", "ops_member", "manager", "nobody"])
def test_only_sales_file_requests(request, role, customer):
    response = api(request.getfixturevalue(role)).post("/api/v1/requests/", filing(customer), format="json")
    assert response.status_code == 403 and response.json()["detail"] == "Only Sales files feasibility requests."
    assert not FeasibilityRequest.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"title": ""}, "title"),
    ({"title": "x" * 1_000_000}, "title"),
    ({"title": "bad\x00title"}, "title"),
    ({"description": "y" * 10_001}, "description"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "NaN"}, "quantity"),
    ({"quantity": "Infinity"}, "quantity"),
    ({"quantity": "1e400"}, "quantity"),
    ({"quantity": "123456789012345"}, "quantity"),
    ({"deal_value": "-5"}, "deal_value"),
    ({"requested_date": "2020-01-01"}, "requested_date"),
    ({"requested_date": "9999-12-31"}, "requested_date"),
    ({"requested_date": "31/12/2026"}, "requested_date"),
    ({"customer": 2**40}, "customer"),
    ({"customer": "abc"}, "customer"),
    ({"customer": None}, "customer"),
    ({"customer": True}, "customer"),
    ({"product": 999999}, "product"),
    ({"currency": "XXX"}, "currency"),
    ({"priority": "asap"}, "priority"),
    ({"part_description": ""}, "part_description"),
    ({"new_customer": "Someone Else"}, "new_customer"),
])
def test_bad_input_is_a_400_naming_the_field_and_files_nothing(rep, customer, change, field):
    response = api(rep).post("/api/v1/requests/", filing(customer, **change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not FeasibilityRequest.objects.exists()


def test_several_bad_fields_are_named_together(rep, customer):
    errors = api(rep).post("/api/v1/requests/", filing(customer, title="", quantity="-1", currency="XXX"),
                           format="json").json()
    assert set(errors) == {"title", "quantity", "currency"}


def test_json_that_is_not_json_or_carries_nan_is_a_400(rep, customer):
    client = api(rep)
    broken = client.post("/api/v1/requests/", data='{"title": ', content_type="application/json")
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    nan = client.post("/api/v1/requests/", data='{"title": "x", "quantity": NaN}', content_type="application/json")
    assert nan.status_code == 400


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_a_retry_with_the_same_key_returns_the_first_request_and_files_nothing_more(ops_lead, rep, customer):
    client = api(rep)
    first = client.post("/api/v1/requests/", filing(customer), format="json", HTTP_IDEMPOTENCY_KEY="crm-4711")
    again = client.post("/api/v1/requests/", filing(customer), format="json", HTTP_IDEMPOTENCY_KEY="crm-4711")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert FeasibilityRequest.objects.count() == 1
    assert Notification.objects.filter(user=ops_lead, kind="submitted").count() == 1


def test_the_same_key_with_another_body_is_refused(rep, customer):
    client = api(rep)
    client.post("/api/v1/requests/", filing(customer), format="json", HTTP_IDEMPOTENCY_KEY="crm-4711")
    reused = client.post("/api/v1/requests/", filing(customer, quantity="600"), format="json",
                         HTTP_IDEMPOTENCY_KEY="crm-4711")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused" and "different body" in reused.json()["detail"]
    assert FeasibilityRequest.objects.get().quantity == Decimal("500")


def test_keys_are_each_users_own_and_a_failed_filing_does_not_use_one_up(rep, teammate, customer):
    assert api(rep).post("/api/v1/requests/", filing(customer, title=""), format="json",
                         HTTP_IDEMPOTENCY_KEY="k1").status_code == 400
    assert api(rep).post("/api/v1/requests/", filing(customer), format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    assert api(teammate).post("/api/v1/requests/", filing(customer), format="json",
                              HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    assert FeasibilityRequest.objects.count() == 2


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "naïve"])
def test_a_malformed_key_is_a_400(rep, customer, key):
    response = api(rep).post("/api/v1/requests/", filing(customer), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not FeasibilityRequest.objects.exists()


# ---------------------------------------------------------------------------------------------
# Sales' actions


@pytest.fixture
def north(rep, customer, product) -> FeasibilityRequest:
    return file_request(rep, customer, product)


def test_the_author_withdraws_a_teammate_may_not_and_an_outsider_does_not_see_it(north, rep, teammate, other_rep):
    url = f"/api/v1/requests/{north.reference}/withdraw/"
    refused = api(teammate).post(url, {"reason": "dup"}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only the author or their sales manager can withdraw this request.",
                              "code": "permission_denied"}
    assert api(other_rep).post(url, {}, format="json").status_code == 404
    done = api(rep).post(url, {"reason": "Customer changed plans"}, format="json")
    assert done.status_code == 200 and (done.json()["status"], done.json()["outcome"]) == ("closed", "withdrawn")
    again = api(rep).post(url, {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"


def test_an_outcome_before_the_answer_needs_a_reason(north, rep, sales_manager):
    url = f"/api/v1/requests/{north.reference}/outcome/"
    missing = api(rep).post(url, {"outcome": "lost"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    assert api(rep).post(url, {"outcome": "won"}, format="json").json().keys() == {"outcome"}
    done = api(sales_manager).post(url, {"outcome": "evaporated", "reason": "Project cancelled"}, format="json")
    assert done.status_code == 200 and done.json()["outcome"] == "evaporated"


def test_comments_are_added_by_the_author_and_operations(north, rep, ops_lead, teammate):
    url = f"/api/v1/requests/{north.reference}/comments/"
    created = api(rep).post(url, {"body": "Drawing rev B attached"}, format="json")
    assert created.status_code == 201 and created.json()["body"] == "Drawing rev B attached"
    assert api(ops_lead).post(url, {"body": "Thanks"}, format="json").status_code == 201
    assert api(teammate).post(url, {"body": "me too"}, format="json").status_code == 403
    assert api(rep).post(url, {"body": "   "}, format="json").status_code == 400
    assert api(rep).post(url, {"body": "z" * 5001}, format="json").status_code == 400
    assert list(Comment.objects.values_list("body", flat=True)) == ["Drawing rev B attached", "Thanks"]


def test_sales_accept_an_alternative_of_the_current_answer(north, rep, ops_lead, teammate):
    answer = publish(acknowledge(north, ops_lead), ops_lead, decision=Decision.ALTERNATIVES, alternatives=2)
    second = answer.alternatives.get(position=1)
    url = f"/api/v1/requests/{north.reference}/accept-alternative/"
    assert api(teammate).post(url, {"alternative": second.pk}, format="json").status_code == 403
    unknown = api(rep).post(url, {"alternative": 2**31 - 1}, format="json")
    assert unknown.status_code == 400 and "alternative" in unknown.json()
    done = api(rep).post(url, {"alternative": second.pk}, format="json")
    assert done.status_code == 200 and done.json()["outcome"] == "alternative_accepted"
    second.refresh_from_db()
    assert second.accepted_by == rep


@pytest.mark.parametrize(("action", "reason", "status", "outcome"), [
    ("decline", "Too late", "closed", "declined"),
    ("revise", "Now 400 pcs", "in_analysis", None),  # open again: no outcome (null, not "")
])
def test_sales_decide_on_the_answer(north, rep, ops_lead, action, reason, status, outcome):
    publish(acknowledge(north, ops_lead), ops_lead, decision=Decision.ALTERNATIVES, alternatives=1)
    url = f"/api/v1/requests/{north.reference}/decision/"
    assert api(rep).post(url, {"action": action}, format="json").status_code == 400
    done = api(rep).post(url, {"action": action, "reason": reason}, format="json")
    assert done.status_code == 200 and (done.json()["status"], done.json()["outcome"]) == (status, outcome)


# ---------------------------------------------------------------------------------------------
# Operations: assessments and answers


@pytest.fixture
def routed(north, ops_lead) -> FeasibilityRequest:
    return ops.request_acknowledge(request_id=north.pk, actor=ops_lead, departments=["procurement", "stores"])


def assessment_body(version: int, /, **overrides) -> dict:
    body = {"verdict": "can_with_conditions", "quantity_feasible": "300", "earliest_full_date": in_days(60),
            "cost_impact": "1200.00", "cost_currency": "EUR", "cost_basis": "total", "constraints": ["supplier_lead_time"],
            "notes": "Supplier X only", "version": version}
    body.update(overrides)
    return body


def test_a_department_member_records_its_assessment(routed, ops_member):
    assessment = Assessment.objects.get(request=routed, department__code="procurement")
    url = f"/api/v1/requests/{routed.reference}/assessments/procurement/"
    done = api(ops_member).put(url, assessment_body(assessment.version), format="json")
    assert done.status_code == 200, done.content
    assert (done.json()["verdict"], done.json()["notes"], done.json()["version"]) == (
        "can_with_conditions", "Supplier X only", assessment.version + 1)
    assessment.refresh_from_db()
    assert assessment.assessed_by == ops_member and assessment.cost_impact == Decimal("1200.00")


def test_a_stale_version_is_a_409_and_changes_nothing(routed, ops_member):
    assessment = Assessment.objects.get(request=routed, department__code="procurement")
    url = f"/api/v1/requests/{routed.reference}/assessments/procurement/"
    client = api(ops_member)
    assert client.put(url, assessment_body(assessment.version), format="json").status_code == 200
    stale = client.put(url, assessment_body(assessment.version, notes="Overwrite"), format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert Assessment.objects.get(pk=assessment.pk).notes == "Supplier X only"


def test_other_departments_and_sales_may_not_write_an_assessment(routed, stores_member, rep, other_rep):
    url = f"/api/v1/requests/{routed.reference}/assessments/procurement/"
    refused = api(stores_member).put(url, assessment_body(1), format="json")
    assert refused.status_code == 403 and "Only members of this department" in refused.json()["detail"]
    assert api(rep).put(url, assessment_body(1), format="json").status_code == 403
    assert api(other_rep).put(url, assessment_body(1), format="json").status_code == 404
    assert not Assessment.objects.filter(assessed_at__isnull=False).exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"verdict": "maybe"}, "verdict"),
    ({"verdict": "cannot", "constraints": []}, "constraints"),
    ({"quantity_feasible": "900"}, "quantity_feasible"),
    ({"constraints": ["gremlins"]}, "constraints"),
    ({"earliest_full_date": "2001-01-01"}, "earliest_full_date"),
    ({"version": -1}, "version"),
    ({"notes": "n" * 10_001}, "notes"),
])
def test_a_bad_assessment_is_a_400_naming_the_field(routed, ops_member, change, field):
    url = f"/api/v1/requests/{routed.reference}/assessments/procurement/"
    response = api(ops_member).put(url, assessment_body(1, **change), format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_the_lead_drafts_and_publishes_the_answer(routed, ops_lead, rep, ops_member):
    url = f"/api/v1/requests/{routed.reference}/answer-draft/"
    body = {"decision": "alternatives", "summary": "Two ways", "justification": "", "version": None,
            "alternatives": [{"quantity": "300", "delivery_date": in_days(20), "conditions": "Part now",
                              "works_around": "supplier_lead_time", "recommended": True},
                             {"quantity": "500", "delivery_date": in_days(60), "cost_delta": "80.00",
                              "cost_basis": "per_unit", "price": "14.00", "currency": "USD", "cost_currency": "EUR"}]}
    assert api(ops_member).put(url, body, format="json").status_code == 403
    assert api(rep).put(url, body, format="json").status_code == 403
    draft = api(ops_lead).put(url, body, format="json")
    assert draft.status_code == 200, draft.content
    assert [a["quantity"] for a in draft.json()["alternatives"]] == ["300.000", "500.000"]
    # The price in the customer's currency, the cost delta in its own; one left out is the price's.
    assert [(a["currency"], a["cost_currency"]) for a in draft.json()["alternatives"]] == [("EUR", "EUR"), ("USD", "EUR")]
    stale = api(ops_lead).post(url + "publish/", {"version": draft.json()["version"] - 1}, format="json")
    assert stale.status_code == 409
    published = api(ops_lead).post(url + "publish/", {"version": draft.json()["version"]}, format="json")
    assert published.status_code == 200 and published.json()["decision"] == "alternatives"
    assert FeasibilityRequest.objects.get(pk=routed.pk).status == Status.ANSWERED
    assert Answer.objects.get(request=routed).published_by == ops_lead


def test_publishing_an_answer_that_breaks_the_rules_is_a_400(routed, ops_lead):
    url = f"/api/v1/requests/{routed.reference}/answer-draft/"
    draft = api(ops_lead).put(url, {"decision": "no", "summary": "", "version": None}, format="json").json()
    refused = api(ops_lead).post(url + "publish/", {"version": draft["version"]}, format="json")
    assert refused.status_code == 400 and "justification" in refused.json()
    assert FeasibilityRequest.objects.get(pk=routed.pk).status == Status.IN_ANALYSIS


# ---------------------------------------------------------------------------------------------
# Master data


def test_sales_leads_and_managers_add_customers_and_only_leads_and_managers_add_parts(rep, ops_lead, ops_member, manager):
    assert api(rep).post("/api/v1/customers/", {"name": "Nova AG", "code": "C-77"}, format="json").status_code == 201
    assert api(manager).post("/api/v1/customers/", {"name": "Orbit plc"}, format="json").status_code == 201
    refused = api(ops_member).post("/api/v1/customers/", {"name": "Member's own"}, format="json")
    assert refused.status_code == 403
    assert api(rep).post("/api/v1/products/", {"sku": "X-1", "name": "Thing"}, format="json").status_code == 403
    part = api(ops_lead).post("/api/v1/products/", {"sku": "X-1", "name": "Thing", "unit": "kg"}, format="json")
    assert part.status_code == 201 and part.json()["unit"] == "kg"
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Nova AG", "Orbit plc"]
    assert list(Product.objects.values_list("sku", flat=True)) == ["X-1"]


def test_a_duplicate_customer_or_part_is_a_400_naming_the_field(rep, ops_lead, customer, product):
    dup = api(rep).post("/api/v1/customers/", {"name": "ACME industrial"}, format="json")
    assert dup.status_code == 400 and "exists already" in dup.json()["name"][0]
    assert api(ops_lead).post("/api/v1/products/", {"sku": "brk-100", "name": "Again"}, format="json").json().keys() == {"sku"}
    assert Customer.objects.count() == 1 and Product.objects.count() == 1



def test_a_cost_without_its_basis_is_refused_naming_the_field_and_nothing_is_saved(routed, ops_member):
    assessment = Assessment.objects.get(request=routed, department__code="procurement")
    url = f"/api/v1/requests/{routed.reference}/assessments/procurement/"
    refused = api(ops_member).put(url, assessment_body(assessment.version, cost_basis=""), format="json")
    assert refused.status_code == 400
    assert refused.json() == {"cost_basis": ["Say whether the cost impact is per unit or for the whole quantity."]}
    assessment.refresh_from_db()
    assert assessment.assessed_at is None and assessment.cost_impact is None
    done = api(ops_member).put(url, assessment_body(assessment.version), format="json")
    assert done.status_code == 200 and done.json()["cost_basis"] == "total"
