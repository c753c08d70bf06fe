"""The exact words of every refusal of business-time arithmetic. A manager editing a calendar reads
the calendar ones in the form (`WorkCalendar.validate`), a developer the argument ones: each names
the field and the value at fault. Pinned in full (mutation testing found the partial matches of
test_businesstime.py let any wording through)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from requests_app.businesstime import (
    WorkCalendar,
    add_business_time,
    business_time_between,
    is_period_end,
    is_working_time,
    next_working_instant,
    working_intervals,
)

BERLIN = "Europe/Berlin"

BAD_CALENDARS = [
    (WorkCalendar(""), "time_zone must be an IANA time-zone name such as 'Europe/Berlin'"),
    (WorkCalendar("Mars/Olympus"), "unknown time zone 'Mars/Olympus': use an IANA name such as 'Europe/Berlin'"),
    (WorkCalendar(BERLIN, working_days=frozenset({7})), "working_days must be weekday numbers 0 (Monday) to 6 (Sunday), got {7}"),
    # True is an int to Python, not a weekday to a manager; text is not a weekday number either.
    (WorkCalendar(BERLIN, working_days=frozenset({True})),
     "working_days must be weekday numbers 0 (Monday) to 6 (Sunday), got {True}"),
    (WorkCalendar(BERLIN, working_days=frozenset({"1"})),  # type: ignore[arg-type]
     "working_days must be weekday numbers 0 (Monday) to 6 (Sunday), got {'1'}"),
    (WorkCalendar(BERLIN, working_days=frozenset()),
     "working_days is empty: a calendar without working days never reaches a due time"),
    (WorkCalendar(BERLIN, periods=()), "periods is empty: a calendar without working periods never reaches a due time"),
    (WorkCalendar(BERLIN, periods=((time(8),),)),  # type: ignore[arg-type]
     "period #1 must be a (start, end) pair of times, got (datetime.time(8, 0),)"),
    (WorkCalendar(BERLIN, periods=(("08:00", "12:00"),)),  # type: ignore[arg-type]
     "period #1 must be a (start, end) pair of times, got ('08:00', '12:00')"),
    (WorkCalendar(BERLIN, periods=((time(8), "12:00"),)),  # type: ignore[arg-type]
     "period #1 must be a (start, end) pair of times, got (datetime.time(8, 0), '12:00')"),
    (WorkCalendar(BERLIN, periods=((time(8, tzinfo=UTC), time(12)),)),
     "period #1 08:00+00:00-12:00 must use naive wall times; the calendar's time_zone gives them meaning"),
    (WorkCalendar(BERLIN, periods=((time(12), time(8)),)),
     "period #1 12:00-08:00 must start before it ends (an end of 00:00 means midnight at the end of the day)"),
    # A time with seconds (or a fraction) is written in full, so the message names the period as typed.
    (WorkCalendar(BERLIN, periods=((time(12, 0, 30), time(8)),)),
     "period #1 12:00:30-08:00 must start before it ends (an end of 00:00 means midnight at the end of the day)"),
    (WorkCalendar(BERLIN, periods=((time(12, 0, 0, 500), time(8)),)),
     "period #1 12:00:00.000500-08:00 must start before it ends (an end of 00:00 means midnight at the end of the day)"),
    (WorkCalendar(BERLIN, periods=((time(8), time(13)), (time(12), time(17)))),
     "period #2 12:00-17:00 overlaps or precedes the one before: periods must be sorted and must not overlap"),
    (WorkCalendar(BERLIN, holiday_country=None),  # type: ignore[arg-type]
     "holiday_country and holiday_subdivision must be strings ('' for none)"),
    (WorkCalendar(BERLIN, holiday_subdivision="BY"), "holiday_subdivision needs a holiday_country"),
    (WorkCalendar(BERLIN, holiday_country="XX"), "no public holidays known for country 'XX': Country XX not available"),
    (WorkCalendar(BERLIN, holiday_country="DE", holiday_subdivision="XX"),
     "no public holidays known for country 'DE' subdivision 'XX': Entity `DE` does not have subdivision XX"),
    # A set cannot be cached or shared between threads: the calendar must be built from frozensets and tuples.
    (WorkCalendar(BERLIN, working_days={0, 1, 2}),  # type: ignore[arg-type]
     "calendar fields must be hashable: working_days a frozenset, periods and closures tuples"),
    (WorkCalendar(BERLIN, closures=((date(2026, 5, 1),),)),  # type: ignore[arg-type]
     "a closure must be a (first_day, last_day) pair of dates, got (datetime.date(2026, 5, 1),)"),
    # A closure is whole local days: an instant (its day depends on a zone) or text is refused.
    (WorkCalendar(BERLIN, closures=((datetime(2026, 5, 1), datetime(2026, 5, 2)),)),  # noqa: DTZ001
     "a closure must be a (first_day, last_day) pair of dates, got "
     "(datetime.datetime(2026, 5, 1, 0, 0), datetime.datetime(2026, 5, 2, 0, 0))"),
    (WorkCalendar(BERLIN, closures=(("2026-05-01", "2026-05-02"),)),  # type: ignore[arg-type]
     "a closure must be a (first_day, last_day) pair of dates, got ('2026-05-01', '2026-05-02')"),
    (WorkCalendar(BERLIN, closures=frozenset()),  # type: ignore[arg-type]
     "closures must be a tuple of (first_day, last_day) pairs"),
    (WorkCalendar(BERLIN, closures=((date(2026, 5, 2), date(2026, 5, 1)),)),
     "closure 2026-05-02 - 2026-05-01 ends before it starts"),
]


@pytest.mark.parametrize(("calendar", "message"), BAD_CALENDARS, ids=[m[:40] for _, m in BAD_CALENDARS])
def test_a_bad_calendar_is_refused_in_these_words(calendar, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        calendar.validate()


CAL = WorkCalendar(BERLIN)
AWARE, NAIVE = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 9)  # noqa: DTZ001 — naive on purpose
BAD_CALLS = [
    (lambda: add_business_time(CAL, AWARE, 3600), TypeError, "amount must be a timedelta, got int"),
    (lambda: add_business_time(CAL, AWARE, timedelta(hours=-1)), ValueError,
     "amount must not be negative, got -1 day, 23:00:00"),
    (lambda: add_business_time(CAL, NAIVE, timedelta(hours=1)), ValueError,
     "start must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: list(working_intervals(CAL, NAIVE, AWARE)), ValueError,
     "start must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: list(working_intervals(CAL, AWARE, NAIVE)), ValueError, "end must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: business_time_between(CAL, NAIVE, AWARE), ValueError,
     "start must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: business_time_between(CAL, AWARE, NAIVE), ValueError, "end must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: is_working_time(CAL, NAIVE), ValueError, "instant must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: is_period_end(CAL, NAIVE), ValueError, "instant must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: next_working_instant(CAL, NAIVE), ValueError,
     "instant must be timezone-aware, got naive 2026-03-02T09:00:00"),
    (lambda: CAL.is_working_day(AWARE), TypeError, "is_working_day() takes a local date, not a datetime"),
    (lambda: add_business_time("x", AWARE, timedelta(hours=1)), TypeError, "expected a WorkCalendar, got str"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_CALLS, ids=[m[:40] for *_, m in BAD_CALLS])
def test_a_wrong_argument_is_refused_in_these_words(call, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        call()


def test_a_one_day_closure_is_valid_and_closes_that_day_only():
    # Mutation testing found no test of a closure whose first and last day are the same.
    cal = WorkCalendar(BERLIN, closures=((date(2026, 3, 4), date(2026, 3, 4)),))
    cal.validate()
    assert [cal.is_working_day(date(2026, 3, d)) for d in (3, 4, 5)] == [True, False, True]
