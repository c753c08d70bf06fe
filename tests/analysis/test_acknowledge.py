"""Acknowledging is the promise: answer-by from the SLA policy in business time, routing to the
departments, and the rep told when to expect the answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from analysis import services
from analysis.models import Assessment
from requests_app import services as request_services
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import ClockEvent, Notification, Profile, RequestEvent, Status
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, file_request

pytestmark = pytest.mark.django_db

NEXT_MONDAY_0900 = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # +40 business hours (NORMAL policy)
MONDAY_AFTER_0900 = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)  # +80 business hours (policy maximum)


@pytest.fixture
def submitted(rep, customer):
    with time_machine.travel(MONDAY_0900, tick=False):
        return file_request(rep, customer, now=MONDAY_0900)


@time_machine.travel(MONDAY_1000, tick=False)
def test_acknowledging_defaults_the_answer_by_to_the_policy_in_business_time(submitted, ops_lead):
    req = acknowledge(submitted, ops_lead, now=MONDAY_1000)

    assert req.status == Status.IN_ANALYSIS
    # Mon 09:00 CET + 40 business hours (Mon 7 h, Tue–Fri 32 h, Mon 08–09) = next Monday 09:00 CET.
    assert req.answer_due == NEXT_MONDAY_0900
    assert req.answer_due_policy == NEXT_MONDAY_0900
    assert req.acknowledged_at == MONDAY_1000
    assert req.acknowledge_seconds == 3600
    assert req.acknowledge_met is True


@time_machine.travel(MONDAY_1000, tick=False)
def test_acknowledging_routes_one_assessment_per_department_with_its_share_of_the_window(submitted, ops_lead, ops_member):
    req = acknowledge(submitted, ops_lead, now=MONDAY_1000, departments=["procurement", "stores"],
                      owners={"procurement": ops_member})

    assessments = {a.department.code: a for a in Assessment.objects.filter(request=req).select_related("department")}
    assert set(assessments) == {"procurement", "stores"}
    assert assessments["procurement"].owner == ops_member
    # 70% of the 39 business hours from routing (Mon 10:00) to answer-by = 27 h 18 min → Thu 14:18 CET.
    assert assessments["stores"].due_at == datetime(2026, 3, 5, 13, 18, tzinfo=UTC)
    assert all(a.routed_at == MONDAY_1000 and a.next_reminder_at is not None for a in assessments.values())
    starts = ClockEvent.objects.filter(request=req, clock=ClockEvent.Clock.DEPARTMENT, action=ClockEvent.Action.START)
    assert sorted(starts.values_list("department__code", flat=True)) == ["procurement", "stores"]
    routed = RequestEvent.objects.get(request=req, kind=RequestEvent.Kind.ROUTED)
    assert routed.data["departments"] == ["procurement", "stores"]


@time_machine.travel(MONDAY_1000, tick=False)
def test_the_rep_is_told_the_answer_by_in_their_own_time_zone_and_departments_are_told_too(
    submitted, rep, ops_lead, ops_member
):
    Profile.objects.create(user=rep, time_zone="America/New_York")

    acknowledge(submitted, ops_lead, now=MONDAY_1000)

    told = Notification.objects.get(user=rep, kind="acknowledged")
    assert "we will analyze and let you know by Mon 09 Mar 2026, 04:00 EDT" in told.message
    assert Notification.objects.filter(user=ops_member, kind="routed", request=submitted).exists()
    assert not Notification.objects.filter(user=ops_lead, kind="routed").exists()  # the actor is not told


@time_machine.travel(MONDAY_1000, tick=False)
def test_acknowledging_needs_at_least_one_department_and_changes_nothing_without(submitted, ops_lead):
    with pytest.raises(ValidationError) as err:
        acknowledge(submitted, ops_lead, now=MONDAY_1000, departments=[])

    assert "departments" in err.value.message_dict
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED and not Assessment.objects.exists()


@time_machine.travel(MONDAY_1000, tick=False)
def test_an_answer_by_beyond_the_policy_maximum_needs_a_recorded_reason(submitted, ops_lead):
    late = MONDAY_AFTER_0900 + timedelta(hours=1)
    with pytest.raises(ValidationError) as err:
        acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=late)
    assert "reason" in err.value.message_dict

    req = acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=late, reason="Supplier closed for inventory")

    assert req.answer_due == late and req.answer_due_policy == NEXT_MONDAY_0900
    event = RequestEvent.objects.get(request=req, kind=RequestEvent.Kind.ACKNOWLEDGED)
    assert event.message == "Supplier closed for inventory"


@time_machine.travel(MONDAY_1000, tick=False)
def test_an_answer_by_up_to_the_policy_maximum_needs_no_reason(submitted, ops_lead):
    req = acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=MONDAY_AFTER_0900)
    assert req.answer_due == MONDAY_AFTER_0900


@time_machine.travel(MONDAY_1000, tick=False)
def test_an_answer_by_in_the_past_is_refused(submitted, ops_lead):
    with pytest.raises(ValidationError) as err:
        acknowledge(submitted, ops_lead, now=MONDAY_1000, answer_due=MONDAY_0900)
    assert "answer_due" in err.value.message_dict


@time_machine.travel(MONDAY_1000, tick=False)
def test_an_owner_must_belong_to_the_department(submitted, ops_lead, stores_member):
    with pytest.raises(ValidationError) as err:
        acknowledge(submitted, ops_lead, now=MONDAY_1000, owners={"procurement": stores_member})
    assert "owner_procurement" in err.value.message_dict


@time_machine.travel(MONDAY_1000, tick=False)
def test_acknowledging_a_stale_form_is_a_conflict(submitted, ops_lead):
    with pytest.raises(ConflictError):
        acknowledge(submitted, ops_lead, now=MONDAY_1000, expected_version=submitted.version - 1)


@time_machine.travel(MONDAY_1000, tick=False)
def test_a_request_cannot_be_acknowledged_twice(submitted, ops_lead):
    acknowledge(submitted, ops_lead, now=MONDAY_1000)
    with pytest.raises(TransitionError):
        acknowledge(submitted, ops_lead, now=MONDAY_1000)


def test_the_default_answer_by_moves_by_the_time_spent_waiting_on_sales(submitted, rep, ops_lead):
    asked = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Mon 10:00 CET
    replied = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # Tue 09:00 CET: 7 business hours later (2 + 4 + 1)
    with time_machine.travel(asked, tick=False):
        request_services.clarification_ask(request_id=submitted.pk, actor=ops_lead, question="Which alloy?", now=asked)
    with time_machine.travel(replied, tick=False):
        request_services.clarification_answer(request_id=submitted.pk, actor=rep, body="6061", now=replied)
        req = acknowledge(submitted, ops_lead, now=replied)

    # Next Monday 09:00 CET + 7 business hours = Monday 17:00 CET.
    assert req.answer_due == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)


@time_machine.travel(MONDAY_1000, tick=False)
def test_departments_can_be_added_while_in_analysis_but_not_twice(submitted, ops_lead, stores_member):
    acknowledge(submitted, ops_lead, now=MONDAY_1000)
    later = MONDAY_1000 + timedelta(hours=2)

    services.request_route(request_id=submitted.pk, actor=ops_lead, departments=["stores"], now=later)

    stores = Assessment.objects.get(request=submitted, department__code="stores")
    assert stores.routed_at == later and stores.due_at is not None
    assert Notification.objects.filter(user=stores_member, kind="routed").exists()
    with pytest.raises(ValidationError):
        services.request_route(request_id=submitted.pk, actor=ops_lead, departments=["procurement"], now=later)


@time_machine.travel(MONDAY_1000, tick=False)
def test_extending_the_answer_by_needs_a_reason_is_recorded_and_tells_the_rep(submitted, rep, ops_lead):
    req = acknowledge(submitted, ops_lead, now=MONDAY_1000)
    new_due = NEXT_MONDAY_0900 + timedelta(days=1)
    with pytest.raises(ValidationError) as err:
        services.answer_by_extend(request_id=req.pk, actor=ops_lead, answer_due=new_due, reason=" ")
    assert "reason" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.answer_by_extend(request_id=req.pk, actor=ops_lead, answer_due=NEXT_MONDAY_0900 - timedelta(hours=1),
                                  reason="earlier")

    req = services.answer_by_extend(request_id=req.pk, actor=ops_lead, answer_due=new_due, reason="Tooling quote pending",
                                    expected_version=req.version)

    assert req.answer_due == new_due
    event = RequestEvent.objects.get(request=req, kind=RequestEvent.Kind.ANSWER_BY_EXTENDED)
    assert event.message == "Tooling quote pending" and event.data["to"] == new_due.isoformat()
    assert ClockEvent.objects.filter(request=req, clock=ClockEvent.Clock.ANSWER, action=ClockEvent.Action.EXTEND,
                                     due=new_due).exists()
    told = Notification.objects.get(user=rep, kind="answer_by_extended")
    assert "Tue 10 Mar 2026, 09:00 CET" in told.message and "Tooling quote pending" in told.message
