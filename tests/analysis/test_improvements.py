"""Improvement actions: opened from the Pareto on a constraint, moved through their lifecycle with a
history, their before/after figures (computed here by hand), and what reps see and are told."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from analysis import decisions, improvements
from analysis.models import ConstraintCategory, Decision, ImprovementAction, Verdict
from requests_app import services
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import Department, FeasibilityRequest, Notification, Outcome, Status
from requests_app.permissions import NotAllowed
from tests.analysis.ops_helpers import acknowledge, assess, file_request
from tests.requests_app.sales_factories import publish

MC = "machine_capacity"


def local_today() -> date:
    return timezone.localdate()
# Monday 16 March 2026, 09:00 in Berlin: the action is done then.
DONE_AT = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
NOW = DONE_AT + timedelta(days=7)


def a_request(rep, lead, member, customer, *, day: datetime, verdict: str, hours: int, outcome: str = "",
              deal: str = "6250", currency: str = "EUR", title: str = "Brackets") -> FeasibilityRequest:
    """Filed at 08:00 Berlin (the day's opening) on `day` and routed to manufacturing at once, assessed
    `hours` (at most 4: before the lunch break) business hours later (CANNOT citing machine capacity,
    or CAN), answered, and closed with `outcome` if given."""
    filed = day.replace(hour=7, minute=0)
    req = file_request(rep, customer, now=filed, deal_value=Decimal(deal), currency=currency, title=title)
    acknowledge(req, lead, now=filed, departments=("manufacturing",))
    assess(req, "manufacturing", member, now=filed + timedelta(hours=hours), verdict=verdict,
           constraints=(MC,) if verdict == Verdict.CANNOT else ())
    answer = publish(req, lead, now=filed + timedelta(hours=hours + 1),
                     decision=Decision.YES if outcome == Outcome.WON else Decision.ALTERNATIVES)
    closed = filed + timedelta(hours=hours + 2)
    if outcome == Outcome.WON:
        decisions.answer_accept(request_id=req.pk, actor=rep, now=closed)
    elif outcome == Outcome.ALTERNATIVE_ACCEPTED:
        decisions.alternative_accept(alternative_id=answer.alternatives.first().pk, actor=rep, now=closed)
    elif outcome:
        services.request_close(request_id=req.pk, actor=rep, outcome=outcome, now=closed)
    return FeasibilityRequest.objects.get(pk=req.pk)


@pytest.fixture
def maker(ops_lead):
    """A manufacturing member who assesses."""
    ops_lead.departments.add(Department.objects.get(code="manufacturing"))
    return ops_lead


def done_action(lead, constraint_code: str = MC, **kwargs) -> ImprovementAction:
    action = improvements.action_open(
        actor=lead, constraint=ConstraintCategory.objects.get(code=constraint_code), title="Second shift on press 7",
        owner=lead, target_date=date(2026, 4, 30), expected_effect="Press capacity no longer blocks 500+ pcs.",
        departments=[Department.objects.get(code="manufacturing")], now=DONE_AT - timedelta(days=30), **kwargs,
    )
    improvements.action_move(action_id=action.pk, actor=lead, to="in_progress", now=DONE_AT - timedelta(days=20))
    return improvements.action_move(action_id=action.pk, actor=lead, to="done", now=DONE_AT)


def test_before_and_after_over_equal_windows_computed_by_hand(monkeypatch, rep, ops_lead, maker, customer):
    monkeypatch.setattr(improvements, "MIN_COUNT", 1)
    mk = dict(rep=rep, lead=ops_lead, member=maker, customer=customer)
    day = timedelta(days=1)
    # Outside both windows (a week each): never counted.
    a_request(**mk, day=DONE_AT - 20 * day, verdict=Verdict.CANNOT, hours=7, outcome=Outcome.LOST)
    # Before: 3 of 4 blocked by machine capacity; of the 2 closed, 1 filled; 1000 EUR and 500 USD at stake.
    a_request(**mk, day=DONE_AT - 6 * day, verdict=Verdict.CANNOT, hours=1, outcome=Outcome.LOST, deal="1000")
    a_request(**mk, day=DONE_AT - 5 * day, verdict=Verdict.CANNOT, hours=2, outcome=Outcome.ALTERNATIVE_ACCEPTED,
              deal="2000")
    a_request(**mk, day=DONE_AT - 4 * day, verdict=Verdict.CAN, hours=3, outcome=Outcome.LOST)
    a_request(**mk, day=DONE_AT - 3 * day, verdict=Verdict.CANNOT, hours=4, deal="500", currency="USD")
    # After: 1 of 4 blocked, and it was won.
    a_request(**mk, day=DONE_AT + 1 * day, verdict=Verdict.CAN, hours=1)
    a_request(**mk, day=DONE_AT + 2 * day, verdict=Verdict.CAN, hours=1)
    a_request(**mk, day=DONE_AT + 3 * day, verdict=Verdict.CANNOT, hours=3, outcome=Outcome.WON)
    a_request(**mk, day=DONE_AT + 4 * day, verdict=Verdict.CAN, hours=2)
    action = done_action(ops_lead)

    result = improvements.effect(action, now=NOW)

    assert result.days == 7
    before, after = result.before, result.after
    assert (before.start, before.end, after.start, after.end) == (DONE_AT - 7 * day, DONE_AT, DONE_AT, DONE_AT + 7 * day)
    assert (before.cannot_share.value, before.cannot_share.count) == (75.0, 4)
    assert (after.cannot_share.value, after.cannot_share.count) == (25.0, 4)
    assert (before.fill_rate.value, before.fill_rate.count) == (50.0, 2)
    assert (after.fill_rate.value, after.fill_rate.count) == (100.0, 1)
    assert before.value_at_stake.by_currency == {"EUR": Decimal("1000.00"), "USD": Decimal("500.00")}
    assert before.value_at_stake.count == 2
    assert after.value_at_stake.by_currency == {} and after.value_at_stake.count == 0
    assert (before.answer_hours.value, before.answer_hours.count) == (2.5, 4)
    assert (after.answer_hours.value, after.answer_hours.count) == (1.5, 4)


def test_under_the_threshold_the_page_says_too_few_to_say(client, rep, ops_lead, maker, customer):
    a_request(rep=rep, lead=ops_lead, member=maker, customer=customer, day=DONE_AT - timedelta(days=3),
              verdict=Verdict.CANNOT, hours=1)
    action = done_action(ops_lead)
    client.force_login(ops_lead)
    with time_machine.travel(NOW, tick=False):
        page = client.get(action.get_absolute_url()).content.decode()
    assert "Before and after" in page
    assert page.count('<span class="text-muted">too few to say</span>') == 8  # every figure, both windows
    assert "(n = 1)" in page


def test_no_before_and_after_until_done_or_on_the_day_it_is_done(ops_lead):
    action = done_action(ops_lead)
    assert improvements.effect(action, now=DONE_AT + timedelta(hours=5)) is None
    action.status = ImprovementAction.Status.IN_PROGRESS
    assert improvements.effect(action, now=NOW) is None


def test_the_lifecycle_with_its_history_and_guards(ops_lead, manager):
    constraint = ConstraintCategory.objects.get(code=MC)
    action = improvements.action_open(actor=manager, constraint=constraint, title="Second shift", owner=ops_lead,
                                      target_date=local_today() + timedelta(days=60), expected_effect="More capacity.")
    assert action.status == "proposed"
    with pytest.raises(TransitionError):
        improvements.action_move(action_id=action.pk, actor=ops_lead, to="done")
    with pytest.raises(ConflictError):
        improvements.action_move(action_id=action.pk, actor=ops_lead, to="in_progress", expected_version=99)
    started = improvements.action_move(action_id=action.pk, actor=ops_lead, to="in_progress",
                                       expected_version=action.version)
    assert started.status == "in_progress" and started.started_at is not None
    with pytest.raises(ValidationError) as refused:
        improvements.action_move(action_id=action.pk, actor=ops_lead, to="dropped", note="  ")
    assert "note" in refused.value.message_dict
    dropped = improvements.action_move(action_id=action.pk, actor=ops_lead, to="dropped", note="The press is sold.")
    assert dropped.finished_at is not None
    with pytest.raises(TransitionError):
        improvements.action_move(action_id=action.pk, actor=ops_lead, to="in_progress")
    history = [(e.from_status, e.to_status, e.actor, e.note) for e in action.events.all()]
    assert history == [("", "proposed", manager, ""), ("proposed", "in_progress", ops_lead, ""),
                       ("in_progress", "dropped", ops_lead, "The press is sold.")]


def test_only_operations_leads_and_managers_open_and_move_actions(client, rep, ops_member, ops_lead):
    constraint = ConstraintCategory.objects.get(code=MC)
    for outsider in (rep, ops_member):
        with pytest.raises(NotAllowed):
            improvements.action_open(actor=outsider, constraint=constraint, title="x", owner=ops_lead,
                                     target_date=local_today(), expected_effect="y")
    action = improvements.action_open(actor=ops_lead, constraint=constraint, title="x", owner=ops_lead,
                                      target_date=local_today(), expected_effect="y")
    with pytest.raises(NotAllowed):
        improvements.action_move(action_id=action.pk, actor=ops_member, to="in_progress")
    client.force_login(ops_member)
    assert client.get(reverse("analysis:improvements")).status_code == 200  # members read
    assert client.get(reverse("analysis:improvement_new"), {"constraint": MC}).status_code == 403
    client.force_login(rep)
    assert client.get(reverse("analysis:improvements")).status_code == 403
    assert client.get(action.get_absolute_url()).status_code == 403


def test_bad_input_keeps_what_was_typed_and_saves_nothing(client, ops_lead):
    client.force_login(ops_lead)
    url = reverse("analysis:improvement_new") + f"?constraint={MC}"
    response = client.post(url, {"title": "Second shift", "owner": ops_lead.pk, "target_date": "1999-01-01",
                                 "expected_effect": "More capacity"})
    assert response.status_code == 200
    assert "The target date must lie between" in response.content.decode()
    assert 'value="Second shift"' in response.content.decode()
    assert not ImprovementAction.objects.exists()


def test_opening_from_the_pareto_prefills_the_requests_citing_the_constraint(client, rep, ops_lead, maker, customer):
    with time_machine.travel(NOW, tick=False):
        blocked = a_request(rep=rep, lead=ops_lead, member=maker, customer=customer, day=NOW - timedelta(days=3),
                            verdict=Verdict.CANNOT, hours=1, title="Blocked by the press")
        fine = a_request(rep=rep, lead=ops_lead, member=maker, customer=customer, day=NOW - timedelta(days=2),
                         verdict=Verdict.CAN, hours=1, title="Went through")
        client.force_login(ops_lead)
        board = client.get(reverse("analysis:improvements")).content.decode()
        assert f"?constraint={MC}" in board
        form = client.get(reverse("analysis:improvement_new"), {"constraint": MC})
        assert [r.pk for r in form.context["form"].fields["requests"].queryset] == [blocked.pk]
        assert form.context["form"]["requests"].value() == [blocked.pk]
        response = client.post(reverse("analysis:improvement_new") + f"?constraint={MC}", {
            "title": "Second shift", "owner": ops_lead.pk, "target_date": "2026-06-30",
            "expected_effect": "More capacity", "requests": [blocked.pk],
            "departments": [Department.objects.get(code="manufacturing").pk],
        })
        action = ImprovementAction.objects.get()
        assert response.status_code == 302 and response["Location"] == action.get_absolute_url()
        assert list(action.requests.all()) == [blocked]
        assert fine.pk
        board = client.get(reverse("analysis:improvements")).content.decode()
        assert "Second shift" in board and "Proposed" in board  # the constraint's open action


def test_reps_see_the_action_under_way_then_are_told_when_done_and_file_again(client, rep, ops_lead, maker,
                                                                               customer):
    req = a_request(rep=rep, lead=ops_lead, member=maker, customer=customer, day=DONE_AT - timedelta(days=40),
                    verdict=Verdict.CANNOT, hours=1, outcome=Outcome.LOST, title="Blocked by the press")
    action = improvements.action_open(
        actor=ops_lead, constraint=ConstraintCategory.objects.get(code=MC), title="Second shift on press 7",
        owner=ops_lead, target_date=date(2026, 4, 30), expected_effect="More capacity.", request_ids=[req.pk],
        now=DONE_AT - timedelta(days=30),
    )
    client.force_login(rep)
    page = client.get(req.get_absolute_url()).content.decode()
    assert "Second shift on press 7" in page and "proposed, target 30 Apr 2026" in page and "File again" not in page

    improvements.action_move(action_id=action.pk, actor=ops_lead, to="in_progress", now=DONE_AT - timedelta(days=20))
    improvements.action_move(action_id=action.pk, actor=ops_lead, to="done", now=DONE_AT)

    told = Notification.objects.get(user=rep, kind="constraint_addressed")
    assert told.message == (f"The constraint that blocked {req.reference} (machine capacity) was addressed: "
                            "Second shift on press 7. Ask again?")
    assert told.request_id == req.pk
    page = client.get(req.get_absolute_url()).content.decode()
    assert f"The constraint that blocked {req.reference} (machine capacity) was addressed on 16 Mar 2026" in page
    assert "File again" in page

    response = client.post(reverse("requests_app:file_again", args=[req.pk]))
    copy = FeasibilityRequest.objects.exclude(pk=req.pk).exclude(reference__isnull=False).get()
    assert response["Location"] == reverse("requests_app:edit", args=[copy.pk])
    assert (copy.status, copy.requested_by, copy.customer, copy.title, copy.quantity) == (
        Status.DRAFT, rep, req.customer, req.title, req.quantity)
    assert copy.requested_date > local_today()
    assert f"Filed again from {req.reference}." in copy.description


def test_another_team_cannot_file_someone_else_s_request_again(client, other_rep, rep, ops_lead, maker, customer):
    req = a_request(rep=rep, lead=ops_lead, member=maker, customer=customer, day=DONE_AT - timedelta(days=40),
                    verdict=Verdict.CANNOT, hours=1, outcome=Outcome.LOST)
    client.force_login(other_rep)
    assert client.post(reverse("requests_app:file_again", args=[req.pk])).status_code == 404
    assert FeasibilityRequest.objects.count() == 1
