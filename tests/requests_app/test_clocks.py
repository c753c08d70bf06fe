"""`clocks.plan_clock`: what is due on one clock and when to look again — pure, in business time,
across weekends and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app import clocks
from requests_app.businesstime import WorkCalendar

BERLIN = WorkCalendar(time_zone="Europe/Berlin", holiday_country="DE")
NEW_YORK = WorkCalendar(time_zone="America/New_York", holiday_country="US")
H = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


HALF, FOUR_FIFTHS = Decimal("0.5"), Decimal("0.8")


def plan(cal=BERLIN, **kwargs) -> clocks.Plan:
    kwargs.setdefault("thresholds", [HALF, FOUR_FIFTHS])
    kwargs.setdefault("interval", 2 * H)
    return clocks.plan_clock(cal, **kwargs)


def test_the_half_way_reminder_of_a_window_spanning_the_berlin_dst_weekend_is_in_business_time():
    # Filed Fri 27 March 16:00 CET, 8 business hours → Mon 30 March 16:00 CEST (RELIABILITY.md).
    start, due = utc(2026, 3, 27, 15), utc(2026, 3, 30, 14)
    before = plan(start=start, due=due, now=utc(2026, 3, 27, 15, 30))
    # 4 business hours: Fri 16–17 and Mon 08–11 CEST = 09:00Z (wall-clock half-way is Sunday morning).
    assert before == clocks.Plan([], utc(2026, 3, 30, 9))
    at = plan(start=start, due=due, now=utc(2026, 3, 30, 9))
    assert at.due == [clocks.DueNotice("reminder", 0, utc(2026, 3, 30, 9), HALF)]
    # 80% = 6.4 business hours: Mon 08–12 + 13:00–14:24 CEST.
    assert at.next_at == utc(2026, 3, 30, 12, 24)


def test_the_half_way_reminder_across_the_new_york_dst_change():
    # Fri 6 March 16:00 EST; clocks spring forward on Sunday 8 March.
    start, due = utc(2026, 3, 6, 21), utc(2026, 3, 9, 20)  # due Mon 16:00 EDT
    assert plan(NEW_YORK, start=start, due=due, now=start).next_at == utc(2026, 3, 9, 15)  # Mon 11:00 EDT


def test_no_reminder_once_breached_but_an_escalation_at_the_due_time():
    start, due = utc(2026, 3, 2, 7), utc(2026, 3, 2, 9)
    result = plan(start=start, due=due, now=utc(2026, 3, 2, 9, 1))
    assert result.due == [clocks.DueNotice("escalation", 1, due)]
    assert result.next_at == utc(2026, 3, 2, 12)  # 10:00 CET + 2 h = the 12:00 closing → 13:00 CET opening


def test_an_on_time_escalation_keeps_its_schedule_and_a_late_one_anchors_at_now():
    start, due = utc(2026, 3, 2, 7), utc(2026, 3, 2, 9)
    on_time = plan(start=start, due=due, now=utc(2026, 3, 2, 12, 3), recorded=clocks.LedgerState(last_escalation=(1, due)))
    assert on_time.due == [clocks.DueNotice("escalation", 2, utc(2026, 3, 2, 12))]
    late_now = utc(2026, 3, 3, 10)  # back after an outage
    late = plan(start=start, due=due, now=late_now, recorded=clocks.LedgerState(last_escalation=(1, due)))
    assert late.due == [clocks.DueNotice("escalation", 2, late_now)]
    assert late.next_at == late_now + 3 * H  # 11:00 CET + 2 business hours, lunch skipped


def test_a_single_breach_notice_when_there_is_no_repeat_interval():
    start, due = utc(2026, 3, 2, 7), utc(2026, 3, 2, 9)
    first = plan(start=start, due=due, now=utc(2026, 3, 2, 9), interval=None)
    assert first == clocks.Plan([clocks.DueNotice("escalation", 1, due)], None)
    breach_sent = clocks.LedgerState(last_escalation=(1, due))
    assert plan(start=start, due=due, now=utc(2026, 3, 2, 14), interval=None, recorded=breach_sent) == clocks.Plan([], None)


def test_nothing_is_decided_at_night_and_the_next_look_is_when_something_will_be_due():
    start, due = utc(2026, 3, 2, 7), utc(2026, 3, 4, 16)  # Mon 08:00 → Wed 17:00 CET, 24 business hours
    # Monday 22:00 CET: half-way (12 h) is Tue 12:00 → delivered at the 13:00 CET opening, not Tue 08:00.
    assert plan(start=start, due=due, now=utc(2026, 3, 2, 21)) == clocks.Plan([], utc(2026, 3, 3, 12))
    # A breach found at night waits for the opening.
    assert plan(start=start, due=utc(2026, 3, 2, 9), now=utc(2026, 3, 2, 21)) == clocks.Plan([], utc(2026, 3, 3, 7))


def test_thresholds_already_in_the_ledger_are_not_decided_again():
    start, due = utc(2026, 3, 2, 7), utc(2026, 3, 2, 9)
    half_sent = clocks.LedgerState(last_threshold=HALF)
    assert plan(start=start, due=due, now=utc(2026, 3, 2, 8, 10), recorded=half_sent).due == []
    assert plan(start=start, due=due, now=utc(2026, 3, 2, 8, 40), recorded=half_sent).due[0].threshold == FOUR_FIFTHS


def test_pauses_push_thresholds_later_by_the_paused_business_time():
    start, due = utc(2026, 3, 2, 12), utc(2026, 3, 2, 16)  # Mon 13:00–17:00 CET: 4 business hours
    unpaused = plan(start=start, due=due, now=start).next_at
    assert unpaused == utc(2026, 3, 2, 14)
    paused = [(utc(2026, 3, 2, 12, 30), utc(2026, 3, 2, 13, 30))]  # an hour waiting on Sales
    moved_due = utc(2026, 3, 3, 8)  # the due time moved by that business hour: Tue 09:00 CET
    assert plan(start=start, due=moved_due, now=start, pauses=paused).next_at == unpaused + H


def test_ledger_state_reads_the_highest_threshold_reminded_and_the_last_escalation():
    rows = [("reminder", FOUR_FIFTHS, 0, utc(2026, 1, 1)), ("reminder", HALF, 0, utc(2026, 1, 1)),
            ("escalation", Decimal(0), 2, utc(2026, 1, 3)), ("escalation", Decimal(0), 1, utc(2026, 1, 2))]
    assert clocks.ledger_state(rows) == clocks.LedgerState(FOUR_FIFTHS, (2, utc(2026, 1, 3)))


def test_clock_state_counts_only_business_time():
    due = utc(2026, 3, 6, 16)  # Fri 17:00 CET
    state = clocks.measure(clock="answer", due=due, done_at=None, now=utc(2026, 3, 9, 8), cal=BERLIN)  # Mon 09:00 CET
    assert state == clocks.ClockState("answer", clocks.ClockStatus.BREACHED, due, -3600)
    assert state.css == "text-bg-danger"


def test_a_round_the_clock_calendar_decides_at_any_hour():
    always = WorkCalendar(time_zone="UTC", working_days=frozenset(range(7)), periods=((time(0), time(0)),))
    result = plan(always, start=utc(2026, 3, 1, 0), due=utc(2026, 3, 1, 10), now=utc(2026, 3, 1, 5))
    assert result.due == [clocks.DueNotice("reminder", 0, utc(2026, 3, 1, 5), HALF)]


@settings(max_examples=60, deadline=None)
@given(
    start_minute=st.integers(0, 5 * 24 * 60),
    window_minutes=st.integers(30, 3 * 8 * 60),
    gaps=st.lists(st.integers(1, 26 * 60), min_size=1, max_size=40),
)
def test_any_sweep_schedule_decides_each_notice_once_in_working_hours_never_bunched(start_minute, window_minutes, gaps):
    """Whatever the sweep's timing (every minute, or back after hours of outage), feeding the
    decisions back as the ledger: reminders go in increasing order, each escalation number once,
    only in working time, and consecutive escalations at least one interval of business time apart."""
    from requests_app.businesstime import add_business_time, business_time_between, is_working_time

    start = add_business_time(BERLIN, utc(2026, 3, 2, 7) + timedelta(minutes=start_minute), timedelta(0))
    due = add_business_time(BERLIN, start, timedelta(minutes=window_minutes))
    interval = 2 * H
    last_reminder, last_escalation, seen = Decimal(0), None, []
    now = start
    for gap in gaps:
        now += timedelta(minutes=gap)
        result = clocks.plan_clock(
            BERLIN, start=start, due=due, thresholds=[HALF, FOUR_FIFTHS], interval=interval, now=now,
            recorded=clocks.LedgerState(last_reminder or None, last_escalation),
        )
        assert len(result.due) <= 1
        assert result.next_at is None or result.next_at > now or result.due
        for notice in result.due:
            assert is_working_time(BERLIN, now) and notice.due_at <= now
            assert (notice.kind, notice.threshold, notice.seq) not in seen
            seen.append((notice.kind, notice.threshold, notice.seq))
            if notice.kind == "reminder":
                assert notice.threshold > last_reminder and now < due + timedelta(hours=24 * 7)
                last_reminder = notice.threshold
            else:
                if last_escalation is not None:
                    assert notice.seq == last_escalation[0] + 1
                    assert business_time_between(BERLIN, last_escalation[1], notice.due_at) >= interval
                else:
                    assert notice.seq == 1 and notice.due_at >= due
                last_escalation = (notice.seq, notice.due_at)


def test_business_hours_read_as_words_and_a_breach_after_closing_is_not_shown_as_zero() -> None:
    from requests_app.templatetags.clocks import business_hours

    assert business_hours(5400) == "1.5 business h"
    assert business_hours(-36 * 3600) == "36 business h"
    assert business_hours(0) == "under 0.1 business h"
    assert business_hours(None) == ""
