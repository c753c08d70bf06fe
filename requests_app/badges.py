"""The small pieces every row of a list or queue shows (the status badge, an SLA clock's badge, what
Sales must do, the list's "Due" cell, the rows' dates) and the request list's whole row.

They were `{% include %}`s of templates made of nested `{% if %}`s, rendered once or twice on every
row: on a list of 25 rows or a triage page of 50, about a third of the page's Python (a profile of
the request list and triage at 100k requests, bench/profile_page.py). Built here, they cost a few
microseconds each, and their wording lives in one place that tests read. Template tags expose them
(`requests_app.templatetags.clocks`); Operations' queue rows are in `analysis.rows`.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from html import escape as escape_text
from typing import TYPE_CHECKING

from django.template import defaultfilters
from django.utils import dateformat, timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.timesince import timesince
from django.utils.translation import get_language

from requests_app.clocks import ClockState, ClockStatus
from requests_app.models import Status

if TYPE_CHECKING:
    from requests_app.models import FeasibilityRequest, SalesAction

_STATUS_CSS: dict[str, str] = {
    Status.DRAFT: "text-bg-secondary",
    Status.SUBMITTED: "text-bg-info",
    Status.IN_ANALYSIS: "text-bg-primary",
    Status.WAITING_ON_SALES: "text-bg-warning",
    Status.ANSWERED: "text-bg-success",
}


def local_date(value: datetime | date | None, fmt: str) -> str:
    """`{{ value|date:fmt }}`, an aware instant in the reader's time zone (the page's active one).

    The formats rows use (day, weekday and month names, year, hours, minutes, seconds and
    punctuation) are written directly: Django's formatter builds an object and splits the format
    with a regular expression on every call, a tenth of a list page's Python for its 75 dates.
    Any other format goes to Django's (`tests/requests_app/test_badges.py` compares both)."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    plan = _plan(fmt)
    if plan is None or (not isinstance(value, datetime) and any(code in _TIME_CODES for code in plan)):
        return dateformat.format(value, fmt)
    days, months = _names(get_language())
    hour, minute, second = (value.hour, value.minute, value.second) if isinstance(value, datetime) else (0, 0, 0)
    out = []
    for code in plan:
        if code == "D":
            out.append(days[value.weekday()])
        elif code == "j":
            out.append(str(value.day))
        elif code == "M":
            out.append(months[value.month])
        elif code == "Y":
            out.append(f"{value.year:04d}")
        elif code == "H":
            out.append(f"{hour:02d}")
        elif code == "i":
            out.append(f"{minute:02d}")
        elif code == "s":
            out.append(f"{second:02d}")
        else:
            out.append(code)
    return "".join(out)


_FAST_CODES = frozenset("DjMYHis")
_TIME_CODES = frozenset("His")
# Every letter Django's formatter reads as a code (django.utils.dateformat.re_formatchars).
_DJANGO_CODES = frozenset("aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ")


@functools.cache
def _plan(fmt: str) -> tuple[str, ...] | None:
    """The format as codes and literal text, or None when it needs Django's formatter."""
    if "\\" in fmt or any(ch in _DJANGO_CODES and ch not in _FAST_CODES for ch in fmt):
        return None
    return tuple(fmt)


@functools.cache
def _names(language: str | None) -> tuple[tuple[str, ...], dict[int, str]]:
    """Weekday abbreviations and three-letter month names in one language, as Django words them."""
    with translation.override(language):
        return (tuple(str(WEEKDAYS_ABBR[d]) for d in range(7)),
                {m: str(MONTHS_3[m]).title() for m in range(1, 13)})


def business_hours(seconds: int | None) -> str:
    """Business seconds as words: 5400 → "1.5 business h"; 2 days' worth stays in hours."""
    if seconds is None:
        return ""
    value = abs(int(seconds)) / 3600
    if value < 0.05:
        # A clock that ran out at closing time is breached all night with no business time elapsed.
        return "under 0.1 business h"
    return f"{value:.1f} business h" if value < 10 else f"{value:.0f} business h"


def status_badge(req: FeasibilityRequest) -> SafeString:
    """The request's status, and its outcome once Sales decided."""
    html = format_html('<span class="badge {}">{}</span>', _STATUS_CSS.get(req.status, "text-bg-dark"),
                       req.get_status_display())
    if req.outcome:
        html += format_html(' <span class="badge text-bg-light border">{}</span>', req.get_outcome_display())
    return html


def clock_badge(state: ClockState | None, what: str = "") -> SafeString:
    """One SLA clock's state with the business time left or overdue; its title says what is due
    when (`what` defaults to the clock's name: "Acknowledge", "Answer", …)."""
    if state is None:
        return SafeString("")
    what = capfirst(what or state.clock)
    left = state.business_seconds_left
    if state.status == ClockStatus.PAUSED:
        title = format_html("{} clock paused while Operations waits on Sales", what)
    else:
        title = format_html("{} due {}", what, local_date(state.due, "D j M Y H:i"))
    if state.status == ClockStatus.BREACHED:
        overdue = business_hours(left) if left is not None else f"since {local_date(state.due, 'j M Y')}"
        body = format_html('<i class="bi bi-exclamation-triangle-fill" aria-hidden="true"></i> breached · overdue {}',
                           overdue)
    elif state.status == ClockStatus.PAUSED:
        body = SafeString('<i class="bi bi-pause-circle" aria-hidden="true"></i> paused')
    elif state.status == ClockStatus.MISSED:
        body = format_html("missed by {}", business_hours(left))
    elif state.status == ClockStatus.MET:
        body = SafeString('<i class="bi bi-check2" aria-hidden="true"></i> met')
    else:
        icon = (SafeString('<i class="bi bi-hourglass-split" aria-hidden="true"></i> ')
                if state.status == ClockStatus.DUE_SOON else SafeString(""))
        remaining = f"{business_hours(left)} left" if left is not None else f"due {local_date(state.due, 'j M Y')}"
        body = format_html("{}{} · {}", icon, state.label, remaining)
    return format_html('<span class="badge {} sla-clock" title="{}">{}</span>', state.css, title, body)


def sales_action(action: SalesAction, due: ClockState | None = None) -> SafeString:
    """What Sales must do now (reply to a question, decide on an answer) and since when; with the
    paused clock's badge first when there is one."""
    badge = format_html("{} ", clock_badge(due)) if due is not None else ""
    what = SafeString("reply to Operations' question") if action.is_reply else SafeString("decide on the answer")
    return format_html(
        '<span class="sales-action">{}<strong>Sales:</strong> {} · waiting since '
        '<time datetime="{}" title="{} ago">{}</time></span>',
        badge, what, local_date(action.since, "c"), timesince(action.since), local_date(action.since, "D j M H:i"),
    )


def due_mark(req: FeasibilityRequest, due: ClockState | None) -> SafeString:
    """A list's "Due" cell, never blank where someone must act: what Sales owes, else the running
    clock's badge, else why nothing is due."""
    action = req.awaiting_sales
    if action is not None:
        return sales_action(action, due)
    if due is not None:
        return clock_badge(due)
    if req.status == Status.DRAFT:
        return SafeString('<span class="text-body-secondary">Draft: not submitted yet</span>')
    return SafeString('<span class="text-body-secondary">Nothing due</span>')


def _not_given() -> SafeString:
    return SafeString('<span class="text-body-secondary">not given yet</span>')


def request_list_row(req: FeasibilityRequest, due: ClockState | None) -> SafeString:
    """One row of the request list (`requests_app/request_list.html` has its header).

    Built here rather than in the template: Django's template engine spent ~0.5 ms on each of the
    list's 25 rows (some thirty variable lookups and filters), a third of the page at 100k."""
    url = req.get_absolute_url()
    product, customer = req.product, req.customer  # joined by the list's query
    if product is not None:
        part: object = product.sku
    elif req.part_description:
        part = defaultfilters.truncatechars(req.part_description, 30)
    else:
        part = _not_given()
    if req.quantity is not None:
        quantity: object = format_html("{} {}", defaultfilters.floatformat(req.quantity, "-3"), req.unit)
    else:
        quantity = _not_given()
    author = req.requested_by
    url = esc(url)
    # Joined as text, each value escaped once by `_e` (format_html's per-argument lazy-string
    # checks were half of a row's cost).
    return SafeString(  # nosec B703: each value goes through esc() or is markup built here
        "<tr>"
        f'<td class="text-nowrap stack-title"><a href="{url}">{esc(req.reference or "Draft")}</a></td>'
        f'<td class="text-break stack-title"><a href="{url}">{esc(req.title)}</a></td>'
        f'<td data-label="Customer">{esc(customer.name) if customer is not None else _not_given()}</td>'
        f'<td data-label="Part">{esc(part)}</td>'
        f'<td class="text-end" data-label="Qty">{esc(quantity)}</td>'
        f'<td class="text-nowrap" data-label="Wanted by">'
        f'{esc(local_date(req.requested_date, "j M Y")) if req.requested_date else _not_given()}</td>'
        f'<td data-label="Priority">{esc(req.get_priority_display())}</td>'
        f'<td data-label="Status">{status_badge(req)}</td>'
        f'<td class="text-nowrap" data-label="Due">{due_mark(req, due)}</td>'
        f'<td data-label="Requested by">{esc(author.get_full_name() or author.username)}</td>'
        f'<td class="text-nowrap" data-label="Submitted">{esc(local_date(req.submitted_at, "j M Y H:i") or "—")}</td>'
        "</tr>"
    )


def esc(value: object) -> str:
    """`conditional_escape`: markup stays as it is, anything else is escaped (as Django's `escape`)."""
    html = getattr(value, "__html__", None)
    return html() if html is not None else escape_text(str(value), quote=True)
