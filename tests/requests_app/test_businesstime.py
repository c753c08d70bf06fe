"""Business-time arithmetic: worked examples, edge cases and properties.

Pure functions, so no database and no frozen clock: every instant is an argument. The worked
examples pin the numbers written in RELIABILITY.md and DESIGN.md; the properties pin the algebra
the SLA code relies on (add and measure are inverses, pauses only push due times later, ...) over
calendars chosen to be hostile: DST gaps and folds inside periods, half-hour DST, night shifts,
round-the-clock work, holidays and closures.
"""

from __future__ import annotations

import time as wallclock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app.businesstime import (
    MAX_IDLE_DAYS,
    WorkCalendar,
    add_business_time,
    add_business_time_with_pauses,
    business_time_between,
    day_off_reason,
    is_period_end,
    is_working_time,
    next_working_instant,
    working_intervals,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)
EVERY_DAY = frozenset(range(7))

BERLIN_CAL = WorkCalendar(time_zone="Europe/Berlin", holiday_country="DE")
NEW_YORK_CAL = WorkCalendar(time_zone="America/New_York", periods=((time(9), time(17)),), holiday_country="US")
ROUND_THE_CLOCK_NY = WorkCalendar(time_zone="America/New_York", working_days=EVERY_DAY, periods=((time(0), time(0)),))
ROUND_THE_CLOCK_BERLIN = WorkCalendar(time_zone="Europe/Berlin", working_days=EVERY_DAY, periods=((time(0), time(0)),))
# Periods that start, end and sit inside New York's 02:00 gap and 01:00-02:00 fold, every day.
NIGHT_SHIFT_NY = WorkCalendar(
    time_zone="America/New_York",
    working_days=EVERY_DAY,
    periods=((time(0, 30), time(2, 30)), (time(2, 45), time(3, 15)), (time(22), time(0))),
)
# Half-hour DST at 02:00, a period straddling it, four working days and a month-long closure.
LORD_HOWE_CAL = WorkCalendar(
    time_zone="Australia/Lord_Howe",
    working_days=frozenset({0, 2, 4, 5}),
    periods=((time(1, 45), time(2, 15)), (time(9), time(12, 30))),
    holiday_country="AU",
    holiday_subdivision="NSW",
    closures=((date(2026, 6, 1), date(2026, 6, 30)),),
)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def whole_day_intervals(cal: WorkCalendar, zone: ZoneInfo, day: date) -> list[tuple[datetime, datetime]]:
    """Working intervals between this local midnight and the next."""
    following = day + timedelta(days=1)
    return list(
        working_intervals(
            cal,
            local(zone, day.year, day.month, day.day),
            local(zone, following.year, following.month, following.day),
        )
    )


# --------------------------------------------------------------------------------------------------
# The worked example of RELIABILITY.md
# --------------------------------------------------------------------------------------------------

FILED = utc(2026, 3, 27, 15)  # Fri 16:00 CET
WAITING_ON_SALES = (local(BERLIN, 2026, 3, 30, 10), local(BERLIN, 2026, 3, 31, 9))


def test_eight_business_hours_filed_friday_afternoon_fall_due_monday_afternoon_after_the_clocks_change() -> None:
    due = add_business_time(BERLIN_CAL, FILED, hours(8))

    assert due == utc(2026, 3, 30, 14)  # Mon 16:00 CEST
    assert due.astimezone(BERLIN) == local(BERLIN, 2026, 3, 30, 16)
    assert due - FILED == hours(71)
    assert due.tzinfo is UTC


def test_a_pause_from_monday_ten_to_tuesday_nine_removes_seven_business_hours() -> None:
    horizon = utc(2026, 4, 10)

    removed = business_time_between(BERLIN_CAL, FILED, horizon) - business_time_between(
        BERLIN_CAL, FILED, horizon, [WAITING_ON_SALES]
    )

    assert removed == hours(7)  # 2 + 4 + 1
    assert business_time_between(BERLIN_CAL, *WAITING_ON_SALES) == hours(7)


def test_the_pause_moves_the_due_time_seven_business_hours_later() -> None:
    due = add_business_time(BERLIN_CAL, FILED, hours(8))

    paused_due = add_business_time_with_pauses(BERLIN_CAL, FILED, hours(8), [WAITING_ON_SALES])

    assert paused_due == add_business_time(BERLIN_CAL, due, hours(7))
    assert paused_due == utc(2026, 3, 31, 13)  # Tue 15:00 CEST
    assert business_time_between(BERLIN_CAL, FILED, paused_due, [WAITING_ON_SALES]) == hours(8)


# --------------------------------------------------------------------------------------------------
# Daylight saving time
# --------------------------------------------------------------------------------------------------


def test_a_new_york_spring_forward_weekend_is_skipped_with_the_new_offset_on_monday() -> None:
    filed = local(NEW_YORK, 2026, 3, 6, 16)  # Fri 16:00 EST = 21:00Z

    due = add_business_time(NEW_YORK_CAL, filed, hours(2))

    assert due == utc(2026, 3, 9, 14)  # Mon 10:00 EDT
    assert due - filed == hours(65)


def test_a_new_york_fall_back_weekend_is_skipped_with_the_new_offset_on_monday() -> None:
    filed = local(NEW_YORK, 2026, 10, 30, 16)  # Fri 16:00 EDT = 20:00Z

    due = add_business_time(NEW_YORK_CAL, filed, hours(2))

    assert due == utc(2026, 11, 2, 15)  # Mon 10:00 EST
    assert due - filed == hours(67)


def test_a_berlin_autumn_weekend_is_skipped_with_the_new_offset_on_monday() -> None:
    filed = local(BERLIN, 2026, 10, 23, 16)  # Fri 16:00 CEST = 14:00Z

    due = add_business_time(BERLIN_CAL, filed, hours(2))

    assert due == utc(2026, 10, 26, 8)  # Mon 09:00 CET
    assert due - filed == hours(66)


@pytest.mark.parametrize(
    ("cal", "zone", "day", "expected"),
    [
        (ROUND_THE_CLOCK_NY, NEW_YORK, date(2026, 3, 8), hours(23)),
        (ROUND_THE_CLOCK_NY, NEW_YORK, date(2026, 11, 1), hours(25)),
        (ROUND_THE_CLOCK_BERLIN, BERLIN, date(2026, 3, 29), hours(23)),
        (ROUND_THE_CLOCK_BERLIN, BERLIN, date(2026, 10, 25), hours(25)),
        (ROUND_THE_CLOCK_BERLIN, BERLIN, date(2026, 10, 26), hours(24)),
    ],
)
def test_a_round_the_clock_day_is_worth_its_real_length_on_dst_days(
    cal: WorkCalendar, zone: ZoneInfo, day: date, expected: timedelta
) -> None:
    start = local(zone, day.year, day.month, day.day)
    end = start.replace(day=day.day + 1)

    assert business_time_between(cal, start, end) == expected


def test_a_period_starting_in_the_spring_gap_starts_a_gap_later_on_the_wall_clock() -> None:
    cal = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(2, 30), time(4)),))

    assert whole_day_intervals(cal, NEW_YORK, date(2026, 3, 8)) == [(utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8))]
    assert whole_day_intervals(cal, NEW_YORK, date(2026, 3, 9)) == [(utc(2026, 3, 9, 6, 30), utc(2026, 3, 9, 8))]


def test_a_period_ending_in_the_spring_gap_ends_a_gap_later_on_the_wall_clock() -> None:
    cal = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(1), time(2, 30)),))

    assert whole_day_intervals(cal, NEW_YORK, date(2026, 3, 8)) == [(utc(2026, 3, 8, 6), utc(2026, 3, 8, 7, 30))]


def test_periods_that_overlap_after_the_spring_shift_count_each_instant_once() -> None:
    cal = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(1), time(2, 30)), (time(3), time(5))))

    intervals = whole_day_intervals(cal, NEW_YORK, date(2026, 3, 8))

    assert intervals == [(utc(2026, 3, 8, 6), utc(2026, 3, 8, 7, 30)), (utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 9))]
    # 01:00 EST to 05:00 EDT is three real hours, and that is what is counted.
    assert business_time_between(cal, local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9)) == hours(3)


def test_a_period_that_the_spring_shift_pushes_past_its_own_end_disappears_for_that_day() -> None:
    cal = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(1), time(2)), (time(2, 30), time(3, 15))))

    assert whole_day_intervals(cal, NEW_YORK, date(2026, 3, 8)) == [(utc(2026, 3, 8, 6), utc(2026, 3, 8, 7))]
    assert business_time_between(cal, local(NEW_YORK, 2026, 3, 9), local(NEW_YORK, 2026, 3, 10)) == hours(1.75)


def test_a_period_spanning_the_autumn_fold_counts_the_repeated_hour() -> None:
    cal = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(0), time(3)),))

    assert whole_day_intervals(cal, NEW_YORK, date(2026, 11, 1)) == [(utc(2026, 11, 1, 4), utc(2026, 11, 1, 8))]


def test_an_ambiguous_wall_time_in_the_autumn_fold_means_its_first_occurrence() -> None:
    cal = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(0), time(1, 30)), (time(1, 30), time(3))))

    assert whole_day_intervals(cal, NEW_YORK, date(2026, 11, 1)) == [
        (utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30)),
        (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8)),
    ]


def test_a_period_time_marked_fold_one_means_the_same_as_fold_zero() -> None:
    plain = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(1, 30), time(3)),))
    folded = WorkCalendar("America/New_York", working_days=EVERY_DAY, periods=((time(1, 30, fold=1), time(3)),))

    day = date(2026, 11, 1)
    assert whole_day_intervals(folded, NEW_YORK, day) == whole_day_intervals(plain, NEW_YORK, day)
    assert whole_day_intervals(plain, NEW_YORK, day) == [(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8))]


# --------------------------------------------------------------------------------------------------
# Holidays, closures and weekends
# --------------------------------------------------------------------------------------------------


def test_good_friday_and_easter_monday_are_skipped_in_germany() -> None:
    filed = local(BERLIN, 2026, 4, 2, 16)  # Thu before Easter

    due = add_business_time(BERLIN_CAL, filed, hours(2))

    assert due == local(BERLIN, 2026, 4, 7, 9)
    assert not BERLIN_CAL.is_working_day(date(2026, 4, 3))
    assert not BERLIN_CAL.is_working_day(date(2026, 4, 6))
    assert BERLIN_CAL.is_working_day(date(2026, 4, 7))


def test_us_thanksgiving_is_skipped_in_new_york() -> None:
    filed = local(NEW_YORK, 2026, 11, 25, 16)  # Wed before Thanksgiving

    due = add_business_time(NEW_YORK_CAL, filed, hours(2))

    assert due == local(NEW_YORK, 2026, 11, 27, 10)


def test_a_regional_holiday_only_applies_to_its_subdivision() -> None:
    bavaria = WorkCalendar("Europe/Berlin", holiday_country="DE", holiday_subdivision="BY")

    assert not bavaria.is_working_day(date(2026, 1, 6))  # Epiphany
    assert BERLIN_CAL.is_working_day(date(2026, 1, 6))


def test_an_observed_holiday_is_found_even_when_it_falls_in_the_previous_year() -> None:
    assert not NEW_YORK_CAL.is_working_day(date(2021, 12, 31))  # New Year's Day 2022 observed


def test_a_calendar_without_a_country_has_no_public_holidays() -> None:
    assert WorkCalendar("Europe/Berlin").is_working_day(date(2026, 4, 3))


def test_a_company_closure_and_the_holidays_around_it_are_skipped() -> None:
    cal = WorkCalendar("Europe/Berlin", holiday_country="DE", closures=((date(2026, 12, 24), date(2026, 12, 31)),))
    filed = local(BERLIN, 2026, 12, 23, 16)

    due = add_business_time(cal, filed, hours(2))

    assert due == local(BERLIN, 2027, 1, 4, 9)  # Jan 1 is a holiday, then a weekend


def test_a_closure_includes_its_first_and_last_day() -> None:
    cal = WorkCalendar("Europe/Berlin", closures=((date(2026, 7, 6), date(2026, 7, 10)),))

    assert cal.is_working_day(date(2026, 7, 3))
    assert not cal.is_working_day(date(2026, 7, 6))
    assert not cal.is_working_day(date(2026, 7, 10))
    assert cal.is_working_day(date(2026, 7, 13))


def test_a_day_off_says_why_a_promise_cannot_fall_on_it() -> None:
    # The answer-by form names the reason: "Tuesday 6 January is a public holiday (Epiphany)".
    bavaria = WorkCalendar(
        "Europe/Berlin", holiday_country="DE", holiday_subdivision="BY", closures=((date(2026, 8, 3), date(2026, 8, 7)),)
    )

    assert day_off_reason(bavaria, date(2026, 3, 7)) == ("weekend", "")  # a Saturday
    assert day_off_reason(bavaria, date(2026, 1, 6)) == ("holiday", "Epiphany")  # Bavaria's, not Germany's
    assert day_off_reason(bavaria, date(2026, 5, 1)) == ("holiday", "Labor Day")
    assert day_off_reason(bavaria, date(2026, 8, 5)) == ("closure", "")
    assert day_off_reason(bavaria, date(2026, 3, 9)) == ("", "")  # a working Monday
    assert day_off_reason(BERLIN_CAL, date(2026, 1, 6)) == ("", "")  # no Epiphany outside Bavaria
    assert day_off_reason(WorkCalendar("Europe/Berlin"), date(2026, 5, 1)) == ("", "")  # no country, no holidays


def test_only_the_instant_a_period_closes_is_its_end() -> None:
    # "By 17:00" is a promise a lead may make although 17:00 itself is no longer working time.
    def end(hour: int, minute: int = 0, microsecond: int = 0) -> bool:
        return is_period_end(BERLIN_CAL, datetime(2026, 3, 3, hour, minute, 0, microsecond, tzinfo=BERLIN))

    assert end(12) and end(17)
    assert not end(11, 59) and not end(12, 30) and not end(8) and not end(13) and not end(18)
    assert not end(12, 0, 1) and not end(17, 0, 1)  # a microsecond later the period has long closed
    assert is_period_end(BERLIN_CAL, utc(2026, 3, 3, 16))  # 17:00 CET, given in UTC
    # Periods are half-open: the opening instant is working time, the microsecond before it is not.
    assert is_working_time(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 8))
    assert not is_working_time(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 8) - MICROSECOND)
    assert not is_period_end(BERLIN_CAL, local(BERLIN, 2026, 4, 3, 17))  # Good Friday: nothing closes


def test_a_clock_started_on_saturday_counts_from_monday_opening() -> None:
    due = add_business_time(BERLIN_CAL, local(BERLIN, 2026, 3, 7, 10), hours(1))

    assert due == local(BERLIN, 2026, 3, 9, 9)


def test_is_working_day_refuses_a_datetime_because_its_local_date_is_ambiguous() -> None:
    with pytest.raises(TypeError):
        BERLIN_CAL.is_working_day(local(BERLIN, 2026, 3, 9, 9))


# --------------------------------------------------------------------------------------------------
# Where the clock starts and where it stops
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        pytest.param(local(BERLIN, 2026, 3, 3, 3), hours(1), local(BERLIN, 2026, 3, 3, 9), id="at night"),
        pytest.param(local(BERLIN, 2026, 3, 3, 0), hours(1), local(BERLIN, 2026, 3, 3, 9), id="at midnight"),
        pytest.param(local(BERLIN, 2026, 3, 3, 7), hours(0.5), local(BERLIN, 2026, 3, 3, 8, 30), id="before opening"),
        pytest.param(local(BERLIN, 2026, 3, 3, 12, 30), hours(1), local(BERLIN, 2026, 3, 3, 14), id="in lunch"),
        pytest.param(local(BERLIN, 2026, 3, 3, 17), hours(1), local(BERLIN, 2026, 3, 4, 9), id="at closing"),
        pytest.param(local(BERLIN, 2026, 3, 3, 11), hours(2), local(BERLIN, 2026, 3, 3, 14), id="over lunch"),
        pytest.param(local(BERLIN, 2026, 3, 3, 16), hours(10), local(BERLIN, 2026, 3, 5, 9), id="over two nights"),
    ],
)
def test_a_clock_started_outside_working_hours_starts_counting_at_the_next_opening(
    start: datetime, amount: timedelta, expected: datetime
) -> None:
    assert add_business_time(BERLIN_CAL, start, amount) == expected


def test_an_amount_that_ends_exactly_at_a_period_end_is_due_at_that_end_not_the_next_opening() -> None:
    assert add_business_time(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 8), hours(4)) == local(BERLIN, 2026, 3, 3, 12)
    assert add_business_time(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 8), hours(8)) == local(BERLIN, 2026, 3, 3, 17)


def test_a_zero_amount_returns_the_start_unchanged_even_outside_working_hours() -> None:
    start = local(BERLIN, 2026, 3, 7, 22)  # Saturday night

    due = add_business_time(BERLIN_CAL, start, timedelta(0))

    assert due == start
    assert due.tzinfo is UTC
    assert add_business_time_with_pauses(BERLIN_CAL, start, timedelta(0), [(start, None)]) == start


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (local(BERLIN, 2026, 3, 3, 8), True),
        (local(BERLIN, 2026, 3, 3, 12) - MICROSECOND, True),
        (local(BERLIN, 2026, 3, 3, 12), False),
        (local(BERLIN, 2026, 3, 3, 12, 30), False),
        (local(BERLIN, 2026, 3, 3, 13), True),
        (local(BERLIN, 2026, 3, 3, 17), False),
        (local(BERLIN, 2026, 3, 7, 10), False),
        (local(BERLIN, 2026, 4, 6, 10), False),
    ],
)
def test_working_periods_include_their_start_and_exclude_their_end(instant: datetime, expected: bool) -> None:
    assert is_working_time(BERLIN_CAL, instant) is expected


def test_the_next_working_instant_is_the_instant_itself_during_working_hours() -> None:
    instant = local(BERLIN, 2026, 3, 3, 9, 17)

    assert next_working_instant(BERLIN_CAL, instant) == instant
    assert next_working_instant(BERLIN_CAL, instant).tzinfo is UTC


def test_the_next_working_instant_after_friday_evening_is_monday_opening() -> None:
    assert next_working_instant(BERLIN_CAL, local(BERLIN, 2026, 3, 6, 17)) == local(BERLIN, 2026, 3, 9, 8)
    assert next_working_instant(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 12)) == local(BERLIN, 2026, 3, 3, 13)


def test_a_split_day_yields_one_interval_per_period() -> None:
    cal = WorkCalendar("Europe/Berlin", periods=((time(6), time(10)), (time(14), time(18)), (time(20), time(22))))

    intervals = list(working_intervals(cal, local(BERLIN, 2026, 3, 3), local(BERLIN, 2026, 3, 4)))

    assert intervals == [
        (local(BERLIN, 2026, 3, 3, 6), local(BERLIN, 2026, 3, 3, 10)),
        (local(BERLIN, 2026, 3, 3, 14), local(BERLIN, 2026, 3, 3, 18)),
        (local(BERLIN, 2026, 3, 3, 20), local(BERLIN, 2026, 3, 3, 22)),
    ]
    assert all(opening.tzinfo is UTC and closing.tzinfo is UTC for opening, closing in intervals)
    assert add_business_time(cal, local(BERLIN, 2026, 3, 3, 9), hours(6)) == local(BERLIN, 2026, 3, 3, 21)


def test_working_intervals_are_clipped_to_the_requested_range() -> None:
    intervals = list(working_intervals(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 10), local(BERLIN, 2026, 3, 3, 15)))

    assert intervals == [
        (local(BERLIN, 2026, 3, 3, 10), local(BERLIN, 2026, 3, 3, 12)),
        (local(BERLIN, 2026, 3, 3, 13), local(BERLIN, 2026, 3, 3, 15)),
    ]
    assert list(working_intervals(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 15), local(BERLIN, 2026, 3, 3, 10))) == []


def test_a_round_the_clock_calendar_counts_wall_clock_time_across_a_dst_week() -> None:
    start = local(NEW_YORK, 2026, 3, 5, 13, 7)
    end = local(NEW_YORK, 2026, 3, 12, 9)
    # Subtract in UTC: between two datetimes of the same ZoneInfo Python subtracts wall times.
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)

    assert elapsed == end - start - HOUR
    assert business_time_between(ROUND_THE_CLOCK_NY, start, end) == elapsed
    assert add_business_time(ROUND_THE_CLOCK_NY, start, elapsed) == end


def test_a_day_ending_at_23_59_59_leaves_a_one_second_gap_every_night() -> None:
    cal = WorkCalendar("Europe/Berlin", working_days=EVERY_DAY, periods=((time(0), time(23, 59, 59)),))

    week = business_time_between(cal, local(BERLIN, 2026, 6, 1), local(BERLIN, 2026, 6, 8))

    assert week == timedelta(days=7) - timedelta(seconds=7)


def test_two_thousand_business_hours_take_a_year_of_days_and_milliseconds_of_cpu() -> None:
    start = local(BERLIN, 2026, 1, 5, 8)  # a Monday opening
    expected_day = start.date()
    for _ in range(250 - 1):  # 2,000 h / 8 h a day
        expected_day += timedelta(days=1)
        while not BERLIN_CAL.is_working_day(expected_day):
            expected_day += timedelta(days=1)

    began = wallclock.perf_counter()
    due = add_business_time(BERLIN_CAL, start, hours(2000))
    elapsed = wallclock.perf_counter() - began

    assert due == local(BERLIN, expected_day.year, expected_day.month, expected_day.day, 17)
    assert business_time_between(BERLIN_CAL, start, due) == hours(2000)
    assert elapsed < 1.0


# --------------------------------------------------------------------------------------------------
# Pauses
# --------------------------------------------------------------------------------------------------


def test_overlapping_pauses_remove_each_instant_only_once() -> None:
    start, end = local(BERLIN, 2026, 3, 3, 8), local(BERLIN, 2026, 3, 3, 17)
    pauses = [
        (local(BERLIN, 2026, 3, 3, 9), local(BERLIN, 2026, 3, 3, 11)),
        (local(BERLIN, 2026, 3, 3, 10), local(BERLIN, 2026, 3, 3, 14)),
        (local(BERLIN, 2026, 3, 3, 10, 30), local(BERLIN, 2026, 3, 3, 10, 45)),
    ]

    assert business_time_between(BERLIN_CAL, start, end, pauses) == hours(8 - 4)


def test_an_open_pause_runs_to_the_end_of_the_measurement() -> None:
    start, end = local(BERLIN, 2026, 3, 3, 8), local(BERLIN, 2026, 3, 3, 17)

    assert business_time_between(BERLIN_CAL, start, end, [(local(BERLIN, 2026, 3, 3, 15), None)]) == hours(6)
    assert business_time_between(BERLIN_CAL, start, end, [(local(BERLIN, 2026, 3, 4, 9), None)]) == hours(8)


def test_an_open_pause_before_the_due_time_leaves_the_due_time_undefined() -> None:
    with pytest.raises(ValueError, match="pause is open"):
        add_business_time_with_pauses(BERLIN_CAL, local(BERLIN, 2026, 3, 3, 8), hours(8), [(local(BERLIN, 2026, 3, 3, 10), None)])


def test_an_open_pause_after_the_due_time_does_not_move_it() -> None:
    due = add_business_time_with_pauses(
        BERLIN_CAL, local(BERLIN, 2026, 3, 3, 8), hours(2), [(local(BERLIN, 2026, 3, 3, 10), None)]
    )

    assert due == local(BERLIN, 2026, 3, 3, 10)


def test_a_pause_outside_working_hours_does_not_move_the_due_time() -> None:
    start = local(BERLIN, 2026, 3, 3, 16)
    weekend_pause = (local(BERLIN, 2026, 3, 6, 17), local(BERLIN, 2026, 3, 9, 8))

    assert add_business_time_with_pauses(BERLIN_CAL, start, hours(30), [weekend_pause]) == add_business_time(
        BERLIN_CAL, start, hours(30)
    )


def test_only_the_part_of_a_pause_after_the_start_counts() -> None:
    start = local(BERLIN, 2026, 3, 3, 10)
    pause = (local(BERLIN, 2026, 3, 3, 8), local(BERLIN, 2026, 3, 3, 11))

    assert add_business_time_with_pauses(BERLIN_CAL, start, hours(1), [pause]) == local(BERLIN, 2026, 3, 3, 12)
    assert business_time_between(BERLIN_CAL, start, local(BERLIN, 2026, 3, 3, 12), [pause]) == hours(1)


def test_measuring_backwards_gives_zero() -> None:
    assert business_time_between(BERLIN_CAL, local(BERLIN, 2026, 3, 4), local(BERLIN, 2026, 3, 3)) == timedelta(0)


def test_a_pause_that_ends_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        business_time_between(
            BERLIN_CAL,
            local(BERLIN, 2026, 3, 3),
            local(BERLIN, 2026, 3, 4),
            [(local(BERLIN, 2026, 3, 3, 11), local(BERLIN, 2026, 3, 3, 10))],
        )


# --------------------------------------------------------------------------------------------------
# Refusing bad input
# --------------------------------------------------------------------------------------------------

AWARE = local(BERLIN, 2026, 3, 3, 9)
NAIVE = AWARE.replace(tzinfo=None)

NAIVE_CALLS: dict[str, Callable[[], object]] = {
    "add start": lambda: add_business_time(BERLIN_CAL, NAIVE, HOUR),
    "add with pauses start": lambda: add_business_time_with_pauses(BERLIN_CAL, NAIVE, HOUR, []),
    "pause start": lambda: add_business_time_with_pauses(BERLIN_CAL, AWARE, HOUR, [(NAIVE, None)]),
    "pause end": lambda: add_business_time_with_pauses(BERLIN_CAL, AWARE, HOUR, [(AWARE, NAIVE)]),
    "between start": lambda: business_time_between(BERLIN_CAL, NAIVE, AWARE),
    "between end": lambda: business_time_between(BERLIN_CAL, AWARE, NAIVE),
    "between pause": lambda: business_time_between(BERLIN_CAL, AWARE, AWARE + HOUR, [(NAIVE, None)]),
    "is working time": lambda: is_working_time(BERLIN_CAL, NAIVE),
    "next working instant": lambda: next_working_instant(BERLIN_CAL, NAIVE),
    "intervals start": lambda: working_intervals(BERLIN_CAL, NAIVE, AWARE),
    "intervals end": lambda: working_intervals(BERLIN_CAL, AWARE, NAIVE),
}


@pytest.mark.parametrize("call", NAIVE_CALLS.values(), ids=NAIVE_CALLS.keys())
def test_naive_datetimes_are_refused_everywhere(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(BERLIN_CAL, AWARE, -HOUR)


def test_results_are_in_utc_whatever_zone_the_input_was_in() -> None:
    start = datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Asia/Tokyo"))  # Tue 01:00 Berlin

    due = add_business_time(BERLIN_CAL, start, HOUR)

    assert due.tzinfo is UTC
    assert due == local(BERLIN, 2026, 3, 3, 9)


@pytest.mark.parametrize(
    ("calendar", "message"),
    [
        (WorkCalendar("Mars/Olympus_Mons"), "unknown time zone"),
        (WorkCalendar(""), "IANA"),
        (WorkCalendar("Europe/Berlin", working_days=frozenset()), "working_days is empty"),
        (WorkCalendar("Europe/Berlin", working_days=frozenset({7})), "0 \\(Monday\\) to 6"),
        (WorkCalendar("Europe/Berlin", periods=()), "periods is empty"),
        (WorkCalendar("Europe/Berlin", periods=((time(12), time(8)),)), "start before it ends"),
        (WorkCalendar("Europe/Berlin", periods=((time(8), time(8)),)), "start before it ends"),
        (WorkCalendar("Europe/Berlin", periods=((time(13), time(17)), (time(8), time(12)))), "sorted"),
        (WorkCalendar("Europe/Berlin", periods=((time(8), time(13)), (time(12), time(17)))), "overlap"),
        (WorkCalendar("Europe/Berlin", periods=((time(8), time(0)), (time(20), time(22)))), "overlap"),
        (WorkCalendar("Europe/Berlin", periods=((time(8, tzinfo=UTC), time(12)),)), "naive wall times"),
        (WorkCalendar("Europe/Berlin", holiday_country="XX"), "no public holidays known"),
        (WorkCalendar("Europe/Berlin", holiday_country="DE", holiday_subdivision="ZZ"), "subdivision"),
        (WorkCalendar("Europe/Berlin", holiday_subdivision="BY"), "needs a holiday_country"),
        (WorkCalendar("Europe/Berlin", closures=((date(2026, 5, 2), date(2026, 5, 1)),)), "ends before"),
        (WorkCalendar("Europe/Berlin", periods=[(time(8), time(12))]), "hashable"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_calendar_is_refused_with_a_message_that_names_the_problem(calendar: WorkCalendar, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calendar.validate()
    with pytest.raises(ValueError, match=message):
        add_business_time(calendar, AWARE, HOUR)


def test_touching_periods_and_a_midnight_end_are_valid() -> None:
    cal = WorkCalendar("Europe/Berlin", periods=((time(8), time(12)), (time(12), time(17)), (time(20), time(0))))

    cal.validate()
    assert business_time_between(cal, local(BERLIN, 2026, 3, 3), local(BERLIN, 2026, 3, 4)) == hours(13)


def test_an_endless_search_gives_up_after_three_years_without_working_time() -> None:
    cal = WorkCalendar("Europe/Berlin", closures=((date(2026, 1, 1), date(2030, 12, 31)),))

    with pytest.raises(ValueError, match=f"no working time in the {MAX_IDLE_DAYS} days"):
        next_working_instant(cal, local(BERLIN, 2026, 1, 1))
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(cal, local(BERLIN, 2026, 1, 1), HOUR)
    # A bounded question about the closure is answered, not refused.
    assert business_time_between(cal, local(BERLIN, 2026, 1, 1), local(BERLIN, 2030, 1, 1)) == timedelta(0)


def test_a_search_that_ends_within_three_years_succeeds() -> None:
    cal = WorkCalendar("Europe/Berlin", closures=((date(2026, 1, 1), date(2028, 6, 30)),))

    assert next_working_instant(cal, local(BERLIN, 2026, 1, 1)) == local(BERLIN, 2028, 7, 3, 8)


def test_four_weeks_from_the_weekend_the_clocks_go_forward_count_each_working_day_once() -> None:
    # Spans this long are counted rather than walked; the Monday after the change sits at the edge
    # of the counted days and must be neither lost nor counted twice.
    weekdays_8_to_17 = WorkCalendar("Europe/Berlin")  # no public holidays: Easter is worked

    taken = business_time_between(weekdays_8_to_17, local(BERLIN, 2026, 3, 28, 10), local(BERLIN, 2026, 4, 24, 18))

    assert taken == hours(20 * 8)  # Mon 30 March to Fri 24 April


def test_a_closure_at_either_edge_of_a_long_span_is_not_counted_as_work() -> None:
    # June 2026 has 22 weekdays; a closure that ends two days into a long span, or begins two days
    # before its end, sits on the first or the last of the days that are counted rather than walked.
    ends_early = WorkCalendar("Europe/Berlin", closures=((date(2026, 6, 1), date(2026, 6, 3)),))
    starts_late = WorkCalendar("Europe/Berlin", closures=((date(2026, 7, 1), date(2026, 7, 10)),))
    june_and_three_days = (local(BERLIN, 2026, 6, 1, 8), local(BERLIN, 2026, 7, 3, 18))

    assert business_time_between(ends_early, *june_and_three_days) == hours((19 + 3) * 8)  # June less 1-3, then 1-3 July
    assert business_time_between(starts_late, *june_and_three_days) == hours(22 * 8)  # June; 1-3 July closed


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

PROPERTY_CALENDARS = [BERLIN_CAL, NEW_YORK_CAL, NIGHT_SHIFT_NY, LORD_HOWE_CAL, ROUND_THE_CLOCK_NY]
EPOCH = utc(2025, 1, 1)
SPAN_MINUTES = 4 * 365 * 24 * 60
DST_CHANGES = [
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2027, 3, 14, 7),
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 15, 30),
]
ZONES = [UTC, BERLIN, NEW_YORK, LORD_HOWE]
FAST = settings(max_examples=200, deadline=None, database=None)

calendars = st.sampled_from(PROPERTY_CALENDARS)
instants = st.one_of(
    st.integers(0, SPAN_MINUTES).map(lambda m: EPOCH + timedelta(minutes=m)),
    st.integers(0, SPAN_MINUTES * 60_000_000).map(lambda us: EPOCH + timedelta(microseconds=us)),
    st.builds(lambda change, m: change + timedelta(minutes=m), st.sampled_from(DST_CHANGES), st.integers(-4 * 1440, 4 * 1440)),
)
"""UTC instants, so that tests can add to them: Python adds to a ZoneInfo datetime in wall time."""
amounts = st.one_of(
    st.just(timedelta(0)),
    st.integers(0, 300 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(1, 50 * 3600 * 1_000_000).map(lambda us: timedelta(microseconds=us)),
)
durations = st.integers(0, 200 * 60).map(lambda m: timedelta(minutes=m))
relative_pauses = st.lists(st.tuples(st.integers(-48 * 60, 400 * 60), st.integers(0, 100 * 60)), max_size=4)


def absolute(start: datetime, relative: list[tuple[int, int]]) -> list[tuple[datetime, datetime | None]]:
    return [(start + timedelta(minutes=offset), start + timedelta(minutes=offset + length)) for offset, length in relative]


@FAST
@given(cal=calendars, start=instants, amount=amounts)
def test_measuring_from_start_to_the_due_time_gives_back_the_amount(
    cal: WorkCalendar, start: datetime, amount: timedelta
) -> None:
    due = add_business_time(cal, start, amount)

    assert due.tzinfo is UTC
    assert business_time_between(cal, start, due) == amount


@FAST
@given(cal=calendars, start=instants, later_by=durations, amount=amounts)
def test_a_later_start_never_gives_an_earlier_due_time(
    cal: WorkCalendar, start: datetime, later_by: timedelta, amount: timedelta
) -> None:
    assert add_business_time(cal, start, amount) <= add_business_time(cal, start + later_by, amount)


@FAST
@given(cal=calendars, start=instants, amount=amounts, more=amounts)
def test_a_larger_amount_never_gives_an_earlier_due_time(
    cal: WorkCalendar, start: datetime, amount: timedelta, more: timedelta
) -> None:
    assert add_business_time(cal, start, amount) <= add_business_time(cal, start, amount + more)


@FAST
@given(cal=calendars, start=instants, first=amounts, second=amounts)
def test_adding_in_two_steps_is_the_same_as_adding_the_sum(
    cal: WorkCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    in_steps = add_business_time(cal, add_business_time(cal, start, first), second)

    assert in_steps == add_business_time(cal, start, first + second)


@FAST
@given(cal=calendars, start=instants, to_split=durations, to_end=durations, relative=relative_pauses)
def test_measuring_is_additive_over_a_split_point(
    cal: WorkCalendar, start: datetime, to_split: timedelta, to_end: timedelta, relative: list[tuple[int, int]]
) -> None:
    split, end = start + to_split, start + to_split + to_end
    pauses = absolute(start, relative)

    whole = business_time_between(cal, start, end, pauses)

    assert whole == business_time_between(cal, start, split, pauses) + business_time_between(cal, split, end, pauses)


@FAST
@given(cal=calendars, start=instants, length=durations, relative=relative_pauses)
def test_measuring_never_exceeds_the_wall_clock_difference(
    cal: WorkCalendar, start: datetime, length: timedelta, relative: list[tuple[int, int]]
) -> None:
    end = start + length

    unpaused = business_time_between(cal, start, end)

    assert timedelta(0) <= business_time_between(cal, start, end, absolute(start, relative)) <= unpaused <= length


@FAST
@given(cal=calendars, start=instants, amount=amounts, relative=relative_pauses)
def test_pauses_only_ever_push_the_due_time_later_by_the_business_time_they_cover(
    cal: WorkCalendar, start: datetime, amount: timedelta, relative: list[tuple[int, int]]
) -> None:
    pauses = absolute(start, relative)

    due = add_business_time_with_pauses(cal, start, amount, pauses)

    assert due >= add_business_time(cal, start, amount)
    assert business_time_between(cal, start, due, pauses) == amount
    paused = business_time_between(cal, start, due) - business_time_between(cal, start, due, pauses)
    assert due == add_business_time(cal, start, amount + paused)


@FAST
@given(cal=calendars, start=instants, amount=amounts.filter(bool))
def test_a_due_time_is_inside_working_time_or_at_a_period_end(cal: WorkCalendar, start: datetime, amount: timedelta) -> None:
    due = add_business_time(cal, start, amount)

    period_ends = {closing for _, closing in working_intervals(cal, due - timedelta(days=2), due + timedelta(days=2))}
    assert is_working_time(cal, due) or due in period_ends
    assert is_working_time(cal, due - MICROSECOND)


@FAST
@given(cal=calendars, instant=instants)
def test_the_next_working_instant_is_working_time_and_skips_none(cal: WorkCalendar, instant: datetime) -> None:
    opening = next_working_instant(cal, instant)

    assert opening >= instant
    assert is_working_time(cal, opening)
    assert business_time_between(cal, instant, opening) == timedelta(0)
    assert (opening == instant) is is_working_time(cal, instant)


@FAST
@given(cal=calendars, start=instants, length=durations)
def test_working_intervals_are_sorted_disjoint_utc_and_add_up_to_the_measurement(
    cal: WorkCalendar, start: datetime, length: timedelta
) -> None:
    end = start + length

    intervals = list(working_intervals(cal, start, end))

    previous_end = start
    for opening, closing in intervals:
        assert opening.tzinfo is UTC and closing.tzinfo is UTC
        assert previous_end <= opening < closing <= end
        assert is_working_time(cal, opening) and is_working_time(cal, closing - MICROSECOND)
        previous_end = closing
    assert sum((closing - opening for opening, closing in intervals), timedelta(0)) == business_time_between(cal, start, end)


@FAST
@given(cal=calendars, start=instants, amount=amounts, zone=st.sampled_from(ZONES))
def test_the_zone_an_input_is_expressed_in_does_not_matter(
    cal: WorkCalendar, start: datetime, amount: timedelta, zone: tzinfo
) -> None:
    shown = start.astimezone(zone)
    due = add_business_time(cal, start, amount)
    end = start + timedelta(hours=30)

    assert add_business_time(cal, shown, amount) == due
    assert business_time_between(cal, shown, end.astimezone(zone)) == business_time_between(cal, start, end)
    assert is_working_time(cal, shown) is is_working_time(cal, start)
    assert next_working_instant(cal, shown) == next_working_instant(cal, start)


@settings(max_examples=60, deadline=None, database=None)
@given(
    cal=st.sampled_from([BERLIN_CAL, NEW_YORK_CAL]),
    start_step=st.integers(0, SPAN_MINUTES // 5),
    steps=st.integers(0, 3 * 24 * 12),
)
def test_measuring_agrees_with_a_five_minute_wall_clock_reference(cal: WorkCalendar, start_step: int, steps: int) -> None:
    """An independent, slow reference: look at each 5-minute slot's local wall time.

    Only valid for calendars whose periods start and end on 5-minute marks away from DST changes:
    inside a gap or fold "is this wall time in a period" and "real time from the period's start to
    its end" differ on purpose (see the DST tests above), so the night-shift and Lord Howe
    calendars are left to the other properties.
    """
    zone = ZoneInfo(cal.time_zone)
    start = EPOCH + timedelta(minutes=5 * start_step)
    reference = timedelta(0)
    for step in range(steps):
        slot = (start + timedelta(minutes=5 * step)).astimezone(zone)
        wall = slot.time().replace(fold=0)
        if cal.is_working_day(slot.date()) and any(
            opening <= wall and (closing == time(0) or wall < closing) for opening, closing in cal.periods
        ):
            reference += timedelta(minutes=5)

    assert business_time_between(cal, start, start + timedelta(minutes=5 * steps)) == reference
