"""Writes to the SLA reference data: policy versions, business calendars and their closures.

Every function takes the acting user, asks the rulebook (`s2o.manage_sla`), validates the whole
thing it is about to store, and records an `SlaChange` (who, when, before → after) in the same
transaction, so managers can read every change on the SLA pages. The pages, the admin and any
other door call these; nothing else writes these rows.

A policy is never edited in place: `sla_policy_update` retires the current version and creates
the next one, so running clocks keep the version they started with (DESIGN.md).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from requests_app import permissions
from requests_app.lifecycle import ConflictError
from requests_app.models import SlaChange, SlaPolicy

# What a manager sets on a policy; every other field is bookkeeping of versions.
POLICY_FIELDS = (
    "acknowledge_hours",
    "answer_hours",
    "max_answer_hours",
    "reminder_thresholds",
    "escalation_interval_hours",
    "department_share",
    "min_answer_hours",
    "max_horizon_days",
)
# The longest window a policy may set, in business hours: about a working year of 8-hour days,
# so every due time a policy yields stays far inside what the clock math covers.
MAX_POLICY_HOURS = Decimal(2000)
THRESHOLD_STEP = Decimal("0.001")
# How far ahead an answer-by may be promised: at most a year, so every promise stays well inside
# what the clock math covers (`businesstime.MAX_SPAN`); at least a week.
MIN_HORIZON_DAYS, MAX_HORIZON_DAYS = 7, 366


def horizon_needed(business_hours: Decimal) -> int:
    """Calendar days that `business_hours` take in a 40-hour, five-day week (rounded up)."""
    return -(-int(business_hours * 7) // 40)


def policy_snapshot(policy: SlaPolicy) -> dict[str, Any]:
    """The policy's settings as JSON-friendly values (for the change log)."""
    values: dict[str, Any] = {}
    for name in POLICY_FIELDS:
        value = getattr(policy, name)
        if name == "reminder_thresholds":
            values[name] = [float(f) for f in value or []]
        else:
            values[name] = format(Decimal(value).normalize(), "f")
    return values


def policy_validate(values: dict[str, Any]) -> None:
    """The rules of a policy as a whole, as field-keyed errors (ValidationError)."""
    errors: dict[str, str] = {}
    for name in ("acknowledge_hours", "answer_hours", "max_answer_hours", "escalation_interval_hours"):
        hours = values.get(name)
        if hours is not None and not 0 < Decimal(hours) <= MAX_POLICY_HOURS:
            errors[name] = f"Give a number of business hours above 0 and at most {MAX_POLICY_HOURS:,}."
    answer, maximum = values.get("answer_hours"), values.get("max_answer_hours")
    if answer is not None and maximum is not None and Decimal(maximum) < Decimal(answer):
        errors["max_answer_hours"] = "The longest answer-by cannot be shorter than the default answer time."
    minimum = values.get("min_answer_hours")
    if minimum is not None:
        if not 0 <= Decimal(minimum) <= MAX_POLICY_HOURS:
            errors["min_answer_hours"] = f"Give a number of business hours from 0 to {MAX_POLICY_HOURS:,}."
        elif answer is not None and Decimal(minimum) > Decimal(answer):
            errors["min_answer_hours"] = "The shortest answer-by cannot be longer than the default answer time."
    horizon = values.get("max_horizon_days")
    if horizon is not None:
        if not MIN_HORIZON_DAYS <= int(horizon) <= MAX_HORIZON_DAYS:
            errors["max_horizon_days"] = f"Give a number of days from {MIN_HORIZON_DAYS} to {MAX_HORIZON_DAYS}."
        elif maximum is not None and int(horizon) < horizon_needed(Decimal(maximum)):
            errors["max_horizon_days"] = (
                f"The horizon must reach past the longest answer-by without a reason: {Decimal(maximum).normalize():f} "
                f"business hours take about {horizon_needed(Decimal(maximum))} days in a 40-hour week."
            )
    share = values.get("department_share")
    if share is not None and not Decimal("0.1") <= Decimal(share) <= 1:
        errors["department_share"] = "The departments' share of the answer window is between 0.1 and 1."
    thresholds = values.get("reminder_thresholds") or []
    try:
        exact = [Decimal(str(f)) for f in thresholds]
    except (ArithmeticError, ValueError, TypeError):
        exact = None
    if exact is None or any(not 0 < f < 1 or f != f.quantize(THRESHOLD_STEP) for f in exact):
        errors["reminder_thresholds"] = (
            "Each threshold is a fraction of the window strictly between 0 and 1, with at most three decimals."
        )
    elif exact != sorted(set(exact)):
        errors["reminder_thresholds"] = "Thresholds must be in increasing order without repeats, e.g. 0.5, 0.8."
    if errors:
        raise ValidationError(errors)


def _record(*, actor: Any, subject: str, summary: str, before: dict, after: dict, now: datetime, **objects: Any) -> SlaChange:
    return SlaChange.objects.create(
        at=now, actor=actor if getattr(actor, "pk", None) else None, subject=subject, summary=summary[:200],
        before=before, after=after, **objects,
    )


def sla_policy_update(*, actor: Any, policy_id: int, values: dict[str, Any], now: datetime | None = None) -> SlaPolicy:
    """Replace the current version `policy_id` of a priority's policy by a new version with `values`.

    Clocks already running keep their version; clocks started from now on get the new one. A form
    loaded for a version that is no longer current is a ConflictError (someone else saved in
    between): the caller shows it with the user's input kept. Saving unchanged values changes nothing.
    """
    permissions.require(actor, "s2o.manage_sla")
    now = now or timezone.now()
    with transaction.atomic():
        current = SlaPolicy.objects.select_for_update().get(pk=policy_id)
        if current.retired_at is not None:
            raise ConflictError(
                f"{current.get_priority_display()} policy version {current.version} was replaced while you were editing it. "
                "Your input is kept below; compare with the current version and save again."
            )
        # A setting the caller does not name keeps the current version's value.
        values = {name: values[name] if name in values else getattr(current, name) for name in POLICY_FIELDS}
        values["reminder_thresholds"] = [float(f) for f in values["reminder_thresholds"] or []]
        policy_validate(values)
        before = policy_snapshot(current)
        successor = SlaPolicy(
            priority=current.priority, version=current.version + 1, created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None, **values,
        )
        after = policy_snapshot(successor)
        if after == before:
            return current
        current.retired_at = now
        current.save(update_fields=["retired_at"])
        successor.save()
        _record(
            actor=actor, subject=SlaChange.Subject.POLICY, policy=successor, before=before, after=after, now=now,
            summary=f"{current.get_priority_display()} policy: version {successor.version} replaces version {current.version}",
        )
    return successor
