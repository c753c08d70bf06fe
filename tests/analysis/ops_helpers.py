"""Builders for Operations tests: requests filed and moved through the real services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from django.db import transaction

from analysis import services
from analysis.models import Assessment, ConstraintCategory, Verdict
from requests_app import lifecycle
from requests_app.models import FeasibilityRequest, Status
from tests.conftest import request_fields

_refs = itertools.count(1)

# Monday 2 March 2026, 09:00 in Berlin (CET): a plain working week, no German holiday in it.
MONDAY_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MONDAY_1000 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def file_request(rep, customer, *, now: datetime, **overrides) -> FeasibilityRequest:
    """A request submitted by `rep` at `now` (DRAFT via the ORM, SUBMITTED via lifecycle)."""
    req = FeasibilityRequest.objects.create(requested_by=rep, status=Status.DRAFT, **request_fields(customer, **overrides))
    with transaction.atomic():
        moved = lifecycle.transition(
            req.pk, to=Status.SUBMITTED, kind="submitted", actor=rep, now=now,
            fields={"reference": f"S2O-2026-{next(_refs):05d}", "submitted_at": now},
        )
    return moved.request


def acknowledge(req, lead, *, now: datetime, departments=("procurement",), **kwargs) -> FeasibilityRequest:
    return services.request_acknowledge(request_id=req.pk, actor=lead, departments=list(departments), now=now, **kwargs)


def constraint(code: str) -> ConstraintCategory:
    return ConstraintCategory.objects.get(code=code)


def assess(req, code: str, user, *, now: datetime, verdict=Verdict.CAN, constraints=(), **data) -> Assessment:
    assessment = Assessment.objects.get(request=req, department__code=code)
    return services.assessment_save(
        assessment_id=assessment.pk, actor=user, now=now, expected_version=assessment.version,
        data={"verdict": verdict, "cost_currency": "EUR", **data}, constraints=[constraint(c) for c in constraints],
    )
