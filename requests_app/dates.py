"""How far ahead a date a person types may lie: a requested delivery, an alternative's delivery or a
department's earliest date. Sales plan a few years out at most; a later date is a typo (a year 9999
that every page, clock and export would then carry). The API's date fields use the same bound."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

FAR_FUTURE_YEARS = 10


def latest(today: date) -> date:
    """The last date accepted: `FAR_FUTURE_YEARS` ahead of `today` (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year + FAR_FUTURE_YEARS)
    except ValueError:
        return today.replace(year=today.year + FAR_FUTURE_YEARS, day=28)


def too_far(day: date, today: date) -> str | None:
    """Why `day` is refused, in words; None when it lies within the range."""
    last = latest(today)
    if day > last:
        return f"Choose a date on or before {last:%d %b %Y} ({FAR_FUTURE_YEARS} years ahead)."
    return None


def within_range(day: date) -> None:
    """A form field's validator: refuses a date past the range, in words."""
    if message := too_far(day, timezone.localdate()):
        raise ValidationError(message, code="too_far")
