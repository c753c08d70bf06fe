"""SLA clock badges: `{% load clocks %}{% clock_badge request %}` or `{% clock_badge request "acknowledge" %}`.

The badge shows what `FeasibilityRequest.get_clock_state` decides — the state every page, list
and queue shows — with business time left or overdue. Calendars are read once per page render,
so a queue of 50 rows costs no extra query per row beyond the first use of each calendar.
Operations' department clocks have their own tag in `analysis` (`operations_clocks`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.template import defaultfilters
from django.utils import timezone
from django.utils.safestring import SafeString

from requests_app import badges
from requests_app.clocks import Calendars, ClockState
from requests_app.models import FeasibilityRequest, SalesAction

register = template.Library()

WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@register.filter
def business_hours(seconds: int | None) -> str:
    """Business seconds as words: 5400 → "1.5 business h"; 2 days' worth stays in hours."""
    return badges.business_hours(seconds)


@register.filter(expects_localtime=True, is_safe=False)
def local_date(value: Any, fmt: str) -> str:
    """`{{ when|local_date:"D j M H:i" }}`: Django's `date` filter, faster for the formats rows use."""
    if not isinstance(value, date):
        return defaultfilters.date(value, fmt)
    return badges.local_date(value, fmt)


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


@register.simple_tag(takes_context=True)
def clock_badge(context: template.Context, req: FeasibilityRequest, clock: str = "") -> SafeString:
    """`{% clock_badge req %}`: the badge of the request's running clock (or of `clock`)."""
    return badges.clock_badge(clock_state(context, req, clock))


@register.simple_tag
def state_badge(state: ClockState | None, what: str = "") -> SafeString:
    """`{% state_badge row.state %}`: the badge of a clock state a selector computed."""
    return badges.clock_badge(state, what)


@register.simple_tag
def status_badge(req: FeasibilityRequest) -> SafeString:
    return badges.status_badge(req)


@register.simple_tag
def sales_action(action: SalesAction, due: ClockState | None = None) -> SafeString:
    return badges.sales_action(action, due)


@register.simple_tag
def request_list_row(req: FeasibilityRequest, due: ClockState | None) -> SafeString:
    """`{% request_list_row req due %}`: one row of the request list (`badges.request_list_row`)."""
    return badges.request_list_row(req, due)


@register.simple_tag
def due_mark(req: FeasibilityRequest, due: ClockState | None) -> SafeString:
    """A list's "Due" cell: what Sales owes, else the clock's badge, else why nothing is due."""
    return badges.due_mark(req, due)
