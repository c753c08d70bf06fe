"""Business calendars are validated as a whole with their closures, every change is recorded, and
the pages that keep a calendar in memory see a change at once.

Head office calendar (the default): Europe/Berlin, Monday to Friday 08:00-12:00 and 13:00-17:00,
German public holidays. Today is Wednesday 2 December 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from analysis import views_dashboard
from requests_app import services_sla
from requests_app.models import BusinessCalendar, CompanyClosure, SlaChange
from requests_app.permissions import NotAllowed

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def head_office() -> BusinessCalendar:
    return BusinessCalendar.objects.get(is_default=True)


def close(manager, calendar, first: date, last: date, reason: str = "") -> CompanyClosure:
    return services_sla.closure_add(actor=manager, calendar_id=calendar.pk, start_date=first, end_date=last, reason=reason)


def refused(call) -> str:
    with pytest.raises(ValidationError) as caught:
        call()
    return " ".join(message for messages in caught.value.message_dict.values() for message in messages)


# --------------------------------------------------------------------------------------------------
# Closures
# --------------------------------------------------------------------------------------------------


def test_a_closure_longer_than_a_year_is_refused(manager, head_office):
    # The closure of about three years that made filing and the dashboard fail (F4).
    message = refused(lambda: close(manager, head_office, date(2026, 12, 1), date(2030, 12, 31)))

    assert message == "A closure lasts at most a year (366 days); 01 Dec 2026 – 31 Dec 2030 is 1492 days."
    assert not CompanyClosure.objects.exists()
    assert not SlaChange.objects.exists()


def test_overlapping_closures_are_refused_and_name_each_other(manager, head_office):
    close(manager, head_office, date(2026, 12, 24), date(2027, 1, 1), "Winter break")

    message = refused(lambda: close(manager, head_office, date(2026, 12, 31), date(2027, 1, 6), "Inventory"))

    assert message == (
        "The closure “Winter break” 24 Dec 2026 – 01 Jan 2027 overlaps the closure “Inventory” 31 Dec 2026 – 06 Jan 2027; "
        "make them one."
    )
    assert CompanyClosure.objects.count() == 1


def test_closures_back_to_back_that_stop_the_clocks_for_more_than_a_year_are_refused(manager, head_office):
    close(manager, head_office, date(2027, 1, 1), date(2027, 12, 31), "Rebuild")

    # 2028-01-01 is a Saturday; 2028-01-03 the next Monday: without a gap the calendar never works.
    message = refused(lambda: close(manager, head_office, date(2028, 1, 1), date(2028, 6, 30), "Rebuild, phase 2"))

    assert "no working day from 01 Jan 2027 until 03 Jul 2028, more than a year" in message
    assert CompanyClosure.objects.count() == 1


def test_a_year_long_closure_with_work_around_it_is_accepted(manager, head_office):
    closure = close(manager, head_office, date(2027, 1, 1), date(2027, 12, 31), "Rebuild")

    assert (closure.start_date, closure.end_date) == (date(2027, 1, 1), date(2027, 12, 31))


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2040, 1, 1), date(2040, 1, 2)), (date(1999, 12, 24), date(1999, 12, 26))],
)
def test_closure_dates_more_than_ten_years_away_are_refused(manager, head_office, first, last):
    message = refused(lambda: close(manager, head_office, first, last))

    assert message == "Give closure dates between 02 Dec 2016 and 02 Dec 2036."


def test_only_managers_change_calendars(ops_lead, head_office):
    with pytest.raises(NotAllowed):
        close(ops_lead, head_office, date(2026, 12, 24), date(2026, 12, 31))


# --------------------------------------------------------------------------------------------------
# The calendar itself
# --------------------------------------------------------------------------------------------------


def calendar_values(**overrides) -> dict:
    values = {"name": "Plant Ohio", "time_zone": "America/New_York", "working_days": [0, 1, 2, 3, 4],
              "periods": [["07:00", "11:30"], ["12:00", "16:00"]], "holiday_country": "US", "holiday_subdivision": "OH"}
    return {**values, **overrides}


def test_a_week_with_less_than_an_hour_of_work_is_refused(manager):
    message = refused(lambda: services_sla.calendar_save(
        actor=manager, calendar_id=None, values=calendar_values(working_days=[2], periods=[["08:00", "08:30"]]),
    ))

    assert message.startswith("The calendar has 0.50 hours of working time a week; give at least 1 hour")
    assert not BusinessCalendar.objects.filter(name="Plant Ohio").exists()


def test_a_week_without_working_days_is_refused(manager):
    no_days = calendar_values(working_days=[])

    message = refused(lambda: services_sla.calendar_save(actor=manager, calendar_id=None, values=no_days))

    assert message == "Choose at least one working day: a calendar without working days never reaches a due time."


def test_a_calendar_change_that_would_leave_a_closure_chain_without_work_is_refused(manager, head_office):
    close(manager, head_office, date(2027, 1, 4), date(2027, 12, 31), "Rebuild")
    close(manager, head_office, date(2028, 1, 5), date(2028, 12, 29), "Rebuild, phase 2")

    # Working Monday 3 and Tuesday 4 January 2028 separate the closures; on Saturdays only, the one
    # Saturday between them is New Year's Day, a holiday: no work from January 2027 to December 2028.
    message = refused(lambda: services_sla.calendar_save(
        actor=manager, calendar_id=head_office.pk,
        values={**services_sla.calendar_snapshot(head_office), "working_days": [5]},
    ))

    assert "no working day from 04 Jan 2027 until 30 Dec 2028" in message
    head_office.refresh_from_db()
    assert head_office.working_days == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------------------------------
# Every change leaves a trace
# --------------------------------------------------------------------------------------------------


def test_calendar_and_closure_changes_record_who_when_and_before_after(manager, head_office):
    services_sla.calendar_save(
        actor=manager, calendar_id=head_office.pk,
        values={**services_sla.calendar_snapshot(head_office), "periods": [["07:30", "12:00"], ["12:30", "16:30"]]},
    )
    closure = close(manager, head_office, date(2026, 12, 24), date(2026, 12, 31), "Winter break")
    services_sla.closure_delete(actor=manager, calendar_id=head_office.pk, closure_id=closure.pk)

    changes = list(SlaChange.objects.order_by("id"))
    assert [(c.subject, c.actor, c.at, c.calendar) for c in changes] == [
        (SlaChange.Subject.CALENDAR, manager, NOW, head_office),
        (SlaChange.Subject.CLOSURE, manager, NOW, head_office),
        (SlaChange.Subject.CLOSURE, manager, NOW, head_office),
    ]
    assert changes[0].before["periods"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert changes[0].after["periods"] == [["07:30", "12:00"], ["12:30", "16:30"]]
    assert changes[1].after == {"first_day": "2026-12-24", "last_day": "2026-12-31", "reason": "Winter break"}
    assert (changes[2].before, changes[2].after) == (changes[1].after, {})


def test_saving_an_unchanged_calendar_records_nothing(manager, head_office):
    services_sla.calendar_save(actor=manager, calendar_id=head_office.pk, values=services_sla.calendar_snapshot(head_office))

    assert not SlaChange.objects.exists()


def test_the_closure_page_shows_the_refusal_with_the_input_kept(client, manager, head_office):
    client.force_login(manager)
    add = reverse("analysis:sla_closure_add", args=[head_office.pk])

    response = client.post(add, {"start_date": "2026-12-01", "end_date": "2030-12-31", "reason": "Sabbatical"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "A closure lasts at most a year" in page
    assert 'value="2030-12-31"' in page and "Sabbatical" in page
    assert not CompanyClosure.objects.exists()


def test_the_sla_page_lists_calendar_changes(client, manager, head_office):
    close(manager, head_office, date(2026, 12, 24), date(2026, 12, 31), "Winter break")
    client.force_login(manager)

    page = client.get(reverse("analysis:sla_policies")).content.decode()

    assert "Calendar “Head office”: closed 24 Dec 2026 – 31 Dec 2026" in page


# --------------------------------------------------------------------------------------------------
# Caches follow the changes
# --------------------------------------------------------------------------------------------------


def test_the_dashboard_sees_a_new_closure_on_the_next_page_not_a_minute_later(manager, head_office):
    assert views_dashboard.default_work_calendar().closures == ()

    close(manager, head_office, date(2026, 12, 24), date(2026, 12, 31))

    assert views_dashboard.default_work_calendar().closures == ((date(2026, 12, 24), date(2026, 12, 31)),)


def test_the_dashboard_sees_a_removed_closure_at_once(manager, head_office):
    closure = close(manager, head_office, date(2026, 12, 24), date(2026, 12, 31))
    assert views_dashboard.default_work_calendar().closures != ()

    services_sla.closure_delete(actor=manager, calendar_id=head_office.pk, closure_id=closure.pk)

    assert views_dashboard.default_work_calendar().closures == ()


# --------------------------------------------------------------------------------------------------
# Admin: what feeds clocks and metrics is read-only
# --------------------------------------------------------------------------------------------------


def test_the_admin_shows_the_fields_that_feed_clocks_and_metrics_read_only(rf, manager):
    import analysis.admin  # noqa: F401 - registers
    from analysis.models import Answer, Assessment

    request = rf.get("/")
    request.user = manager
    assessment_fields = admin.site._registry[Assessment].get_readonly_fields(request, Assessment(pk=1))
    answer_fields = admin.site._registry[Answer].get_readonly_fields(request, Answer(pk=1))

    assert {"due_at", "assessed_at", "met", "assessment_seconds", "routed_at"} <= set(assessment_fields)
    assert {"published_at", "superseded_at"} <= set(answer_fields)
