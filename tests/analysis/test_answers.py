"""The answer: validation, drafts with optimistic locking, publishing (clock stops, rep told),
pre-filled alternatives, and revisions that keep earlier answers visible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from analysis import decisions, selectors, services
from analysis.models import Answer, Decision, Verdict
from requests_app.lifecycle import ConflictError
from requests_app.models import ClockEvent, Notification, Status
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, constraint, file_request

pytestmark = pytest.mark.django_db

WEDNESDAY_1000 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
APRIL_1 = date(2026, 4, 1)


@pytest.fixture
def assessed(rep, customer, ops_lead, ops_member, stores_member):
    with time_machine.travel(MONDAY_0900, tick=False):
        req = file_request(rep, customer, now=MONDAY_0900, requested_date=APRIL_1)
    with time_machine.travel(MONDAY_1000, tick=False):
        acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement", "stores"])
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        assess(req, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
               quantity_feasible=Decimal(300), earliest_full_date=date(2026, 4, 20), cost_impact=Decimal("800.00"),
               cost_basis="total",
               constraints=["supplier_lead_time"])
        assess(req, "stores", stores_member, now=WEDNESDAY_1000)
    req.refresh_from_db()
    return req


@pytest.fixture
def wednesday():
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        yield


def alt(**overrides) -> dict:
    return {"quantity": Decimal(300), "delivery_date": APRIL_1, "currency": "EUR", "conditions": "", "recommended": False,
            "price": None, "cost_delta": None, "works_around": None, **overrides}


def publish(req, lead, **kwargs):
    fields = {"decision": Decision.ALTERNATIVES, "summary": "We can split it", "justification": "", "alternatives": [alt()],
              "expected_version": None, **kwargs}
    return services.answer_publish(request_id=req.pk, actor=lead, now=WEDNESDAY_1000, **fields)


@pytest.mark.usefixtures("wednesday")
class TestAnswerValidation:
    def test_alternatives_without_any_alternative_is_refused(self, assessed, ops_lead):
        with pytest.raises(ValidationError) as err:
            publish(assessed, ops_lead, alternatives=[])
        assert "at least one alternative" in err.value.message_dict["decision"][0]
        assessed.refresh_from_db()
        assert assessed.status == Status.IN_ANALYSIS and not Answer.objects.exists()  # nothing half-saved

    def test_no_without_alternatives_needs_a_justification(self, assessed, ops_lead):
        with pytest.raises(ValidationError) as err:
            publish(assessed, ops_lead, decision=Decision.NO, alternatives=[])
        assert "justification" in err.value.message_dict

        answer = publish(assessed, ops_lead, decision=Decision.NO, alternatives=[], justification="No press can form it")
        assert answer.is_published

    def test_at_most_one_alternative_is_recommended(self, assessed, ops_lead):
        with pytest.raises(ValidationError):
            publish(assessed, ops_lead, alternatives=[alt(recommended=True), alt(recommended=True)])

    def test_alternative_dates_in_the_past_and_empty_quantities_are_refused(self, assessed, ops_lead):
        with pytest.raises(ValidationError):
            publish(assessed, ops_lead, alternatives=[alt(delivery_date=date(2026, 3, 1))])
        with pytest.raises(ValidationError):
            publish(assessed, ops_lead, alternatives=[alt(quantity=Decimal(0))])

    def test_a_decision_is_required_to_publish_but_not_for_a_draft(self, assessed, ops_lead):
        draft = services.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision="", summary="thinking",
                                           justification="", alternatives=[], expected_version=None)
        with pytest.raises(ValidationError):
            services.answer_publish(request_id=assessed.pk, actor=ops_lead, expected_version=draft.version)


@pytest.mark.usefixtures("wednesday")
def test_publishing_answers_the_request_stops_the_answer_clock_and_tells_the_rep(assessed, ops_lead, rep):
    answer = publish(assessed, ops_lead, alternatives=[alt(recommended=True), alt(quantity=Decimal(500),
                                                                                  delivery_date=date(2026, 4, 20))])

    assessed.refresh_from_db()
    assert assessed.status == Status.ANSWERED and assessed.answered_at == WEDNESDAY_1000
    assert assessed.answer_met is True and assessed.next_reminder_at is None
    assert ClockEvent.objects.filter(request=assessed, clock=ClockEvent.Clock.ANSWER, action=ClockEvent.Action.STOP).exists()
    assert answer.number == 1 and answer.published_by == ops_lead
    assert [a.quantity for a in answer.alternatives.all()] == [Decimal(300), Decimal(500)]
    told = Notification.objects.get(user=rep, kind="answer_published")
    assert "Operations answered — Alternatives" in told.message


@pytest.mark.usefixtures("wednesday")
def test_a_draft_is_version_checked_and_a_stale_copy_conflicts(assessed, ops_lead, manager):
    first = services.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision=Decision.YES, summary="v1",
                                       justification="", alternatives=[], expected_version=None)
    services.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision=Decision.YES, summary="v2",
                               justification="", alternatives=[], expected_version=first.version)

    with pytest.raises(ConflictError):
        services.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision=Decision.NO, summary="stale",
                                   justification="", alternatives=[], expected_version=first.version)
    with pytest.raises(ConflictError):  # a second lead starting a "new" draft while one exists
        services.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision=Decision.NO, summary="new",
                                   justification="", alternatives=[], expected_version=None)
    assert Answer.objects.get(request=assessed).summary == "v2"


@pytest.mark.usefixtures("wednesday")
def test_draft_alternatives_are_updated_in_place_and_removed_ones_deleted(assessed, ops_lead):
    draft = services.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision=Decision.ALTERNATIVES, summary="",
                                       justification="", alternatives=[alt(), alt(quantity=Decimal(400))],
                                       expected_version=None)
    kept = draft.alternatives.order_by("position").first()

    draft = services.answer_save_draft(request_id=assessed.pk, actor=ops_lead, decision=Decision.ALTERNATIVES, summary="",
                                       justification="", alternatives=[alt(id=kept.pk, quantity=Decimal(250))],
                                       expected_version=draft.version)

    assert list(draft.alternatives.values_list("pk", "quantity")) == [(kept.pk, Decimal(250))]


def test_alternatives_are_prefilled_from_the_bottleneck_department(assessed):
    decision, alternatives = selectors.alternatives_from_assessments(assessed, selectors.assessments_of(assessed))

    assert decision == Decision.ALTERNATIVES
    split, full = alternatives
    assert (split["quantity"], split["delivery_date"], split["recommended"]) == (Decimal(300), APRIL_1, True)
    assert "remaining 200 pcs by 20 Apr 2026" in split["conditions"]
    assert (full["quantity"], full["delivery_date"], full["recommended"]) == (Decimal(500), date(2026, 4, 20), False)
    assert split["works_around"] == constraint("supplier_lead_time") and split["cost_delta"] == Decimal("800.00")


def test_a_revision_reopens_the_analysis_and_the_new_answer_is_a_new_version(assessed, ops_lead, rep):
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        publish(assessed, ops_lead)
    reopened = WEDNESDAY_1000 + timedelta(days=1)
    with time_machine.travel(reopened, tick=False):
        decisions.revision_request(request_id=assessed.pk, actor=rep, reason="Customer can take 400 now", now=reopened)
        second = services.answer_publish(request_id=assessed.pk, actor=ops_lead, expected_version=None,
                                         decision=Decision.YES_WITH_CONDITIONS, summary="400 now is fine",
                                         justification="", alternatives=[], now=reopened)

    assert second.number == 2
    first = Answer.objects.get(request=assessed, number=1)
    assert first.superseded_at == reopened and first.alternatives.count() == 1
    history = selectors.request_history(assessed, internals=True)
    answers = [e for e in history if e.kind == "answer"]
    assert [e.title for e in answers] == ["Answer 1 published: Alternatives", "Answer 2 published: Yes, with conditions"]
    assert answers[0].superseded and not answers[1].superseded
    assert [e.kind for e in history] == ["assessment", "assessment", "answer", "answer"]
