"""The answer-by a lead promises: in working time, not too soon, not too far ahead.

Head office calendar: Europe/Berlin, Monday to Friday 08:00-12:00 and 13:00-17:00, German public
holidays. A normal-priority request filed Monday 2 March 2026 09:00 CET, acknowledged an hour later.
A date outside working time is refused with the next working time proposed (and accepted in one
click on the form); one beyond the policy's horizon is refused outright, and costs nothing to check.
"""

from __future__ import annotations

import time as wallclock
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from analysis import services
from requests_app import services_sla
from requests_app.models import FeasibilityRequest, Priority, RequestEvent, SlaPolicy, Status
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, file_request

pytestmark = pytest.mark.django_db

CET_MONDAY_NEXT_0800 = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # Mon 9 Mar 08:00 CET


def cet(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2026) -> datetime:
    """A Berlin wall time in March 2026 (CET, UTC+1) as UTC."""
    return datetime(year, month, day, hour - 1, minute, tzinfo=UTC)


@pytest.fixture(autouse=True)
def monday_ten():
    with time_machine.travel(MONDAY_1000, tick=False):
        yield


@pytest.fixture
def submitted(rep, customer):
    return file_request(rep, customer, now=MONDAY_0900)


def refusal(call) -> services.PromiseError:
    with pytest.raises(services.PromiseError) as caught:
        call()
    return caught.value


def assert_nothing_saved(req: FeasibilityRequest) -> None:
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED
    assert req.answer_due == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # the policy's, from submission
    assert not RequestEvent.objects.filter(request=req, kind=RequestEvent.Kind.ACKNOWLEDGED).exists()


@pytest.mark.parametrize(
    ("answer_by", "why", "proposal"),
    [
        # Saturday 7 March, 10:00: the next working time is Monday 08:00.
        (cet(7, 10), "is not a working day", CET_MONDAY_NEXT_0800),
        # Tuesday 19:00: the next opening is Wednesday 08:00.
        (cet(3, 19), "is outside working hours", cet(4, 8)),
        # Tuesday 12:30, lunch: 13:00.
        (cet(3, 12, 30), "is outside working hours", cet(3, 13)),
        # Good Friday 3 April 2026 (CEST, UTC+2); Easter Monday is a holiday too: Tuesday 7 April 08:00 CEST.
        (datetime(2026, 4, 3, 8, 0, tzinfo=UTC), "is a public holiday (Good Friday)", datetime(2026, 4, 7, 6, 0, tzinfo=UTC)),
        # Monday 10:30 leaves half an hour; the policy asks for at least one business hour: 11:00.
        (cet(2, 10, 30), "leaves less than the 1 business hour", cet(2, 11)),
        # An hour ago.
        (cet(2, 9), "must be in the future", cet(2, 11)),
    ],
)
def test_an_answer_by_outside_working_time_or_too_soon_is_refused_with_the_next_possible_one(
    submitted, ops_lead, answer_by, why, proposal
):
    refused = refusal(lambda: acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=answer_by, reason="needs parts"))

    assert why in refused.message_dict["answer_due"][0]
    assert refused.proposal == proposal
    assert_nothing_saved(submitted)


def test_the_proposal_is_worded_in_the_leads_time_zone(submitted, ops_lead):
    refused = refusal(lambda: acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=cet(7, 10)))

    assert refused.message_dict["answer_due"] == [
        "Sat 07 Mar 2026, 10:00 CET is not a working day; an answer-by lies in working hours. "
        "The next possible answer-by is Mon 09 Mar 2026, 08:00 CET."
    ]


@pytest.mark.parametrize("answer_by", [cet(3, 17), cet(3, 12), cet(3, 8), cet(2, 11)])
def test_a_period_end_an_opening_and_the_earliest_time_are_accepted(submitted, ops_lead, answer_by):
    req = acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=answer_by)

    assert (req.status, req.answer_due) == (Status.IN_ANALYSIS, answer_by)


@pytest.mark.parametrize("year", [2300, 5000, 9998])
def test_an_answer_by_years_ahead_is_refused_at_once_even_with_a_reason(submitted, ops_lead, year):
    began = wallclock.perf_counter()
    refused = refusal(
        lambda: acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=datetime(year, 6, 1, 8, tzinfo=UTC), reason="x")
    )
    elapsed = wallclock.perf_counter() - began

    assert refused.message_dict["answer_due"][0].endswith(
        "is too far ahead: an answer-by can be at most 90 days away (until Sun 31 May 2026, 11:00 CEST). "
        "Promise what Operations can keep and extend it later if needed."
    )
    assert refused.proposal is None
    assert elapsed < 0.5
    assert_nothing_saved(submitted)


def test_the_horizon_is_the_policy_versions_own(submitted, ops_lead, manager):
    policy = SlaPolicy.objects.current().get(priority=Priority.NORMAL)
    services_sla.sla_policy_update(actor=manager, policy_id=policy.pk, values={"max_horizon_days": 30}, now=MONDAY_0900)
    filed_after = file_request(submitted.requested_by, submitted.customer, now=MONDAY_0900)
    ninety_days_policy = submitted  # filed before the change: keeps the 90 days of its version
    day_40 = datetime(2026, 4, 10, 8, tzinfo=UTC)  # Friday 10 April 10:00 CEST, 39 days ahead

    refused = refusal(lambda: acknowledge(filed_after, ops_lead, now=MONDAY_1000, answer_due=day_40, reason="long lead time"))
    assert "at most 30 days away" in refused.message_dict["answer_due"][0]
    kept = acknowledge(ninety_days_policy, ops_lead, now=MONDAY_1000, answer_due=day_40, reason="long lead time")
    assert kept.answer_due == day_40


def test_the_policy_default_needs_no_check_and_is_always_accepted(submitted, ops_lead):
    req = acknowledge(submitted, ops_lead, now=MONDAY_1000)

    assert req.answer_due == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# Extending follows the same rules
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def routed(submitted, ops_lead):
    return acknowledge(submitted, ops_lead, now=MONDAY_1000)


def extend(req, lead, answer_due):
    return services.answer_by_extend(request_id=req.pk, actor=lead, answer_due=answer_due, reason="a supplier is late")


def test_an_extension_to_a_sunday_is_refused_with_monday_proposed(routed, ops_lead):
    refused = refusal(lambda: extend(routed, ops_lead, cet(15, 12)))  # Sunday 15 March

    assert refused.proposal == cet(16, 8)
    routed.refresh_from_db()
    assert routed.answer_due == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def test_an_extension_to_the_year_5000_is_refused(routed, ops_lead):
    refused = refusal(lambda: extend(routed, ops_lead, datetime(5000, 1, 4, 9, tzinfo=UTC)))

    assert "too far ahead" in refused.message_dict["answer_due"][0]


def test_an_extension_in_working_time_within_the_horizon_is_saved(routed, ops_lead):
    assert extend(routed, ops_lead, cet(17, 15)).answer_due == cet(17, 15)


def test_a_refusal_is_a_validation_error_for_every_caller(routed, ops_lead):
    with pytest.raises(ValidationError):
        extend(routed, ops_lead, cet(14, 10))


# --------------------------------------------------------------------------------------------------
# The pages: the proposal shown, accepted in one click
# --------------------------------------------------------------------------------------------------


def test_the_acknowledge_page_offers_the_next_working_time_and_one_click_takes_it(client, submitted, ops_lead):
    client.force_login(ops_lead)
    url = reverse("analysis:acknowledge", args=[submitted.pk])
    form = {"departments": [str(pk) for pk in _department_ids("procurement")], "answer_due": "2026-03-07T10:00",
            "reason": "", "version": submitted.version}

    shown = client.post(url, form)

    page = shown.content.decode()
    assert shown.status_code == 200
    assert "is not a working day" in page
    assert 'name="use_proposal" value="2026-03-09T08:00"' in page
    assert 'value="2026-03-07T10:00"' in page  # the lead's input is kept
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED

    taken = client.post(url, {**form, "use_proposal": "2026-03-09T08:00"})

    assert taken.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.status, submitted.answer_due) == (Status.IN_ANALYSIS, CET_MONDAY_NEXT_0800)


def test_the_extend_page_refuses_a_far_date_and_keeps_the_input(client, routed, ops_lead):
    client.force_login(ops_lead)
    url = reverse("analysis:extend_answer_by", args=[routed.pk])

    response = client.post(url, {"answer_due": "5000-01-04T10:00", "reason": "late steel", "version": routed.version})

    page = response.content.decode()
    assert response.status_code == 200
    assert "too far ahead" in page and "late steel" in page
    assert "use_proposal" not in page  # nothing to propose beyond the horizon


def _department_ids(*codes: str) -> list[int]:
    from requests_app.models import Department

    return list(Department.objects.filter(code__in=codes).values_list("pk", flat=True))


def test_the_policy_minimum_is_a_business_time_minimum(submitted, ops_lead, manager):
    policy = SlaPolicy.objects.current().get(priority=Priority.NORMAL)
    services_sla.sla_policy_update(actor=manager, policy_id=policy.pk, values={"min_answer_hours": Decimal(4)}, now=MONDAY_0900)
    filed_after = file_request(submitted.requested_by, submitted.customer, now=MONDAY_0900)

    # Monday 10:00 + 4 business hours = 15:00 (lunch does not count).
    refused = refusal(lambda: acknowledge(filed_after, ops_lead, now=MONDAY_1000, answer_due=cet(2, 14)))

    assert refused.proposal == cet(2, 15)
    assert "leaves less than the 4 business hours" in refused.message_dict["answer_due"][0]
