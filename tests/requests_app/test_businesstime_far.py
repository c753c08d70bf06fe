"""Business time over far spans: counted, not walked, and equal to a slow day-by-day reference.

A span of years is measured by counting whole weeks and subtracting holidays and closures; the
answers must be exactly those of the plain walk described in `businesstime`'s docstring. The
reference below is written again from that description, independently of the module's internals:
every local day, each period localised with fold=0, clipped to the running cursor.
"""

from __future__ import annotations

import time as wallclock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from requests_app import businesstime
from requests_app.businesstime import (
    WorkCalendar,
    add_business_time,
    add_business_time_with_pauses,
    business_time_between,
    next_working_instant,
)

BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = frozenset(range(7))

CALENDARS = [
    WorkCalendar(time_zone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BY"),
    WorkCalendar(time_zone="America/New_York", periods=((time(9), time(17)),), holiday_country="US"),
    # Round the clock: every DST change makes a day of 23 or 25 business hours.
    WorkCalendar(time_zone="America/New_York", working_days=EVERY_DAY, periods=((time(0), time(0)),)),
    # Periods inside New York's gap and fold.
    WorkCalendar(
        time_zone="America/New_York",
        working_days=EVERY_DAY,
        periods=((time(0, 30), time(2, 30)), (time(2, 45), time(3, 15)), (time(22), time(0))),
    ),
    # Half-hour DST, a period straddling it, four working days, closures that overlap and touch.
    WorkCalendar(
        time_zone="Australia/Lord_Howe",
        working_days=frozenset({0, 2, 4, 5}),
        periods=((time(1, 45), time(2, 15)), (time(9), time(12, 30))),
        holiday_country="AU",
        holiday_subdivision="NSW",
        closures=(
            (date(2027, 6, 1), date(2027, 6, 30)),
            (date(2027, 6, 20), date(2027, 7, 10)),
            (date(2027, 7, 11), date(2027, 7, 12)),
            (date(2029, 12, 24), date(2030, 1, 6)),
        ),
    ),
    # A Sunday-to-Thursday week in a zone without DST, with a long closure.
    WorkCalendar(
        time_zone="Asia/Jerusalem",
        working_days=frozenset({6, 0, 1, 2, 3}),
        periods=((time(8, 30), time(16, 45)),),
        closures=((date(2028, 3, 1), date(2028, 11, 30)),),
    ),
]


# --------------------------------------------------------------------------------------------------
# The slow reference
# --------------------------------------------------------------------------------------------------


def reference_intervals(cal: WorkCalendar, start: datetime, end: datetime | None):
    """Day by day from the local day before `start`: the documented rule, nothing cached or counted."""
    zone = ZoneInfo(cal.time_zone)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = None if end is None else end.astimezone(zone).date() + timedelta(days=1)
    public: dict[int, set[date]] = {}
    cursor = start
    while last is None or day <= last:
        if cal.holiday_country and day.year not in public:
            found = holidays.country_holidays(
                cal.holiday_country, subdiv=cal.holiday_subdivision or None, years={day.year - 1, day.year, day.year + 1}
            )
            public[day.year] = {d for d in found if d.year == day.year}
        working = (
            day.weekday() in cal.working_days
            and day not in public.get(day.year, set())
            and not any(first <= day <= final for first, final in cal.closures)
        )
        if working:
            for opening_time, closing_time in cal.periods:
                opening = datetime.combine(day, opening_time, tzinfo=zone).astimezone(UTC)
                if closing_time == time(0):
                    closing = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
                else:
                    closing = datetime.combine(day, closing_time, tzinfo=zone).astimezone(UTC)
                opening = max(opening, cursor)
                if end is not None:
                    closing = min(closing, end)
                if opening < closing:
                    cursor = closing
                    yield opening, closing
        day += timedelta(days=1)


def reference_between(cal: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    if end <= start:
        return timedelta(0)
    return sum((closing - opening for opening, closing in reference_intervals(cal, start, end)), timedelta(0))


def reference_add(cal: WorkCalendar, start: datetime, amount: timedelta) -> datetime:
    if amount == timedelta(0):
        return start
    remaining = amount
    for opening, closing in reference_intervals(cal, start, None):
        if remaining <= closing - opening:
            return opening + remaining
        remaining -= closing - opening
    raise AssertionError("endless")


# --------------------------------------------------------------------------------------------------
# Agreement with the reference
# --------------------------------------------------------------------------------------------------

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
instants = st.integers(0, 4 * 365 * 24 * 60).map(lambda minutes: EPOCH + timedelta(minutes=minutes))
spans = st.one_of(
    st.integers(0, 6 * 365 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
    st.integers(20, 60).map(lambda days: timedelta(days=days)),  # just past the walked margins
)
amounts = st.integers(1, 2500 * 60).map(lambda minutes: timedelta(minutes=minutes))
SLOW = settings(max_examples=120, deadline=None, database=None)


@SLOW
@given(cal=st.sampled_from(CALENDARS), start=instants, span=spans)
@example(cal=CALENDARS[4], start=datetime(2027, 1, 5, tzinfo=UTC), span=timedelta(days=4 * 365))  # holidays in closures
@example(cal=CALENDARS[2], start=datetime(2026, 2, 1, tzinfo=UTC), span=timedelta(days=3 * 365))  # 23- and 25-hour days
@example(cal=CALENDARS[5], start=datetime(2028, 1, 9, 7, tzinfo=UTC), span=timedelta(days=400))  # a nine-month closure
def test_measuring_years_agrees_with_the_day_by_day_reference(cal: WorkCalendar, start: datetime, span: timedelta) -> None:
    assert business_time_between(cal, start, start + span) == reference_between(cal, start, start + span)


@SLOW
@given(cal=st.sampled_from(CALENDARS), start=instants, amount=amounts)
@example(cal=CALENDARS[4], start=datetime(2027, 5, 3, tzinfo=UTC), amount=timedelta(hours=900))
@example(cal=CALENDARS[5], start=datetime(2028, 2, 27, 7, tzinfo=UTC), amount=timedelta(hours=300))
def test_adding_thousands_of_hours_agrees_with_the_day_by_day_reference(
    cal: WorkCalendar, start: datetime, amount: timedelta
) -> None:
    assert add_business_time(cal, start, amount) == reference_add(cal, start, amount)


@SLOW
@given(
    cal=st.sampled_from(CALENDARS),
    start=instants,
    amount=amounts,
    pauses=st.lists(st.tuples(st.integers(0, 400 * 24 * 60), st.integers(0, 90 * 24 * 60)), max_size=3),
)
def test_long_pauses_move_a_far_due_time_by_exactly_the_business_time_they_cover(
    cal: WorkCalendar, start: datetime, amount: timedelta, pauses: list[tuple[int, int]]
) -> None:
    absolute = [(start + timedelta(minutes=at), start + timedelta(minutes=at + length)) for at, length in pauses]

    due = add_business_time_with_pauses(cal, start, amount, absolute)

    covered = reference_between(cal, start, due) - amount
    assert business_time_between(cal, start, due, absolute) == amount
    assert due == reference_add(cal, start, amount + covered)


# --------------------------------------------------------------------------------------------------
# Cost: the days looked at do not grow with the distance
# --------------------------------------------------------------------------------------------------


def days_looked_at(call) -> int:
    businesstime._day_intervals.cache_clear()
    call()
    info = businesstime._day_intervals.cache_info()
    return info.hits + info.misses


@pytest.mark.parametrize("years", [1, 5, 10])
def test_measuring_years_looks_at_a_few_weeks_of_days_whatever_the_distance(years: int) -> None:
    cal = CALENDARS[0]
    start = datetime(2026, 12, 2, 9, tzinfo=BERLIN)
    end = start.replace(year=2026 + years)

    looked_at = days_looked_at(lambda: business_time_between(cal, start, end))

    # Two walked ends and a few days around each of the two DST changes a year; a walk looks at 365 a year.
    assert looked_at <= 20 + 12 * years


def test_a_due_time_two_thousand_business_hours_away_looks_at_a_few_weeks_of_days() -> None:
    cal = CALENDARS[0]
    start = datetime(2026, 12, 2, 9, tzinfo=BERLIN)

    looked_at = days_looked_at(lambda: add_business_time(cal, start, timedelta(hours=2000)))

    assert looked_at < 120  # a walk would look at ~360 days


def test_a_year_long_closure_is_stepped_over_not_walked() -> None:
    cal = WorkCalendar(time_zone="Europe/Berlin", closures=((date(2027, 1, 1), date(2027, 12, 31)),))

    looked_at = days_looked_at(lambda: next_working_instant(cal, datetime(2027, 1, 1, tzinfo=BERLIN)))

    assert looked_at < 10
    assert next_working_instant(cal, datetime(2027, 1, 1, tzinfo=BERLIN)) == datetime(2028, 1, 3, 8, tzinfo=BERLIN)


def test_ten_years_of_berlin_working_days_are_counted_exactly() -> None:
    # 2027-01-01 to 2036-12-31 in Bavaria, counted by hand from the year tables:
    # 2,609 weekdays (Mon-Fri), less the Bavarian public holidays on them; 8 h a day.
    cal = WorkCalendar(time_zone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BY")
    start, end = datetime(2027, 1, 1, tzinfo=BERLIN), datetime(2037, 1, 1, tzinfo=BERLIN)
    weekday_holidays = sum(
        1
        for year in range(2027, 2037)
        for day in holidays.country_holidays("DE", subdiv="BY", years=year)
        if day.weekday() < 5
    )

    began = wallclock.perf_counter()
    measured = business_time_between(cal, start, end)
    elapsed = wallclock.perf_counter() - began

    assert measured == timedelta(hours=8) * (2609 - weekday_holidays)
    assert elapsed < 0.5
