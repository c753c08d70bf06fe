"""Business-time arithmetic: the one place where S2O turns SLA durations into instants and back.

Why a separate, pure module (RELIABILITY.md rule 10, STYLE.md habit 6): SLA clocks are promises
counted in *working* time of a calendar, and the same math is needed by services, the reminder
sweep, the dashboard and tests. Keeping it free of Django, the ORM and "now" makes every answer a
function of its arguments, so it can be tested exhaustively (including property-based tests) and
called from anywhere without a database.

Semantics
---------
* Instants in and out are timezone-aware; naive datetimes are refused (``ValueError``) because
  guessing their zone is how SLA figures silently drift by an hour. Results are in UTC, which is
  what we store.
* Working time is built per *local calendar day* of ``WorkCalendar.time_zone``: for a working day
  ``d`` each period ``(start, end)`` is the wall-clock interval ``[d start, d end)`` localised with
  ``zoneinfo`` and converted to UTC. We never add hours to a UTC instant to find an opening or a
  closing, because across a DST change that lands an hour off.
* A period end of ``00:00`` means midnight at the *end* of the day (24:00), so a round-the-clock
  calendar is ``periods=((time(0), time(0)),)``. ``datetime.time`` cannot say 24:00 and
  ``23:59:59`` would leave a one-second hole every night.
* Inside one working interval business time is elapsed real time, so a period that spans a DST
  change is worth its real length (00:00-03:00 on a fall-back night is four hours).
* All arithmetic here happens on UTC datetimes. Python adds a timedelta to (and subtracts two)
  datetimes sharing one ``ZoneInfo`` in *wall* time, ignoring DST; callers should convert to UTC
  before doing arithmetic of their own, as this module does.

DST edge cases (documented decisions)
-------------------------------------
* Wall times are localised with ``fold=0`` (zoneinfo's default), whatever ``fold`` the period's
  ``time`` carries: ``time`` equality and hashing ignore ``fold``, so two calendars that compare
  equal (and share cache entries) must also compute the same intervals.
* A wall time that does not exist (in a spring-forward gap) is read with the offset in force
  *before* the transition, i.e. it lands ``gap`` later on the wall clock: 02:30 on 2026-03-08 in
  America/New_York is 07:30Z = 03:30 EDT. This can make periods of the same day overlap, or a
  period's start fall at or after its end, in UTC; each day's intervals (and consecutive days) are
  therefore normalised through UTC: later intervals are clipped to start where the previous one
  ended and empty ones are dropped. Each instant counts at most once.
* A wall time that occurs twice (fall-back fold) means its first occurrence: 01:30 on 2026-11-01
  in America/New_York is 01:30 EDT = 05:30Z. A period covering the whole repeated hour counts it
  twice as real time, because people really work it.

Efficiency and termination
--------------------------
Nothing loops in proportion to the distance between two instants. Measuring a long span walks a
few days at each end and *counts* the whole days between: whole weeks times the working weekdays,
less the holidays and closure days in it (from sorted lists), with the few days around each DST
change walked exactly; the cost grows with the number of years (one holiday list each), not days.
Adding business time jumps whole weeks measured that way and walks only the last two weeks of
work; a walk steps over a company closure in one step. A calendar without any working weekday or
period is invalid, and an open-ended search that finds no working time for ``MAX_IDLE_DAYS``
consecutive days (e.g. a closure spanning years) raises ``ValueError`` instead of looping forever.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "MAX_IDLE_DAYS",
    "MAX_SPAN",
    "WorkCalendar",
    "add_business_time",
    "add_business_time_with_pauses",
    "business_time_between",
    "day_off_reason",
    "is_period_end",
    "is_working_time",
    "next_working_instant",
    "working_intervals",
]

MAX_IDLE_DAYS = 3 * 366
"""Open-ended searches give up after this many consecutive days without working time (~3 years)."""

MAX_SPAN = timedelta(days=10 * 366)
"""The longest span clock math is asked to measure: every date a user can type lies well within it
of now, so a state further out (bad data from before the limits) is shown without business time."""

_ZERO = timedelta(0)
_MIDNIGHT = time(0)
_END_OF_DAY = timedelta(days=1)

Interval = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class WorkCalendar:
    """When Operations works: a zone, working weekdays, daily periods, public holidays, closures.

    Frozen and built from tuples/frozensets so it is hashable: validation and holiday look-ups are
    cached per calendar, and a calendar can be shared between threads without copying.
    """

    time_zone: str
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    periods: tuple[tuple[time, time], ...] = ((time(8), time(12)), (time(13), time(17)))
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closures: tuple[tuple[date, date], ...] = ()

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local calendar date) has working periods at all.

        A working weekday that is neither a public holiday of the configured country/subdivision
        nor inside a company closure (inclusive ranges).
        """
        _ensure_valid(self)
        if isinstance(day, datetime):
            # A datetime is a date subclass, but its "day" depends on a zone we would have to guess.
            raise TypeError("is_working_day() takes a local date, not a datetime")
        return _is_working_day(self, day)

    def validate(self) -> None:
        """Raise ``ValueError`` describing the first thing wrong with this calendar.

        Called (and cached) by every function of this module, and meant for forms/admin so a bad
        calendar is rejected when it is saved rather than when an SLA is computed from it.
        """
        try:
            hash(self)
        except TypeError as exc:
            raise ValueError("calendar fields must be hashable: working_days a frozenset, periods and closures tuples") from exc
        self._validate_zone()
        self._validate_working_days()
        self._validate_periods()
        self._validate_holidays()
        self._validate_closures()

    def _validate_zone(self) -> None:
        if not isinstance(self.time_zone, str) or not self.time_zone:
            raise ValueError("time_zone must be an IANA time-zone name such as 'Europe/Berlin'")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}: use an IANA name such as 'Europe/Berlin'") from exc

    def _validate_working_days(self) -> None:
        days = self.working_days
        if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise ValueError(f"working_days must be weekday numbers 0 (Monday) to 6 (Sunday), got {set(days)!r}")
        if not days:
            raise ValueError("working_days is empty: a calendar without working days never reaches a due time")

    def _validate_periods(self) -> None:
        if not isinstance(self.periods, tuple) or not self.periods:
            raise ValueError("periods is empty: a calendar without working periods never reaches a due time")
        previous_end: timedelta | None = None
        for index, period in enumerate(self.periods):
            if not isinstance(period, tuple) or len(period) != 2:
                raise ValueError(f"period #{index + 1} must be a (start, end) pair of times, got {period!r}")
            start, end = period
            if not isinstance(start, time) or not isinstance(end, time):
                raise ValueError(f"period #{index + 1} must be a (start, end) pair of times, got {period!r}")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError(
                    f"period #{index + 1} {_fmt(start)}-{_fmt(end)} must use naive wall times; "
                    "the calendar's time_zone gives them meaning"
                )
            start_key, end_key = _offset_in_day(start), _period_end_offset(end)
            if start_key >= end_key:
                raise ValueError(
                    f"period #{index + 1} {_fmt(start)}-{_fmt(end)} must start before it ends "
                    "(an end of 00:00 means midnight at the end of the day)"
                )
            if previous_end is not None and start_key < previous_end:
                raise ValueError(
                    f"period #{index + 1} {_fmt(start)}-{_fmt(end)} overlaps or precedes the one before: "
                    "periods must be sorted and must not overlap"
                )
            previous_end = end_key

    def _validate_holidays(self) -> None:
        if not isinstance(self.holiday_country, str) or not isinstance(self.holiday_subdivision, str):
            raise ValueError("holiday_country and holiday_subdivision must be strings ('' for none)")
        if not self.holiday_country:
            if self.holiday_subdivision:
                raise ValueError("holiday_subdivision needs a holiday_country")
            return
        try:
            holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision or None)
        except NotImplementedError as exc:
            raise ValueError(
                f"no public holidays known for country {self.holiday_country!r}"
                + (f" subdivision {self.holiday_subdivision!r}" if self.holiday_subdivision else "")
                + f": {exc}"
            ) from exc

    def _validate_closures(self) -> None:
        if not isinstance(self.closures, tuple):
            raise ValueError("closures must be a tuple of (first_day, last_day) pairs")
        for closure in self.closures:
            if (
                not isinstance(closure, tuple)
                or len(closure) != 2
                or not all(isinstance(d, date) and not isinstance(d, datetime) for d in closure)
            ):
                raise ValueError(f"a closure must be a (first_day, last_day) pair of dates, got {closure!r}")
            if closure[0] > closure[1]:
                raise ValueError(f"closure {closure[0]} - {closure[1]} ends before it starts")


# --------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------


def working_intervals(cal: WorkCalendar, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Yield the working time within ``[start, end)`` as sorted, disjoint, non-empty UTC intervals.

    Intervals are clipped to ``[start, end)``; nothing is yielded when ``end <= start``. Arguments
    are checked now rather than on first iteration, so mistakes surface where the call is made.
    """
    _ensure_valid(cal)
    start_utc = _utc("start", start)
    end_utc = _utc("end", end)
    if end_utc <= start_utc:
        return iter(())
    return _intervals(cal, start_utc, end_utc)


def is_working_time(cal: WorkCalendar, instant: datetime) -> bool:
    """Whether ``instant`` lies inside a working period (periods are half-open: an end is not)."""
    _ensure_valid(cal)
    moment = _utc("instant", instant)
    return next(_intervals(cal, moment, moment + timedelta(microseconds=1)), None) is not None


def day_off_reason(cal: WorkCalendar, day: date) -> tuple[str, str]:
    """Why a local date has no working time: ``("weekend", "")``, ``("holiday", "<its name>")``,
    ``("closure", "")``, or ``("", "")`` for a working day."""
    _ensure_valid(cal)
    if day.weekday() not in cal.working_days:
        return "weekend", ""
    if cal.holiday_country and day in _public_holidays(cal.holiday_country, cal.holiday_subdivision, day.year):
        names = holidays.country_holidays(cal.holiday_country, subdiv=cal.holiday_subdivision or None, years=day.year)
        return "holiday", names.get(day) or ""
    if _closure_end(_merged_closures(cal), day) is not None:
        return "closure", ""
    return "", ""


def is_period_end(cal: WorkCalendar, instant: datetime) -> bool:
    """Whether ``instant`` closes a working period (the working time ends there, e.g. 17:00)."""
    _ensure_valid(cal)
    moment = _utc("instant", instant)
    return not is_working_time(cal, moment) and is_working_time(cal, moment - timedelta(microseconds=1))


def next_working_instant(cal: WorkCalendar, instant: datetime) -> datetime:
    """``instant`` itself (in UTC) if it is working time, otherwise the next opening.

    Raises ``ValueError`` if there is no working time within ``MAX_IDLE_DAYS``.
    """
    _ensure_valid(cal)
    moment = _utc("instant", instant)
    # An open-ended search either yields or raises ValueError, so next() cannot run dry.
    opening, _closing = next(_intervals(cal, moment, None))
    return opening


def add_business_time(cal: WorkCalendar, start: datetime, amount: timedelta) -> datetime:
    """The instant (UTC) at which ``amount`` of business time has elapsed since ``start``.

    A ``start`` outside working hours starts counting at the next opening (DESIGN.md, "Time and
    SLA semantics"). The result is the *earliest* such instant, so it may be a period end
    (12:00 rather than 13:00). ``amount == 0`` returns ``start`` unchanged (in UTC): nothing has to
    elapse, so we do not invent a move to the next opening.
    """
    return add_business_time_with_pauses(cal, start, amount, ())


def business_time_between(
    cal: WorkCalendar,
    start: datetime,
    end: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> timedelta:
    """Business time in ``[start, end)`` that is not inside any pause; zero if ``end <= start``.

    Pauses are ``(from, to)`` pairs; ``to=None`` is a pause still running, counted up to ``end``.
    Pauses may overlap each other: every instant is removed at most once, so an overlap never
    removes more time than was worked. The cost does not grow with the days between ``start`` and
    ``end`` (see "Efficiency" above): years apart cost about as much as a week.
    """
    _ensure_valid(cal)
    start_utc = _utc("start", start)
    end_utc = _utc("end", end)
    merged = _merge_pauses(pauses, lower=start_utc, open_until=end_utc)
    if end_utc <= start_utc:
        return _ZERO
    total = _measure(cal, start_utc, end_utc)
    for pause_from, pause_to in merged:
        # Merged pauses are disjoint, so removing each one's working time removes every instant once.
        lower, upper = pause_from, min(pause_to or end_utc, end_utc)
        if lower < upper:
            total -= _measure(cal, lower, upper)
    return total


def add_business_time_with_pauses(
    cal: WorkCalendar,
    start: datetime,
    amount: timedelta,
    pauses: Iterable[tuple[datetime, datetime | None]],
) -> datetime:
    """Due time: like ``add_business_time``, but business time inside pauses does not count.

    Pauses therefore only ever push the due time later, by exactly the business time they cover
    before it (the WAITING_ON_SALES rule of DESIGN.md). A still-running pause (``to=None``) that
    begins before the amount is used up leaves the due time undefined: ``ValueError``. Callers who
    want a provisional figure pass the pause closed at their ``now``.
    """
    _ensure_valid(cal)
    start_utc = _utc("start", start)
    if not isinstance(amount, timedelta):
        raise TypeError(f"amount must be a timedelta, got {type(amount).__name__}")
    if amount < _ZERO:
        raise ValueError(f"amount must not be negative, got {amount}")
    merged = _merge_pauses(pauses, lower=start_utc, open_until=None)
    if amount == _ZERO:
        return start_utc
    remaining = amount
    cursor = start_utc
    for pause_from, pause_to in merged:
        available = _measure(cal, cursor, pause_from) if cursor < pause_from else _ZERO
        if remaining <= available:
            return _advance(cal, cursor, remaining)
        remaining -= available
        if pause_to is None:
            # Only an open pause ends the (otherwise endless) stream of counted time.
            raise ValueError(
                f"the due time is undefined while a pause is open: {remaining} of business time were still to "
                "elapse when it began; close the pause (e.g. at now) for a provisional due time"
            )
        cursor = pause_to
    return _advance(cal, cursor, remaining)


# --------------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _validated(cal: WorkCalendar) -> None:
    """Validate once per distinct calendar; failures are not cached and are raised every time."""
    cal.validate()


def _ensure_valid(cal: WorkCalendar) -> None:
    if not isinstance(cal, WorkCalendar):
        raise TypeError(f"expected a WorkCalendar, got {type(cal).__name__}")
    try:
        hash(cal)
    except TypeError:
        cal.validate()  # raises the explanatory ValueError
    _validated(cal)


def _utc(name: str, value: datetime) -> datetime:
    """Check that ``value`` is an aware datetime and express it in UTC."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _merge_pauses(
    pauses: Iterable[tuple[datetime, datetime | None]],
    *,
    lower: datetime,
    open_until: datetime | None,
) -> list[Pause]:
    """Sort, clip to ``>= lower`` and merge pauses into disjoint UTC intervals.

    ``open_until`` closes still-running pauses (measuring up to an end); ``None`` keeps them open
    (``to=None``) for due-time computation, where an open pause swallows everything after it.
    """
    cleaned: list[Pause] = []
    for index, pause in enumerate(pauses):
        try:
            raw_from, raw_to = pause
        except (TypeError, ValueError) as exc:
            raise ValueError(f"pause #{index + 1} must be a (from, to) pair, got {pause!r}") from exc
        begins = _utc(f"pause #{index + 1} start", raw_from)
        ends = None if raw_to is None else _utc(f"pause #{index + 1} end", raw_to)
        if ends is not None and ends < begins:
            raise ValueError(f"pause #{index + 1} ends ({ends.isoformat()}) before it starts ({begins.isoformat()})")
        if ends is None and open_until is not None:
            ends = max(begins, open_until)
        begins = max(begins, lower)
        if ends is not None and ends <= begins:
            continue
        cleaned.append((begins, ends))
    cleaned.sort(key=lambda p: p[0])
    merged: list[Pause] = []
    for begins, ends in cleaned:
        if merged:
            last_from, last_to = merged[-1]
            if last_to is None:
                break  # an open pause already covers everything after its start
            if begins <= last_to:
                merged[-1] = (last_from, None if ends is None else max(last_to, ends))
                continue
        merged.append((begins, ends))
    return merged


def _intervals(cal: WorkCalendar, start: datetime, end: datetime | None) -> Iterator[Interval]:
    """Working intervals from ``start`` (UTC) up to ``end`` (UTC) or, if ``None``, without end.

    Walks local calendar days, jumping over company closures in one step. Starts one local day
    early because a DST-shifted period of the previous day could, in exotic zones, still reach past
    ``start``. Keeps a cursor so intervals that overlap after DST normalisation are clipped, across
    days as well as within one. Long spans are measured by `_measure` without this walk.
    """
    zone = ZoneInfo(cal.time_zone)
    day = _shift_day(start.astimezone(zone).date(), -1)
    last_day = None if end is None else _shift_day(end.astimezone(zone).date(), 1)
    closures = _merged_closures(cal)
    cursor = start
    idle_days = 0
    while last_day is None or day <= last_day:
        closed_until = _closure_end(closures, day)
        if closed_until is not None:
            idle_days += (closed_until - day).days + 1
            day = _shift_day(closed_until, 1)
        else:
            found = False
            for opening, closing in _day_intervals(cal, day):
                opening = max(opening, cursor)
                if end is not None:
                    closing = min(closing, end)
                if opening < closing:
                    found = True
                    cursor = closing
                    yield opening, closing
            idle_days = 0 if found else idle_days + 1
            day = _shift_day(day, 1)
        if end is None and idle_days > MAX_IDLE_DAYS:
            raise ValueError(
                f"no working time in the {MAX_IDLE_DAYS} days after {start.isoformat()}: "
                "check the calendar's working days, holidays and closures"
            )


def _walk(cal: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time in ``[start, end)`` by walking the days in between (for short spans)."""
    total = _ZERO
    for opening, closing in _intervals(cal, start, end):
        total += closing - opening
    return total


# Spans with fewer whole local days than this in their middle are walked; longer ones are counted.
_WALK_DAYS = 21


def _measure(cal: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time in ``[start, end)`` (UTC, ``start < end``), in time that does not grow with the span.

    The span is cut at two local midnights: a head and a tail of a few days are walked, and the
    whole days between are counted (`_whole_days`). Working time is the union of the days'
    intervals, so the three parts add up to the walk of the whole span.
    """
    zone = ZoneInfo(cal.time_zone)
    # Two days of margin: a DST-shifted period of a day next to a cut stays inside the walked part.
    first = _shift_day(start.astimezone(zone).date(), 2)
    last = _shift_day(end.astimezone(zone).date(), -2)
    if (last - first).days < _WALK_DAYS:
        return _walk(cal, start, end)
    head_end = _wall_to_utc(first, _ZERO, zone)
    tail_start = _wall_to_utc(_shift_day(last, 1), _ZERO, zone)
    return _walk(cal, start, head_end) + _whole_days(cal, zone, first, last) + _walk(cal, tail_start, end)


def _whole_days(cal: WorkCalendar, zone: ZoneInfo, first: date, last: date) -> timedelta:
    """Business time of the local days ``first`` to ``last`` (inclusive), counted rather than walked.

    A day whose UTC offset is the same at both of its midnights works exactly its periods' wall
    length (``_nominal_day``) if it is a working day, so those days are whole weeks times the
    working weekdays, less the holidays and closure days among them (counted from sorted lists).
    Around each day on which the offset changes, a window of three days is walked instead, so DST
    days are worth their real length exactly as `_intervals` has them.
    """
    nominal = _nominal_day(cal)
    total = nominal * _open_days(cal, first, last)
    for window_first, window_last in _dst_windows(zone, first, last):
        exact = _walk(cal, _wall_to_utc(window_first, _ZERO, zone), _wall_to_utc(_shift_day(window_last, 1), _ZERO, zone))
        total += exact - nominal * _open_days(cal, window_first, window_last)
    return total


def _advance(cal: WorkCalendar, start: datetime, amount: timedelta) -> datetime:
    """The earliest instant at which ``amount`` (> 0) of business time has elapsed since ``start``.

    Jumps whole weeks while more than two weeks of work remain, each jump measured by `_measure`
    (so holidays and closures in it are accounted for), then walks the last stretch.
    """
    week = _nominal_day(cal) * len(cal.working_days)
    cursor, remaining = start, amount
    while remaining > 2 * week:
        try:
            target = cursor + timedelta(weeks=remaining // week - 1)
        except OverflowError as exc:
            raise ValueError(f"business time beyond the supported date range (after {cursor.isoformat()})") from exc
        elapsed = _measure(cal, cursor, target)
        if elapsed >= remaining:
            break  # only a pathological DST-heavy calendar gets here: walk the rest exactly
        if elapsed == _ZERO:
            # Nothing worked for weeks (a closure): resume at the next opening, or give up as the
            # open-ended walk does after MAX_IDLE_DAYS.
            cursor = next(_intervals(cal, target, None))[0]
            continue
        cursor, remaining = target, remaining - elapsed
    for opening, closing in _intervals(cal, cursor, None):
        length = closing - opening
        if remaining <= length:
            return opening + remaining
        remaining -= length
    raise AssertionError("an open-ended walk either yields or raises")  # pragma: no cover


@lru_cache(maxsize=256)
def _nominal_day(cal: WorkCalendar) -> timedelta:
    """The wall-clock length of a working day's periods: its business time on a day without DST change."""
    return sum((_period_end_offset(end) - _offset_in_day(start) for start, end in cal.periods), _ZERO)


def _weekdays_between(working_days: frozenset[int], first: date, last: date) -> int:
    """How many dates in ``[first, last]`` fall on one of ``working_days``: whole weeks, then the rest."""
    count = (last - first).days + 1
    if count <= 0:
        return 0
    weeks, rest = divmod(count, 7)
    start = first.weekday()
    return weeks * len(working_days) + sum(1 for offset in range(rest) if (start + offset) % 7 in working_days)


def _open_days(cal: WorkCalendar, first: date, last: date) -> int:
    """Working days in ``[first, last]``: working weekdays less closure days and public holidays."""
    if last < first:
        return 0
    count = _weekdays_between(cal.working_days, first, last)
    closures = _merged_closures(cal)
    for closure_first, closure_last in closures:
        if closure_first <= last and closure_last >= first:
            count -= _weekdays_between(cal.working_days, max(closure_first, first), min(closure_last, last))
    if cal.holiday_country:
        for year in range(first.year, last.year + 1):
            for day in _sorted_holidays(cal.holiday_country, cal.holiday_subdivision, year):
                if (
                    first <= day <= last
                    and day.weekday() in cal.working_days
                    and _closure_end(closures, day) is None
                ):
                    count -= 1
    return count


def _dst_windows(zone: ZoneInfo, first: date, last: date) -> list[tuple[date, date]]:
    """Merged windows (a day either side, clipped to ``[first, last]``) around the days in or next
    to ``[first, last]`` whose UTC offset changes before the next midnight."""
    windows: list[tuple[date, date]] = []
    before, after = _shift_day(first, -1), _shift_day(last, 1)
    for year in range(before.year, after.year + 1):
        for day in _offset_change_days(zone.key, year):
            if not before <= day <= after:
                continue
            lower, upper = max(_shift_day(day, -1), first), min(_shift_day(day, 1), last)
            if lower > upper:
                continue
            if windows and lower <= _shift_day(windows[-1][1], 1):
                windows[-1] = (windows[-1][0], max(windows[-1][1], upper))
            else:
                windows.append((lower, upper))
    return windows


@lru_cache(maxsize=1024)
def _offset_change_days(zone_name: str, year: int) -> tuple[date, ...]:
    """Local dates of ``year`` (and the first days of the next) on which the UTC offset at midnight
    differs from the next midnight's: a DST change (or a zone's change of standard time) in between.

    Sampled weekly and looked at day by day only in a week whose offset changed, so a zone that
    changed and changed back within one week would be missed; no zone does that.
    """
    zone = ZoneInfo(zone_name)

    def offset(day: date) -> timedelta | None:
        return datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()

    days: list[date] = []
    week_start = date(year, 1, 1)
    end = date(year, 12, 31) if year < 9999 else date(9999, 12, 24)
    while week_start <= end:
        week_end = week_start + timedelta(days=7)
        if offset(week_start) != offset(week_end):
            days += [
                week_start + timedelta(days=i)
                for i in range(7)
                if offset(week_start + timedelta(days=i)) != offset(week_start + timedelta(days=i + 1))
            ]
        week_start = week_end
    return tuple(day for day in days if day.year == year)


@lru_cache(maxsize=256)
def _merged_closures(cal: WorkCalendar) -> tuple[tuple[date, date], ...]:
    """The calendar's closures sorted, with overlapping and touching ones merged."""
    merged: list[tuple[date, date]] = []
    for first, last in sorted(cal.closures):
        if merged and first <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def _closure_end(closures: tuple[tuple[date, date], ...], day: date) -> date | None:
    """The last day of the merged closure containing ``day``, or None if ``day`` is in none."""
    index = bisect_right(closures, (day, date.max)) - 1
    if index >= 0 and closures[index][0] <= day <= closures[index][1]:
        return closures[index][1]
    return None


@lru_cache(maxsize=8192)
def _day_intervals(cal: WorkCalendar, day: date) -> tuple[Interval, ...]:
    """The UTC working intervals of one local date, normalised (sorted, disjoint, non-empty).

    Cached because the sweep and the dashboard ask about the same recent days over and over.
    """
    if not _is_working_day(cal, day):
        return ()
    zone = ZoneInfo(cal.time_zone)
    result: list[Interval] = []
    for start, end in cal.periods:
        opening = _wall_to_utc(day, _offset_in_day(start), zone)
        closing = _wall_to_utc(day, _period_end_offset(end), zone)
        if result:
            # A DST gap can shift an earlier period's end past this one's start: count it once.
            opening = max(opening, result[-1][1])
        if opening < closing:
            result.append((opening, closing))
    return tuple(result)


def _wall_to_utc(day: date, offset: timedelta, zone: ZoneInfo) -> datetime:
    """Localise ``day`` + ``offset`` of wall time (``offset`` may be 24 h) with fold=0, as UTC."""
    if offset >= _END_OF_DAY:
        day, offset = _shift_day(day, 1), offset - _END_OF_DAY
    seconds, microseconds = divmod(offset // timedelta(microseconds=1), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    local = datetime(day.year, day.month, day.day, hours, minutes, seconds, microseconds, tzinfo=zone, fold=0)
    return local.astimezone(UTC)


def _is_working_day(cal: WorkCalendar, day: date) -> bool:
    if day.weekday() not in cal.working_days:
        return False
    if cal.holiday_country and day in _public_holidays(cal.holiday_country, cal.holiday_subdivision, day.year):
        return False
    return _closure_end(_merged_closures(cal), day) is None


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """Public holidays dated in ``year``.

    Built from the neighbouring years too and filtered by date, so the answer does not depend on
    which year the library files an observed holiday under (New Year's Day observed on 31 December).
    """
    calendar = holidays.country_holidays(country, subdiv=subdivision or None, years={year - 1, year, year + 1})
    return frozenset(day for day in calendar if day.year == year)


@lru_cache(maxsize=512)
def _sorted_holidays(country: str, subdivision: str, year: int) -> tuple[date, ...]:
    return tuple(sorted(_public_holidays(country, subdivision, year)))


def _offset_in_day(value: time) -> timedelta:
    return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond)


def _period_end_offset(value: time) -> timedelta:
    """A period end of 00:00 is midnight at the end of the day (24:00)."""
    return _END_OF_DAY if value == _MIDNIGHT else _offset_in_day(value)


def _shift_day(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError as exc:
        raise ValueError(f"business time beyond the supported date range (near {day})") from exc


def _fmt(value: time) -> str:
    return value.isoformat(timespec="minutes") if not value.second and not value.microsecond else value.isoformat()
