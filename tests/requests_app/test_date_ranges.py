"""Every date a person types has a sane range: a requested delivery, an alternative's delivery and a
department's earliest date for the full quantity lie at most ten years ahead. A year 9999 is a
typo that every page, clock and export would carry; it is refused in words, the input kept."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from analysis import services as ops
from analysis.models import Answer, Assessment, Verdict
from requests_app.forms import RequestForm
from requests_app.models import FeasibilityRequest
from tests.requests_app.sales_factories import file_request, filing_form_data

pytestmark = pytest.mark.django_db

# Wednesday 4 March 2026, 10:00 in Berlin: the last date accepted is 4 March 2036.
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def wednesday():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize(("typed", "accepted"), [("2036-03-04", True), ("2036-03-05", False), ("9999-12-31", False)])
def test_the_requested_delivery_date_lies_at_most_ten_years_ahead(customer, product, typed, accepted):
    form = RequestForm(data=filing_form_data(customer, product, requested_date=typed))
    assert form.is_valid() is accepted, form.errors
    if not accepted:
        assert form.errors["requested_date"] == ["Choose a date on or before 04 Mar 2036 (10 years ahead)."]


def test_a_far_delivery_date_is_refused_on_the_filing_page_and_kept(client, rep, customer, product):
    client.force_login(rep)
    response = client.post(reverse("requests_app:create"), filing_form_data(customer, product, requested_date="9999-12-31"))
    page = response.content.decode()
    assert response.status_code in (200, 400)
    assert "Choose a date on or before 04 Mar 2036 (10 years ahead)." in page and 'value="9999-12-31"' in page
    assert not FeasibilityRequest.objects.exists()


@pytest.fixture
def routed(rep, customer, product, ops_lead) -> FeasibilityRequest:
    req = file_request(rep, customer, product, now=NOW)
    return ops.request_acknowledge(request_id=req.pk, actor=ops_lead, departments=["procurement"], now=NOW)


def test_a_department_s_earliest_date_far_ahead_is_refused(routed, ops_member):
    assessment = Assessment.objects.get(request=routed)
    with pytest.raises(ValidationError) as refused:
        ops.assessment_save(assessment_id=assessment.pk, actor=ops_member, expected_version=assessment.version,
                            data={"verdict": Verdict.CAN, "cost_currency": "EUR", "earliest_full_date": date(9999, 1, 1)},
                            constraints=[], now=NOW)
    assert refused.value.message_dict["earliest_full_date"] == ["Choose a date on or before 04 Mar 2036 (10 years ahead)."]
    assert not Assessment.objects.get(pk=assessment.pk).is_done


@pytest.mark.parametrize("publish", [False, True], ids=["draft", "publish"])
def test_an_alternative_delivered_in_the_year_5000_is_refused(routed, ops_lead, publish):
    save = ops.answer_publish if publish else ops.answer_save_draft
    alternative = {"quantity": Decimal(300), "delivery_date": date(5000, 1, 1), "currency": "EUR"}
    refusal = "Alternative 1's delivery date is too far ahead. Choose a date on or before 04 Mar 2036"
    with pytest.raises(ValidationError, match=refusal):
        save(request_id=routed.pk, actor=ops_lead, decision="alternatives", summary="Later", justification="",
             alternatives=[alternative], expected_version=None, now=NOW)
    assert not Answer.objects.exists()


def test_the_composer_refuses_a_far_alternative_and_keeps_it(client, routed, ops_lead):
    client.force_login(ops_lead)
    response = client.post(reverse("analysis:answer_compose", args=[routed.pk]), {
        "action": "save", "decision": "alternatives", "summary": "Later", "justification": "", "version": "",
        "alt-TOTAL_FORMS": "1", "alt-INITIAL_FORMS": "0", "alt-MIN_NUM_FORMS": "0", "alt-MAX_NUM_FORMS": "20",
        "alt-0-quantity": "300", "alt-0-delivery_date": "2040-01-01", "alt-0-currency": "EUR",
    })
    page = response.content.decode()
    assert "Choose a date on or before 04 Mar 2036 (10 years ahead)." in page and 'value="2040-01-01"' in page
    assert not Answer.objects.exists()


@pytest.mark.parametrize("url", ["requests_app:list", "requests_app:export"])
def test_a_list_filter_date_past_the_range_is_a_message_not_a_server_error(client, rep, url):
    client.force_login(rep)
    response = client.get(reverse(url), {"submitted_to": "9999-12-31"})
    assert response.status_code == 200
    if url == "requests_app:list":
        assert "Choose a date on or before 04 Mar 2036 (10 years ahead)." in response.content.decode()
