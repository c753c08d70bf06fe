"""SLA clock badges: `{% load clocks %}{% clock_badge request %}` or `{% clock_badge request "acknowledge" %}`.

The badge shows what `FeasibilityRequest.get_clock_state` decides — the state every page, list
and queue shows — with business time left or overdue. Calendars are read once per page render,
so a queue of 50 rows costs no extra query per row beyond the first use of each calendar.
Operations' department clocks have their own tag in `analysis` (`operations_clocks`).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from requests_app.clocks import Calendars, ClockState
from requests_app.models import FeasibilityRequest

register = template.Library()

WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@register.filter
def business_hours(seconds: int | None) -> str:
    """Business seconds as words: 5400 → "1.5 business h"; 2 days' worth stays in hours."""
    if seconds is None:
        return ""
    value = abs(int(seconds)) / 3600
    if value < 0.05:
        # A clock that ran out at closing time is breached all night with no business time elapsed.
        return "under 0.1 business h"
    return f"{value:.1f} business h" if value < 10 else f"{value:.0f} business h"


@register.filter
def weekday_names(days: Any) -> str:
    return ", ".join(WEEKDAY_NAMES[int(d)] for d in sorted(days or []) if 0 <= int(d) <= 6)


def page_calendars(context: template.Context) -> Calendars:
    """The render's calendar cache (shared by every badge of one page)."""
    # django-stubs types BaseContext.setdefault for the template loader's own values only.
    return context.render_context.setdefault("s2o_calendars", Calendars())  # type: ignore[arg-type,return-value]


def page_now(context: template.Context) -> Any:
    return context.get("now_utc") or timezone.now()


@register.simple_tag(takes_context=True)
def clock_state(context: template.Context, req: FeasibilityRequest, clock: str = "") -> ClockState | None:
    """`{% clock_state req as state %}`: the request's clock state, for pages that word it themselves."""
    return req.get_clock_state(page_now(context), page_calendars(context).of(req), clock or None)


@register.inclusion_tag("requests_app/_clock_badge.html", takes_context=True)
def clock_badge(context: template.Context, req: FeasibilityRequest, clock: str = "") -> dict:
    return {"state": clock_state(context, req, clock)}
