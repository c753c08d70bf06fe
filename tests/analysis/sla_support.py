"""Requests with running SLA clocks, walked there through `lifecycle.transition` at frozen instants."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.db import transaction

from analysis.clocks import start_department_clock
from analysis.models import Assessment, ReminderLedger
from requests_app import lifecycle
from requests_app.models import BusinessCalendar, Department, FeasibilityRequest, Priority, RequestEvent, Status
from tests.conftest import request_fields

Kind = RequestEvent.Kind
_numbers = itertools.count(1)


def submit(rep, customer, *, at: datetime, priority: str = Priority.URGENT, calendar: BusinessCalendar | None = None):
    req = FeasibilityRequest.objects.create(
        requested_by=rep, status=Status.DRAFT, calendar=calendar, **request_fields(customer, priority=priority)
    )
    with transaction.atomic():
        return lifecycle.transition(
            req.pk, to=Status.SUBMITTED, kind=Kind.SUBMITTED, actor=rep, now=at,
            fields={"reference": f"S2O-T-{next(_numbers):05d}", "submitted_at": at},
        ).request


def acknowledge(req, lead, *, at: datetime, departments: tuple[str, ...] = (), answer_due: datetime | None = None):
    with transaction.atomic():
        fields = {"answer_due": answer_due} if answer_due else {}
        moved = lifecycle.transition(req.pk, to=Status.IN_ANALYSIS, kind=Kind.ACKNOWLEDGED, actor=lead, now=at, fields=fields)
        req = moved.request
        for code in departments:
            assessment = Assessment(request=req, department=Department.objects.get(code=code), routed_at=at)
            start_department_clock(assessment, now=at)
            assessment.save()
            assert assessment.due_at is not None
        return FeasibilityRequest.objects.get(pk=req.pk)


def move(req, *, to: str, kind: str, actor, at: datetime):
    with transaction.atomic():
        return lifecycle.transition(req.pk, to=to, kind=kind, actor=actor, now=at).request


def ledger(req=None, **filters) -> list[tuple[str, str, float | int]]:
    """(clock, kind, mark) of ledger rows: a reminder's mark is its threshold (0.5), an escalation's its number."""
    qs = ReminderLedger.objects.filter(**filters)
    if req is not None:
        qs = qs.filter(request=req)
    return [
        (clock, kind, float(threshold) if kind == "reminder" else seq)
        for clock, kind, threshold, seq in qs.order_by("due_at", "id").values_list("clock", "kind", "threshold", "seq")
    ]


def all_day_calendar() -> BusinessCalendar:
    """Open round the clock, and the default calendar: worker tests run at whatever real time it
    is, and a reminder waits for its recipients' working hours (the default calendar's for leads)."""
    BusinessCalendar.objects.filter(is_default=True).update(is_default=False)
    return BusinessCalendar.objects.create(
        name="Round the clock", time_zone="UTC", working_days=[0, 1, 2, 3, 4, 5, 6], periods=[["00:00", "00:00"]],
        is_default=True,
    )
