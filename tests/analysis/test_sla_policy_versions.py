"""A clock keeps the SLA policy version it started with; an edit is a new version for clocks started
afterwards (DESIGN.md "Time and SLA semantics"). Managers edit the urgent policy twice while clocks
run and while one is paused; the real sweep runs every minute of the working day (frozen clock) and
its decisions are delivered as the worker would. Every clock sends exactly its own version's
reminders and escalations, once each, the minute they fall due.

Calendar: the default one, Europe/Berlin, 08–12 and 13–17; the week of 2 March 2026 is CET (UTC+1),
so 09:00 CET is `cet(2, 9)`."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from analysis import sla
from analysis.clocks import start_department_clock
from analysis.models import Assessment, ReminderLedger
from requests_app import lifecycle, services_sla
from requests_app.models import Department, FeasibilityRequest, Priority, SlaChange, SlaPolicy, Status
from tests.analysis.sla_support import Kind, acknowledge, move, submit
from tests.conftest import aware


def cet(day: int, hour: int, minute: int = 0) -> datetime:
    """`day` March 2026, a wall time in Berlin (CET, UTC+1), as UTC."""
    return aware(2026, 3, day, hour - 1, minute)


def edit_urgent(manager, at: datetime, **values) -> SlaPolicy:
    current = SlaPolicy.objects.current().get(priority=Priority.URGENT)
    base = {"acknowledge_hours": Decimal(2), "answer_hours": Decimal(8), "max_answer_hours": Decimal(16),
            "reminder_thresholds": [0.5, 0.75], "escalation_interval_hours": Decimal(2), "department_share": Decimal("0.75")}
    with time_machine.travel(at, tick=False):
        return services_sla.sla_policy_update(actor=manager, policy_id=current.pk, values={**base, **values}, now=at)


def route(req: FeasibilityRequest, code: str, at: datetime) -> Assessment:
    with transaction.atomic():
        req = lifecycle.lock(req.pk)
        assessment = Assessment(request=req, department=Department.objects.get(code=code), routed_at=at)
        start_department_clock(assessment, now=at)
        assessment.save()
        return assessment


def withdraw(req: FeasibilityRequest, rep, at: datetime) -> None:
    with transaction.atomic():
        lifecycle.transition(req.pk, to=Status.CLOSED, kind=Kind.WITHDRAWN, actor=rep, now=at, fields={"outcome": "withdrawn"})


def working_minutes(day: int, until: tuple[int, int] = (17, 0)):
    at = cet(day, 8)
    while at <= cet(day, *until):
        yield at
        at += timedelta(minutes=1)


def sent_rows(req: FeasibilityRequest) -> list[tuple]:
    """(clock, scope, kind, threshold or escalation number, due_at) of each decision, in order."""
    return [
        (r.clock, r.scope, r.kind, float(r.threshold) if r.kind == "reminder" else r.seq, r.due_at)
        for r in ReminderLedger.objects.filter(request=req).order_by("due_at", "clock", "scope", "id")
    ]


@pytest.mark.django_db
def test_edits_while_clocks_run_and_pause_reach_only_clocks_started_afterwards(
    rep, customer, ops_lead, ops_member, stores_member, manager, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Version "A" before anything is filed: thresholds half-way and three quarters, escalate every 2 h,
    # departments due at 75% of the answer window.
    version_a = edit_urgent(manager, cet(2, 7))
    events = {
        cet(2, 8): [
            lambda: clocks_of.update(a=submit(rep, customer, at=cet(2, 8))),
            lambda: clocks_of.update(c=acknowledge(submit(rep, customer, at=cet(2, 8)), ops_lead, at=cet(2, 8),
                                                   departments=("procurement",))),
        ],
        # Version "B": other thresholds, escalations every hour, 4 h to acknowledge — while A and C run.
        cet(2, 8, 30): [
            lambda: clocks_of.update(version_b=edit_urgent(
                manager, cet(2, 8, 30), acknowledge_hours=Decimal(4), reminder_thresholds=[0.25, 0.9],
                escalation_interval_hours=Decimal(1), department_share=Decimal("0.5"))),
            lambda: clocks_of.update(b=submit(rep, customer, at=cet(2, 8, 30))),
        ],
        cet(2, 9): [lambda: move(clocks_of["c"], to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead,
                                 at=cet(2, 9))],
        # Version "C" while C's clocks stand still (and B's runs): escalations every 3 h.
        cet(2, 10): [lambda: clocks_of.update(version_c=edit_urgent(
            manager, cet(2, 10), acknowledge_hours=Decimal(4), reminder_thresholds=[0.25, 0.9],
            escalation_interval_hours=Decimal(3), department_share=Decimal("0.5")))],
        cet(2, 11): [lambda: move(clocks_of["c"], to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep,
                                  at=cet(2, 11))],
        cet(2, 13): [lambda: clocks_of.update(stores=route(clocks_of["c"], "stores", cet(2, 13)))],
        cet(2, 15, 45): [lambda: withdraw(clocks_of["a"], rep, cet(2, 15, 45)),
                         lambda: withdraw(clocks_of["b"], rep, cet(2, 15, 45))],
    }
    clocks_of: dict = {}
    instants = [*working_minutes(2), cet(2, 21), cet(3, 3), *working_minutes(3, until=(13, 30))]
    decided: list[int] = []
    for at in instants:
        with time_machine.travel(at, tick=False):
            for event in events.get(at, []):
                event()
            result = sla.sla_sweep(now=at, deliver=lambda ids: None)
            for ledger_id in result.ledger_ids:  # the worker delivers each decision once
                assert sla.deliver_ledger(ledger_id, now=at) is True
            decided += result.ledger_ids

    a, b, c = clocks_of["a"], clocks_of["b"], clocks_of["c"]
    assert (a.sla_policy_id, b.sla_policy_id, c.sla_policy_id) == (version_a.pk, clocks_of["version_b"].pk, version_a.pk)
    assert Assessment.objects.get(request=c, department__code="procurement").sla_policy_id == version_a.pk
    assert clocks_of["stores"].sla_policy_id == clocks_of["version_c"].pk

    # A (version A, acknowledge due 10:00): 50% and 75% of 2 h, then every 2 business hours —
    # 10:00 + 2 h ends at the 12:00 closing, so the second goes at the 13:00 opening.
    assert sent_rows(a) == [
        ("acknowledge", "", "reminder", 0.5, cet(2, 9)),
        ("acknowledge", "", "reminder", 0.75, cet(2, 9, 30)),
        ("acknowledge", "", "escalation", 1, cet(2, 10)),
        ("acknowledge", "", "escalation", 2, cet(2, 13)),
        ("acknowledge", "", "escalation", 3, cet(2, 15)),
    ]
    # B (version B, filed 08:30, 4 h → due 13:30): 25% = 1 h → 09:30; 90% = 3 h 36 → 13:06; then
    # hourly: version C's three hours reach no clock that was already running.
    assert sent_rows(b) == [
        ("acknowledge", "", "reminder", 0.25, cet(2, 9, 30)),
        ("acknowledge", "", "reminder", 0.9, cet(2, 13, 6)),
        ("acknowledge", "", "escalation", 1, cet(2, 13, 30)),
        ("acknowledge", "", "escalation", 2, cet(2, 14, 30)),
        ("acknowledge", "", "escalation", 3, cet(2, 15, 30)),
    ]
    # C (version A; paused 09:00–11:00, so answer-by 17:00 + 2 h = Tue 10:00):
    # - answer 50% = 4 h of work: 08–09, 11–12, 13–15 → 15:00; 75% = 6 h → the 17:00 closing → Tue 08:00;
    #   escalations every 2 h from Tue 10:00: 12:00 is the closing → 13:00.
    # - procurement (routed 08:00, 75% of 8 h = 6 h → 15:00, + 2 h paused → 17:00): 50% of its 6 h of
    #   work → 14:00, 75% → 15:30, its breach at the next opening, Tue 08:00.
    # - stores (routed 13:00 on version C: 50% of the 6 h left until Tue 10:00 → due 16:00): 25% = 45 min
    #   → 13:45, 90% = 2 h 42 → 15:42, its breach at 16:00.
    assert sent_rows(c) == [
        ("department", "stores", "reminder", 0.25, cet(2, 13, 45)),
        ("department", "procurement", "reminder", 0.5, cet(2, 14)),
        ("answer", "", "reminder", 0.5, cet(2, 15)),
        ("department", "procurement", "reminder", 0.75, cet(2, 15, 30)),
        ("department", "stores", "reminder", 0.9, cet(2, 15, 42)),
        ("department", "stores", "escalation", 1, cet(2, 16)),
        ("answer", "", "reminder", 0.75, cet(3, 8)),
        ("department", "procurement", "escalation", 1, cet(3, 8)),
        ("answer", "", "escalation", 1, cet(3, 10)),
        ("answer", "", "escalation", 2, cet(3, 13)),
    ]
    # Each decided the very minute it fell due, and each delivered exactly once.
    rows = list(ReminderLedger.objects.all())
    assert all(row.created_at == row.due_at for row in rows)
    assert sorted(decided) == sorted(row.pk for row in rows)
    message_ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert sorted(message_ids) == sorted(row.message_id for row in rows)


@pytest.mark.django_db
def test_a_revision_starts_its_answer_clock_on_the_version_current_then(rep, customer, ops_lead, manager):
    version_a = edit_urgent(manager, cet(2, 7))
    req = acknowledge(submit(rep, customer, at=cet(2, 8)), ops_lead, at=cet(2, 8, 30))
    move(req, to=Status.ANSWERED, kind=Kind.ANSWER_PUBLISHED, actor=ops_lead, at=cet(2, 10))
    version_b = edit_urgent(manager, cet(2, 11), answer_hours=Decimal(4), reminder_thresholds=[0.25])
    req = move(req, to=Status.IN_ANALYSIS, kind=Kind.REVISION_REQUESTED, actor=rep, at=cet(3, 8))

    assert (version_a.pk, req.sla_policy_id) == (version_a.pk, version_b.pk)
    assert req.answer_due == cet(3, 12)  # version B's 4 business hours from the revision
    sla.sla_sweep(now=cet(3, 9), deliver=lambda ids: None)  # 25% of 4 h
    assert sent_rows(req) == [("answer", "r2", "reminder", 0.25, cet(3, 9))]


@pytest.mark.django_db
def test_an_edit_records_a_new_version_and_who_changed_what(manager):
    old = SlaPolicy.objects.current().get(priority=Priority.HIGH)
    new = services_sla.sla_policy_update(
        actor=manager, policy_id=old.pk, now=cet(2, 9),
        values={"acknowledge_hours": Decimal(4), "answer_hours": Decimal(20), "max_answer_hours": Decimal(48),
                "reminder_thresholds": [0.5, 0.8], "escalation_interval_hours": Decimal(4), "department_share": Decimal("0.7")},
    )
    old.refresh_from_db()
    assert (old.retired_at, new.version, new.retired_at, new.created_by) == (cet(2, 9), old.version + 1, None, manager)
    change = SlaChange.objects.get()
    assert (change.actor, change.at, change.policy) == (manager, cet(2, 9), new)
    assert change.changes == [("answer within (business h)", "24", "20")]


@pytest.mark.django_db
def test_a_form_loaded_for_a_replaced_version_is_a_conflict_and_changes_nothing(manager):
    from requests_app.lifecycle import ConflictError

    old = SlaPolicy.objects.current().get(priority=Priority.LOW)
    values = {"acknowledge_hours": Decimal(16), "answer_hours": Decimal(80), "max_answer_hours": Decimal(160),
              "reminder_thresholds": [0.5], "escalation_interval_hours": Decimal(8), "department_share": Decimal("0.7")}
    services_sla.sla_policy_update(actor=manager, policy_id=old.pk, values=values)
    with pytest.raises(ConflictError):
        services_sla.sla_policy_update(actor=manager, policy_id=old.pk, values={**values, "reminder_thresholds": [0.9]})
    assert SlaPolicy.objects.filter(priority=Priority.LOW).count() == 2
    assert SlaPolicy.objects.current().get(priority=Priority.LOW).reminder_thresholds == [0.5]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["rep", "ops_lead", "ops_member", "nobody"])
def test_only_managers_may_change_a_policy(request, persona):
    from requests_app.permissions import NotAllowed

    policy = SlaPolicy.objects.current().get(priority=Priority.LOW)
    with pytest.raises(NotAllowed):
        services_sla.sla_policy_update(actor=request.getfixturevalue(persona), policy_id=policy.pk, values={
            "acknowledge_hours": Decimal(1), "answer_hours": Decimal(2), "max_answer_hours": Decimal(3),
            "reminder_thresholds": [], "escalation_interval_hours": Decimal(1), "department_share": Decimal("0.5")})
    assert SlaPolicy.objects.filter(priority=Priority.LOW).count() == 1
    assert not SlaChange.objects.exists()
