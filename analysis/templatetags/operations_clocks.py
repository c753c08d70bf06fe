"""Department clock badges: `{% load operations_clocks %}{% assessment_badge assessment %}`.

The state is `Assessment.get_clock_state` in the department's calendar, rendered by the same badge
as the request's clocks (`requests_app.badges.clock_badge`)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from analysis import rows
from analysis.clocks import department_calendar_id
from analysis.models import Assessment
from analysis.selectors import DepartmentRow, QueueRow
from requests_app import badges
from requests_app.clocks import ClockState
from requests_app.templatetags.clocks import page_calendars, page_now

register = template.Library()


@register.simple_tag(takes_context=True)
def assessment_state(context: template.Context, assessment: Assessment) -> ClockState | None:
    calendar = page_calendars(context).get(department_calendar_id(assessment))
    return assessment.get_clock_state(page_now(context), calendar)


@register.simple_tag(takes_context=True)
def assessment_badge(context: template.Context, assessment: Assessment) -> SafeString:
    return badges.clock_badge(assessment_state(context, assessment), f"{assessment.department.name} assessment")


@register.simple_tag(takes_context=True)
def unacknowledged_row(context: template.Context, row: QueueRow) -> SafeString:
    """Triage's row of a request waiting for acknowledgement (`analysis.rows`); reads `can_act` and
    `ticked` from the page."""
    return rows.unacknowledged_row(row, can_act=bool(context.get("can_act")), ticked=context.get("ticked") or set())


@register.simple_tag(takes_context=True)
def in_analysis_row(context: template.Context, row: QueueRow) -> SafeString:
    return rows.in_analysis_row(row, can_act=bool(context.get("can_act")))


@register.simple_tag
def department_row(row: DepartmentRow) -> SafeString:
    return rows.department_row(row)
