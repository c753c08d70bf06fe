"""Writes to the SLA reference data: policy versions, business calendars and their closures.

Every function takes the acting user, asks the rulebook (`s2o.manage_sla`), validates the whole
thing it is about to store, and records an `SlaChange` (who, when, before → after) in the same
transaction, so managers can read every change on the SLA pages. The pages, the admin and any
other door call these; nothing else writes these rows.

A policy is never edited in place: `sla_policy_update` retires the current version and creates
the next one, so running clocks keep the version they started with (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from requests_app import businesstime, permissions
from requests_app.lifecycle import ConflictError
from requests_app.models import BusinessCalendar, CompanyClosure, SlaChange, SlaPolicy
from requests_app.roles import Actor

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


def _record(*, actor: Actor, subject: str, summary: str, before: dict, after: dict, now: datetime, **objects: Any) -> SlaChange:
    return SlaChange.objects.create(
        at=now, actor=actor if getattr(actor, "pk", None) else None, subject=subject, summary=summary[:200],
        before=before, after=after, **objects,
    )


def sla_policy_update(*, actor: Actor, policy_id: int, values: dict[str, Any], now: datetime | None = None) -> SlaPolicy:
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


# --------------------------------------------------------------------------------------------------
# Business calendars and their closures
# --------------------------------------------------------------------------------------------------

CALENDAR_FIELDS = ("name", "time_zone", "working_days", "periods", "holiday_country", "holiday_subdivision")
# A closure is a holiday season or a shutdown, not a way to stop the clocks for years: at most a
# year, and no stretch of the calendar (closures back to back included) without working time for
# longer than a year and a fortnight (the weekends and holidays around a year-long closure).
MAX_CLOSURE_DAYS = 366
MAX_IDLE = timedelta(days=MAX_CLOSURE_DAYS + 14)
# Closure dates lie within this many years of today (every date a user types has a sane range).
CLOSURE_YEARS = 10
MIN_WEEKLY_HOURS = Decimal(1)


def calendar_snapshot(calendar: BusinessCalendar) -> dict[str, Any]:
    return {name: getattr(calendar, name) for name in CALENDAR_FIELDS}


def closure_snapshot(closure: CompanyClosure) -> dict[str, Any]:
    return {"first_day": closure.start_date.isoformat(), "last_day": closure.end_date.isoformat(), "reason": closure.reason}


def calendar_validate(*, values: dict[str, Any], closures: list[tuple[date, date, str]], today: date) -> None:
    """The rules of a business calendar as a whole, with its closures, as field-keyed errors.

    Besides each field's shape (`WorkCalendar.validate`): at least an hour of working time a week;
    closures within ten years of today, at most a year long and not overlapping; and no stretch
    without working time longer than a year from today or from any closure's first day (closures
    back to back included): clocks on such a calendar would never fall due."""
    if not values.get("working_days"):
        raise ValidationError({"working_days": "Choose at least one working day: a calendar without working days never "
                                               "reaches a due time."})
    if not values.get("periods"):
        raise ValidationError({"periods": "Give at least one working period, e.g. 08:00-12:00."})
    try:
        periods = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in values.get("periods") or [])
        work = businesstime.WorkCalendar(
            time_zone=values.get("time_zone") or "",
            working_days=frozenset(int(d) for d in values.get("working_days") or []),
            periods=periods,
            holiday_country=values.get("holiday_country") or "",
            holiday_subdivision=values.get("holiday_subdivision") or "",
        )
        work.validate()
    except (TypeError, ValueError) as exc:
        message = str(exc)
        field = "time_zone" if "time zone" in message else "periods" if "period" in message else \
            "working_days" if "working_days" in message else "holiday_country" if "holiday" in message else NON_FIELD_ERRORS
        raise ValidationError({field: message[0].upper() + message[1:] + "."}) from exc
    weekly = Decimal(len(work.working_days) * _nominal_seconds(work)) / 3600
    if weekly < MIN_WEEKLY_HOURS:
        raise ValidationError({"periods": f"The calendar has {weekly:.2f} hours of working time a week; give at least "
                                          f"{MIN_WEEKLY_HOURS} hour, or clocks would take years to fall due."})
    _closures_validate(work, closures, today)


def _nominal_seconds(work: businesstime.WorkCalendar) -> int:
    seconds = 0
    for start, end in work.periods:
        end_seconds = 86400 if end == time(0) else end.hour * 3600 + end.minute * 60 + end.second
        seconds += end_seconds - (start.hour * 3600 + start.minute * 60 + start.second)
    return seconds


def _closures_validate(work: businesstime.WorkCalendar, closures: list[tuple[date, date, str]], today: date) -> None:
    earliest, latest = _years_from(today, -CLOSURE_YEARS), _years_from(today, CLOSURE_YEARS)
    ordered = sorted(closures)
    for first, last, _reason in ordered:
        if last < first:
            raise ValidationError({"end_date": "The last day cannot be before the first day."})
        if first < earliest or last > latest:
            raise ValidationError({NON_FIELD_ERRORS: f"Give closure dates between {earliest:%d %b %Y} and {latest:%d %b %Y}."})
        if (last - first).days + 1 > MAX_CLOSURE_DAYS:
            raise ValidationError({"end_date": f"A closure lasts at most a year ({MAX_CLOSURE_DAYS} days); "
                                               f"{first:%d %b %Y} – {last:%d %b %Y} is {(last - first).days + 1} days."})
    for (first, last, reason), (next_first, next_last, next_reason) in zip(ordered, ordered[1:], strict=False):
        if next_first <= last:
            label = f"“{reason}” " if reason else ""
            other = f"“{next_reason}” " if next_reason else ""
            message = (f"The closure {label}{first:%d %b %Y} – {last:%d %b %Y} overlaps the closure "
                       f"{other}{next_first:%d %b %Y} – {next_last:%d %b %Y}; make them one.")
            raise ValidationError({NON_FIELD_ERRORS: message})
    work = replace(work, closures=tuple((first, last) for first, last, _ in ordered))
    zone = ZoneInfo(work.time_zone)
    for start in [today, *(first for first, _, _ in ordered if first >= today)]:
        midnight = datetime.combine(start, time(0), tzinfo=zone)
        try:
            opening = businesstime.next_working_instant(work, midnight)
        except ValueError:
            opening = None
        if opening is None or opening - midnight > MAX_IDLE:
            until = f"until {opening.astimezone(zone):%d %b %Y}" if opening else "for years"
            message = (f"With these closures there is no working day from {start:%d %b %Y} {until}, more than a year: "
                       "clocks would never fall due. Shorten or remove a closure.")
            raise ValidationError({NON_FIELD_ERRORS: message})


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _calendar_closures(calendar_id: int | None) -> list[tuple[date, date, str]]:
    if calendar_id is None:
        return []
    return list(CompanyClosure.objects.filter(calendar_id=calendar_id).values_list("start_date", "end_date", "reason"))


def calendar_save(
    *, actor: Actor, calendar_id: int | None, values: dict[str, Any], now: datetime | None = None
) -> BusinessCalendar:
    """Create (``calendar_id=None``) or change a business calendar, validated as a whole with its
    closures, and record the change. Saving unchanged values changes nothing."""
    permissions.require(actor, "s2o.manage_sla")
    now = now or timezone.now()
    values = {name: values.get(name) for name in CALENDAR_FIELDS}
    values["working_days"] = sorted(int(d) for d in values["working_days"] or [])
    values["periods"] = [list(p) for p in values["periods"] or []]
    values["holiday_country"] = values["holiday_country"] or ""
    values["holiday_subdivision"] = values["holiday_subdivision"] or ""
    with transaction.atomic():
        calendar = (
            BusinessCalendar.objects.select_for_update().get(pk=calendar_id) if calendar_id is not None else BusinessCalendar()
        )
        calendar_validate(values=values, closures=_calendar_closures(calendar_id), today=timezone.localdate(now))
        before = calendar_snapshot(calendar) if calendar_id is not None else {}
        if before == values:
            return calendar
        for name, value in values.items():
            setattr(calendar, name, value)
        calendar.save()
        _record(
            actor=actor, subject=SlaChange.Subject.CALENDAR, calendar=calendar, before=before, after=values, now=now,
            summary=f"Calendar “{calendar.name}” {'changed' if before else 'created'}",
        )
    return calendar


def closure_add(
    *, actor: Actor, calendar_id: int, start_date: date, end_date: date, reason: str = "", now: datetime | None = None
) -> CompanyClosure:
    """Close a calendar from `start_date` to `end_date` (inclusive), if the calendar stays valid."""
    permissions.require(actor, "s2o.manage_sla")
    now = now or timezone.now()
    reason = (reason or "").strip()
    with transaction.atomic():
        # The calendar's row lock serialises closure changes, so two overlapping closures added at
        # once cannot both pass the overlap check.
        calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
        calendar_validate(
            values=calendar_snapshot(calendar), closures=[*_calendar_closures(calendar_id), (start_date, end_date, reason)],
            today=timezone.localdate(now),
        )
        closure = CompanyClosure.objects.create(calendar=calendar, start_date=start_date, end_date=end_date, reason=reason)
        _record(
            actor=actor, subject=SlaChange.Subject.CLOSURE, calendar=calendar, before={}, after=closure_snapshot(closure),
            now=now, summary=f"Calendar “{calendar.name}”: closed {start_date:%d %b %Y} – {end_date:%d %b %Y}",
        )
    return closure


def closure_delete(*, actor: Actor, calendar_id: int, closure_id: int, now: datetime | None = None) -> bool:
    """Remove a closure; False if it was already gone."""
    permissions.require(actor, "s2o.manage_sla")
    now = now or timezone.now()
    with transaction.atomic():
        calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
        closure = CompanyClosure.objects.filter(pk=closure_id, calendar=calendar).first()
        if closure is None:
            return False
        before = closure_snapshot(closure)
        closure.delete()
        _record(
            actor=actor, subject=SlaChange.Subject.CLOSURE, calendar=calendar, before=before, after={}, now=now,
            summary=f"Calendar “{calendar.name}”: closure {before['first_day']} – {before['last_day']} removed",
        )
    return True


def reference_generation() -> int:
    """A number that changes with every change to policies, calendars or closures (the latest
    change's id): caches of reference data compare it to know they are stale, in every process."""
    return SlaChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
