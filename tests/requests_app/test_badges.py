"""The pieces every row shows (requests_app.badges), word for word, and the rows' fast dates, which
must read exactly as Django's `date` filter would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.utils import dateformat, timezone, translation

from requests_app import badges
from requests_app.clocks import ClockState, ClockStatus
from requests_app.models import FeasibilityRequest, Outcome, SalesAction, Status

# Monday 30 March 2026, 08:00 UTC: 10:00 in Berlin (summer time since the day before).
DUE = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def state(status: ClockStatus, left: int | None = 5400, clock: str = "answer") -> ClockState:
    return ClockState(clock, status, DUE, left)


@pytest.fixture(autouse=True)
def berlin():
    with timezone.override("Europe/Berlin"):
        yield


def test_each_clock_state_reads_as_the_pages_show_it():
    title = 'title="Answer due Mon 30 Mar 2026 10:00"'
    assert badges.clock_badge(state(ClockStatus.ON_TRACK, 36000)) == (
        f'<span class="badge text-bg-success sla-clock" {title}>on track · 10 business h left</span>')
    assert badges.clock_badge(state(ClockStatus.DUE_SOON, 5400)) == (
        f'<span class="badge text-bg-warning sla-clock" {title}>'
        '<i class="bi bi-hourglass-split" aria-hidden="true"></i> due soon · 1.5 business h left</span>')
    assert badges.clock_badge(state(ClockStatus.BREACHED, -5400)) == (
        f'<span class="badge text-bg-danger sla-clock" {title}>'
        '<i class="bi bi-exclamation-triangle-fill" aria-hidden="true"></i> breached · overdue 1.5 business h</span>')
    assert badges.clock_badge(state(ClockStatus.MISSED, -120)) == (
        f'<span class="badge text-bg-dark sla-clock" {title}>missed by under 0.1 business h</span>')
    assert badges.clock_badge(state(ClockStatus.MET, 600)) == (
        f'<span class="badge text-bg-secondary sla-clock" {title}><i class="bi bi-check2" aria-hidden="true"></i> met</span>')
    assert badges.clock_badge(state(ClockStatus.PAUSED, None)) == (
        '<span class="badge text-bg-info sla-clock" title="Answer clock paused while Operations waits on Sales">'
        '<i class="bi bi-pause-circle" aria-hidden="true"></i> paused</span>')
    assert badges.clock_badge(None) == ""


def test_a_due_time_beyond_the_clock_math_shows_its_date_instead_of_hours_left():
    assert "on track · due 30 Mar 2026<" in badges.clock_badge(state(ClockStatus.ON_TRACK, None))
    assert "breached · overdue since 30 Mar 2026<" in badges.clock_badge(state(ClockStatus.BREACHED, None))


def test_the_badge_names_what_is_due_and_escapes_it():
    html = badges.clock_badge(state(ClockStatus.ON_TRACK, 36000, "department"), "R&D <b>lab</b> assessment")
    assert 'title="R&amp;D &lt;b&gt;lab&lt;/b&gt; assessment due Mon 30 Mar 2026 10:00"' in html
    assert 'title="Acknowledge due' in badges.clock_badge(state(ClockStatus.ON_TRACK, 36000, "acknowledge"))


def test_status_and_outcome():
    assert badges.status_badge(FeasibilityRequest(status=Status.IN_ANALYSIS)) == (
        '<span class="badge text-bg-primary">In analysis</span>')
    assert badges.status_badge(FeasibilityRequest(status=Status.WAITING_ON_SALES)) == (
        '<span class="badge text-bg-warning">Waiting on Sales</span>')
    assert badges.status_badge(FeasibilityRequest(status=Status.CLOSED, outcome=Outcome.ALTERNATIVE_ACCEPTED)) == (
        '<span class="badge text-bg-dark">Closed</span> <span class="badge text-bg-light border">Alternative accepted</span>')


@time_machine.travel(datetime(2026, 3, 30, 12, 0, tzinfo=UTC), tick=False)
def test_what_sales_owes_since_when_with_the_paused_clock_first():
    question = SalesAction(SalesAction.REPLY, datetime(2026, 3, 27, 15, 5, tzinfo=UTC))
    assert badges.sales_action(question, state(ClockStatus.PAUSED, None)) == (
        '<span class="sales-action"><span class="badge text-bg-info sla-clock" title="Answer clock paused while '
        'Operations waits on Sales"><i class="bi bi-pause-circle" aria-hidden="true"></i> paused</span> '
        "<strong>Sales:</strong> reply to Operations' question · waiting since "
        '<time datetime="2026-03-27T16:05:00+01:00" title="2\xa0days, 20\xa0hours ago">Fri 27 Mar 16:05</time></span>')
    answer = SalesAction(SalesAction.DECIDE, datetime(2026, 3, 30, 9, 0, tzinfo=UTC))
    assert badges.sales_action(answer).startswith(
        '<span class="sales-action"><strong>Sales:</strong> decide on the answer · waiting since')


def test_the_due_cell_is_never_blank():
    waiting = FeasibilityRequest(status=Status.WAITING_ON_SALES, paused_since=DUE - timedelta(days=1))
    assert "reply to Operations' question" in badges.due_mark(waiting, state(ClockStatus.PAUSED, None))
    answered = FeasibilityRequest(status=Status.ANSWERED, answered_at=DUE)
    assert "decide on the answer" in badges.due_mark(answered, None)
    running = FeasibilityRequest(status=Status.IN_ANALYSIS)
    assert badges.due_mark(running, state(ClockStatus.ON_TRACK, 36000)) == badges.clock_badge(
        state(ClockStatus.ON_TRACK, 36000))
    assert badges.due_mark(FeasibilityRequest(status=Status.DRAFT), None) == (
        '<span class="text-body-secondary">Draft: not submitted yet</span>')
    assert badges.due_mark(FeasibilityRequest(status=Status.CLOSED), None) == (
        '<span class="text-body-secondary">Nothing due</span>')


def test_row_dates_by_hand():
    assert badges.local_date(DUE, "D j M H:i") == "Mon 30 Mar 10:00"
    assert badges.local_date(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "D j M Y H:i") == "Sun 29 Mar 2026 01:59"
    assert badges.local_date(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "D j M Y H:i") == "Sun 29 Mar 2026 03:00"
    assert badges.local_date(date(2026, 1, 5), "j M Y") == "5 Jan 2026"
    assert badges.local_date(None, "j M Y") == ""
    with translation.override("de"):
        assert badges.local_date(DUE, "D j M") == "Mo 30 Mär"


FORMATS = ["D j M H:i", "D j M Y H:i", "j M Y", "j M Y H:i", "j M", "D j M Y", "j M H:i:s", "D j M, H:i",
           "c", "l j F Y, H:i T", "N j, Y", r"j \d\e M", "Y-m-d H:i:s"]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"])
@pytest.mark.parametrize("language", ["en-us", "de", "fr"])
def test_row_dates_read_as_djangos_date_filter(zone, language):
    instants = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=7 * i, minutes=13 * i, seconds=i) for i in range(300)]
    instants += [datetime(1, 1, 1, 0, 0, tzinfo=UTC) + timedelta(days=400), datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)]
    template = Template("{% load clocks %}{{ value|local_date:fmt }}|{{ value|date:fmt }}")
    with timezone.override(zone), translation.override(language):
        for value in [*instants, date(2026, 2, 28), date(900, 7, 4)]:
            for fmt in FORMATS:
                if not isinstance(value, datetime) and any(code in fmt for code in "HisTc"):
                    continue  # Django refuses time codes for a date
                local = timezone.localtime(value) if isinstance(value, datetime) else value
                expected = dateformat.format(local, fmt)
                fast, django = template.render(Context({"value": value, "fmt": fmt})).split("|")
                assert fast == django == expected, (value, fmt)
                assert badges.local_date(value, fmt) == expected, (value, fmt)


@pytest.mark.django_db
def test_a_home_page_rows_badge_says_which_clock_is_due_not_the_sections_name():
    from django.template.loader import render_to_string

    from requests_app.selectors import Section

    req = FeasibilityRequest(pk=10**9, reference="S2O-2026-00001", title="Brackets", status=Status.IN_ANALYSIS)
    section = Section(rows=[(req, state(ClockStatus.ON_TRACK, 36000))], more=False)
    html = render_to_string("requests_app/_work_rows.html", {"section": section, "what": "my open requests"})
    # The include this replaced took its title from the section's words ("My open requests due …").
    assert 'title="Answer due Mon 30 Mar 2026 10:00">on track · 10 business h left</span>' in html
    assert "My open requests due" not in html


def test_a_request_list_row_word_for_word():
    from django.contrib.auth.models import User

    from requests_app.models import Customer, Priority, Product

    rita = User(username="rita", first_name="Rita", last_name="Rep")
    req = FeasibilityRequest(
        pk=7, reference="S2O-2026-00007", title="500 <b>brackets</b>", status=Status.IN_ANALYSIS,
        customer=Customer(name="Acme & Co"), product=Product(sku="BR-500"), quantity="500.000", unit="pcs",
        requested_date=date(2026, 4, 1), priority=Priority.URGENT, requested_by=rita, submitted_at=DUE,
    )
    html = badges.request_list_row(req, state(ClockStatus.DUE_SOON, 5400))
    assert html == (
        '<tr><td class="text-nowrap stack-title"><a href="/requests/7/">S2O-2026-00007</a></td>'
        '<td class="text-break stack-title"><a href="/requests/7/">500 &lt;b&gt;brackets&lt;/b&gt;</a></td>'
        '<td data-label="Customer">Acme &amp; Co</td><td data-label="Part">BR-500</td>'
        '<td class="text-end" data-label="Qty">500 pcs</td><td class="text-nowrap" data-label="Wanted by">1 Apr 2026</td>'
        '<td data-label="Priority">Urgent</td><td data-label="Status"><span class="badge text-bg-primary">In analysis</span></td>'
        '<td class="text-nowrap" data-label="Due">'
        '<span class="badge text-bg-warning sla-clock" title="Answer due Mon 30 Mar 2026 10:00">'
        '<i class="bi bi-hourglass-split" aria-hidden="true"></i> due soon · 1.5 business h left</span></td>'
        '<td data-label="Requested by">Rita Rep</td><td class="text-nowrap" data-label="Submitted">30 Mar 2026 10:00</td></tr>'
    )
    draft = FeasibilityRequest(pk=8, title="Half typed", status=Status.DRAFT, part_description="x" * 40,
                               quantity="2.5", unit="kg", requested_by=User(username="tom"))
    html = badges.request_list_row(draft, None)
    assert '<a href="/requests/8/">Draft</a>' in html
    assert '<td data-label="Customer"><span class="text-body-secondary">not given yet</span></td>' in html
    assert f'<td data-label="Part">{"x" * 29}…</td>' in html
    assert '<td class="text-end" data-label="Qty">2.500 kg</td>' in html
    assert '<td class="text-nowrap" data-label="Wanted by"><span class="text-body-secondary">not given yet</span></td>' in html
    assert '<td data-label="Requested by">tom</td><td class="text-nowrap" data-label="Submitted">—</td>' in html
    assert "Draft: not submitted yet" in html
