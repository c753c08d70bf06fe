"""A department's assessment: its validation rules, the department clock, history, and
concurrent edits that never silently overwrite each other."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from analysis import services
from analysis.forms import AssessmentForm
from analysis.models import Assessment, Verdict
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import ClockEvent, Notification, RequestEvent, Role
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, constraint, file_request
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TUESDAY_1000 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 3)


@pytest.fixture
def routed(rep, customer, ops_lead):
    with time_machine.travel(MONDAY_0900, tick=False):
        req = file_request(rep, customer, now=MONDAY_0900, requested_date=date(2026, 4, 1))
    with time_machine.travel(MONDAY_1000, tick=False):
        return acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement", "stores"])


def form_errors(req, **data) -> dict:
    assessment = Assessment.objects.select_related("request").get(request=req, department__code="procurement")
    payload = {"verdict": "can", "cost_currency": "EUR", "version": assessment.version, **data}
    form = AssessmentForm(payload, assessment=assessment)
    form.is_valid()
    return form.errors


@pytest.fixture
def tuesday():
    with time_machine.travel(TUESDAY_1000, tick=False):
        yield


@pytest.mark.usefixtures("tuesday")
class TestValidationRules:
    def test_a_plain_can_needs_nothing_else(self, routed):
        assert form_errors(routed) == {}

    def test_a_verdict_is_required(self, routed):
        assert "verdict" in form_errors(routed, verdict="")

    def test_the_feasible_quantity_cannot_be_negative(self, routed):
        assert "quantity_feasible" in form_errors(routed, quantity_feasible="-1")

    def test_the_feasible_quantity_cannot_exceed_the_requested_quantity(self, routed):
        errors = form_errors(routed, quantity_feasible="501")
        assert "More than the 500 pcs requested." in errors["quantity_feasible"]

    def test_cannot_with_the_full_quantity_feasible_is_contradictory(self, routed):
        errors = form_errors(routed, verdict="cannot", quantity_feasible="500", constraints=[constraint("labour").pk])
        assert "contradicts" in errors["verdict"][0]

    def test_can_with_less_than_the_full_quantity_is_contradictory(self, routed):
        assert "verdict" in form_errors(routed, quantity_feasible="499")
        assert form_errors(routed, quantity_feasible="500") == {}

    @pytest.mark.parametrize("verdict", [Verdict.CAN_WITH_CONDITIONS, Verdict.CANNOT])
    def test_anything_but_can_names_at_least_one_constraint(self, routed, verdict):
        assert "constraints" in form_errors(routed, verdict=verdict, quantity_feasible="100")
        assert form_errors(routed, verdict=verdict, quantity_feasible="100", constraints=[constraint("tooling").pk]) == {}

    def test_the_earliest_full_date_is_not_in_the_past(self, routed):
        assert "earliest_full_date" in form_errors(routed, earliest_full_date="2026-03-02")
        assert form_errors(routed, earliest_full_date="2026-03-03") == {}

    def test_the_service_enforces_the_same_rules(self, routed, ops_member):
        with pytest.raises(ValidationError) as err:
            assess(routed, "procurement", ops_member, now=TUESDAY_1000, verdict=Verdict.CANNOT, quantity_feasible=Decimal(500),
                   constraints=["labour"])
        assert "verdict" in err.value.message_dict
        assert Assessment.objects.get(request=routed, department__code="procurement").assessed_at is None


@time_machine.travel(TUESDAY_1000, tick=False)
def test_the_first_assessment_stops_the_department_clock(routed, ops_member):
    a = assess(routed, "procurement", ops_member, now=TUESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
               quantity_feasible=Decimal(300), earliest_full_date=date(2026, 4, 15), cost_impact=Decimal("1200.00"),
               cost_basis="total",
               constraints=["supplier_lead_time", "material"], notes="Steel from the second supplier")

    a.refresh_from_db()
    assert a.assessed_by == ops_member and a.assessed_at == TUESDAY_1000
    assert a.assessment_seconds == 8 * 3600  # Mon 10–12, 13–17, Tue 08–10
    assert a.met is True and a.next_reminder_at is None
    assert sorted(a.constraints.values_list("code", flat=True)) == ["material", "supplier_lead_time"]
    assert ClockEvent.objects.filter(request=routed, clock=ClockEvent.Clock.DEPARTMENT, action=ClockEvent.Action.STOP,
                                     department__code="procurement").count() == 1
    event = RequestEvent.objects.get(request=routed, kind=RequestEvent.Kind.ASSESSED)
    assert event.data == {"department": "procurement", "verdict": "can_with_conditions", "revised": False}


def test_an_assessment_after_its_due_time_is_recorded_as_missed(routed, ops_member):
    late = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # Friday, after Thursday 14:18
    with time_machine.travel(late, tick=False):
        a = assess(routed, "procurement", ops_member, now=late)
    assert a.met is False


def test_a_correction_keeps_the_first_completion_and_the_history(routed, ops_member):
    with time_machine.travel(TUESDAY_1000, tick=False):
        assess(routed, "procurement", ops_member, now=TUESDAY_1000)
    later = TUESDAY_1000 + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        a = assess(routed, "procurement", ops_member, now=later, verdict=Verdict.CANNOT, quantity_feasible=Decimal(0),
                   constraints=["machine_capacity"])

    assert a.assessed_at == TUESDAY_1000 and a.verdict == Verdict.CANNOT
    verdicts = list(a.history.order_by("history_date", "history_id").values_list("verdict", flat=True))
    assert verdicts == ["", Verdict.CAN, Verdict.CANNOT]
    revised = RequestEvent.objects.filter(request=routed, kind=RequestEvent.Kind.ASSESSED).last()
    assert revised.data["revised"] is True


@time_machine.travel(TUESDAY_1000, tick=False)
def test_leads_are_told_once_every_department_has_assessed(routed, ops_member, stores_member, ops_lead):
    assess(routed, "procurement", ops_member, now=TUESDAY_1000)
    assert not Notification.objects.filter(user=ops_lead, kind="assessed").exists()

    assess(routed, "stores", stores_member, now=TUESDAY_1000)

    assert Notification.objects.filter(user=ops_lead, kind="assessed", request=routed).count() == 1


@time_machine.travel(TUESDAY_1000, tick=False)
def test_concurrent_edits_conflict_and_the_first_one_is_not_lost(routed, ops_member):
    colleague = make_user("pia", Role.OPS_MEMBER, departments=("procurement",))
    procurement = Assessment.objects.get(request=routed, department__code="procurement")
    loaded_version = procurement.version
    services.assessment_save(assessment_id=procurement.pk, actor=ops_member, expected_version=loaded_version,
                             data={"verdict": Verdict.CAN, "notes": "first"}, constraints=[])

    with pytest.raises(ConflictError):
        services.assessment_save(assessment_id=procurement.pk, actor=colleague, expected_version=loaded_version,
                                 data={"verdict": Verdict.CAN, "notes": "second"}, constraints=[])

    procurement.refresh_from_db()
    assert procurement.notes == "first" and procurement.assessed_by == ops_member


@time_machine.travel(TUESDAY_1000, tick=False)
def test_assessments_are_frozen_once_the_answer_is_published(routed, ops_member, stores_member, ops_lead):
    assess(routed, "procurement", ops_member, now=TUESDAY_1000)
    assess(routed, "stores", stores_member, now=TUESDAY_1000)
    services.answer_publish(request_id=routed.pk, actor=ops_lead, expected_version=None, decision="yes",
                            summary="All good", justification="", alternatives=[], now=TUESDAY_1000)
    with pytest.raises(TransitionError):
        assess(routed, "procurement", ops_member, now=TUESDAY_1000, notes="too late")
