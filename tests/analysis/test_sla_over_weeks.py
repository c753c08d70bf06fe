"""Weeks of sweeps with a frozen clock, in three time zones: across a change of summer time, public
holidays, weekends and a pause resumed across a holiday. The sweep runs every 12 minutes
of the local day (07–19) on the days something happens and every hour otherwise — at night, on
weekends and holidays too, as beat would (more often changes nothing: a sweep decides from the
database). Every expected instant below is worked out by hand
in local time; the standard library turns it into UTC.

Each zone's calendar: Monday to Friday 09:00–17:00, the country's public holidays. Urgent
policy: acknowledge within 2 business hours, answer within 8, reminders at 50 % and 80 % of each
window, escalations every 2 business hours after the due time.

Three requests per zone, with the same local story:
- A, filed at 16:00 on the last working day before the holidays: 1 hour that day, the rest after.
- B, filed at 09:00 that same day, acknowledged at 09:30; a question to Sales at 12:00 is answered
  at 10:00 on the first working day after: the answer clock is paused across the holidays.
- C (where summer time changes on another weekend), filed at 16:00 on the Friday before it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection

from analysis import sla
from analysis.models import ReminderLedger
from requests_app.models import BusinessCalendar, FeasibilityRequest, Status
from tests.analysis.sla_support import Kind, acknowledge, move, submit

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Zone:
    name: str
    country: str
    subdivision: str
    holidays: tuple[date, ...]  # the public holidays inside the simulated weeks, by hand
    before: date  # the last working day before the holidays
    after: date  # the first working day after them
    next_after: date  # the working day after that
    dst_friday: date | None = None  # summer time changes on the Sunday after this Friday …
    dst_monday: date | None = None  # … and this is the next working day

    def at(self, day: date, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(self.name)).astimezone(UTC)


ZONES = [
    # Summer time begins Sun 29 March 2026; Good Friday 3 April and Easter Monday 6 April.
    Zone("Europe/Berlin", "DE", "", (date(2026, 4, 3), date(2026, 4, 6)),
         before=date(2026, 4, 2), after=date(2026, 4, 7), next_after=date(2026, 4, 8),
         dst_friday=date(2026, 3, 27), dst_monday=date(2026, 3, 30)),
    # Summer time ends Sun 1 November 2026; Veterans Day Wednesday 11 November.
    Zone("America/New_York", "US", "", (date(2026, 11, 11),),
         before=date(2026, 11, 10), after=date(2026, 11, 12), next_after=date(2026, 11, 13),
         dst_friday=date(2026, 10, 30), dst_monday=date(2026, 11, 2)),
    # Southern hemisphere: summer time ends Sun 5 April 2026, inside Easter (Good Friday 3 April to
    # Easter Monday 6 April are public holidays in New South Wales): A's window spans both.
    Zone("Australia/Sydney", "AU", "NSW", (date(2026, 4, 3), date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6)),
         before=date(2026, 4, 2), after=date(2026, 4, 7), next_after=date(2026, 4, 8)),
]


def calendar_for(zone: Zone) -> BusinessCalendar:
    return BusinessCalendar.objects.create(
        name=f"Office {zone.name}", time_zone=zone.name, working_days=[0, 1, 2, 3, 4], periods=[["09:00", "17:00"]],
        holiday_country=zone.country, holiday_subdivision=zone.subdivision,
    )


def sweep_instants(start: datetime, end: datetime, zone: Zone) -> list[datetime]:
    """Every 12 minutes from 07:00 to 19:00 local time on the days something happens, every hour
    otherwise (nights, weekends, holidays, the quiet days between)."""
    busy = {zone.before, zone.after, zone.next_after, zone.dst_friday, zone.dst_monday}
    instants, at = [], start
    while at <= end:
        instants.append(at)
        local = at.astimezone(ZoneInfo(zone.name))
        at += timedelta(minutes=12) if local.date() in busy and 7 <= local.hour < 19 else timedelta(hours=1)
    return instants


def within_working_hours(zone: Zone, instant: datetime) -> bool:
    local = instant.astimezone(ZoneInfo(zone.name))
    return local.weekday() < 5 and local.date() not in zone.holidays and time(9) <= local.time() < time(17)


def head_office_hours(instant: datetime) -> bool:
    """The recipients' working hours, by hand: the lead and the manager have no calendar of their
    own, so the default calendar's (Head office: Monday to Friday 08:00–12:00 and 13:00–17:00 in
    Berlin, German public holidays) — not the hours of the request's calendar in another zone."""
    local = instant.astimezone(ZoneInfo("Europe/Berlin"))
    german_holidays = {date(2026, 4, 3), date(2026, 4, 6)}  # Good Friday, Easter Monday; none in March or November
    return (local.weekday() < 5 and local.date() not in german_holidays
            and (time(8) <= local.time() < time(12) or time(13) <= local.time() < time(17)))


@dataclass
class Simulation:
    requests: dict[str, FeasibilityRequest]
    sent: list[tuple[datetime, object]]  # (the sweep instant, an e-mail it sent)


def simulate(zone: Zone, rep, customer, lead, *, sweepers: int = 1) -> Simulation:
    """File, act and sweep through the weeks; returns the requests by letter and when each e-mail went."""
    cal = calendar_for(zone)
    plan: list[tuple[datetime, str]] = [
        (zone.at(zone.before, 9), "file B"), (zone.at(zone.before, 9, 30), "acknowledge B"),
        (zone.at(zone.before, 12), "ask B"), (zone.at(zone.before, 16), "file A"),
        (zone.at(zone.after, 10), "reply B"), (zone.at(zone.after, 11), "acknowledge A"),
        (zone.at(zone.after, 16, 30), "publish B"), (zone.at(zone.next_after, 9, 30), "publish A"),
    ]
    if zone.dst_friday:
        plan += [(zone.at(zone.dst_friday, 16), "file C"), (zone.at(zone.dst_monday, 9, 50), "acknowledge C"),
                 (zone.at(zone.dst_monday, 14, 30), "publish C")]
    plan.sort()
    start = min(at for at, _ in plan) - timedelta(hours=1)
    end = zone.at(zone.next_after, 18)
    requests: dict[str, FeasibilityRequest] = {}

    def act(at: datetime, what: str) -> None:
        verb, letter = what.split()
        with time_machine.travel(at, tick=False):
            if verb == "file":
                requests[letter] = submit(rep, customer, at=at, calendar=cal)
            elif verb == "acknowledge":
                requests[letter] = acknowledge(requests[letter], lead, at=at)
            elif verb == "ask":
                move(requests[letter], to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=lead, at=at)
            elif verb == "reply":
                move(requests[letter], to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=at)
            else:
                move(requests[letter], to=Status.ANSWERED, kind=Kind.ANSWER_PUBLISHED, actor=lead, at=at)
            requests[letter] = FeasibilityRequest.objects.get(pk=requests[letter].pk)

    pending, sent = list(plan), []
    for at in sweep_instants(start, end, zone):
        while pending and pending[0][0] <= at:
            act(*pending.pop(0))
        already = len(mail.outbox)
        if sweepers == 1:
            with time_machine.travel(at, tick=False):
                sla.sla_sweep(now=at, deliver=sla.deliver_inline)
        else:
            concurrent_sweeps(at, sweepers)
        sent += [(at, message) for message in mail.outbox[already:]]
    assert pending == []
    return Simulation(requests, sent)


def concurrent_sweeps(at: datetime, sweepers: int) -> None:
    barrier, errors = threading.Barrier(sweepers), []

    def sweeper() -> None:
        try:
            barrier.wait(timeout=20)
            sla.sla_sweep(now=at, batch_size=1, deliver=sla.deliver_inline)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=sweeper) for _ in range(sweepers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []


def ledger_of(req) -> list[tuple[str, str, float | int, datetime]]:
    return [
        (clock, kind, float(threshold) if kind == "reminder" else seq, due_at)
        for clock, kind, threshold, seq, due_at in ReminderLedger.objects.filter(request=req)
        .order_by("due_at", "id").values_list("clock", "kind", "threshold", "seq", "due_at")
    ]


def expected(zone: Zone) -> dict[str, list]:
    """By hand, in local time of the calendar."""
    after = zone.after
    result = {
        # Ack window 2 h: Thu(/Tue) 16–17, then 09–10 on the first working day after the holidays.
        # 50 % falls on the 17:00 closing: it goes at the next opening. Acknowledged at 11:00.
        "A": [("acknowledge", "reminder", 0.5, zone.at(after, 9)),
              ("acknowledge", "reminder", 0.8, zone.at(after, 9, 36)),
              ("acknowledge", "escalation", 1, zone.at(after, 10)),
              # Answer window 8 h from filing: 1 h before, 7 h after → due 16:00; published next day 09:30,
              # before the second escalation (16:00 + 2 business hours = 10:00).
              ("answer", "reminder", 0.5, zone.at(after, 12)),
              ("answer", "reminder", 0.8, zone.at(after, 14, 24)),
              ("answer", "escalation", 1, zone.at(after, 16))],
        # Acknowledged before its 50 % (10:00). Answer clock: 09–12 before the pause (3 h), resumed at
        # 10:00 after the holidays: 50 % (4 h) at 11:00, 80 % (6.4 h) at 13:24, due (8 h) at 15:00.
        "B": [("answer", "reminder", 0.5, zone.at(after, 11)),
              ("answer", "reminder", 0.8, zone.at(after, 13, 24)),
              ("answer", "escalation", 1, zone.at(after, 15))],
    }
    if zone.dst_friday:
        # Filed Friday 16:00; the weekend's clock change moves no business hour: Monday 09:00, 09:36;
        # acknowledged at 09:50; answer due Monday 16:00 (50 % at 12:00, 80 % at 14:24), published 14:30.
        monday = zone.dst_monday
        result["C"] = [("acknowledge", "reminder", 0.5, zone.at(monday, 9)),
                       ("acknowledge", "reminder", 0.8, zone.at(monday, 9, 36)),
                       ("answer", "reminder", 0.5, zone.at(monday, 12)),
                       ("answer", "reminder", 0.8, zone.at(monday, 14, 24))]
    return result


def check(zone: Zone, simulation: Simulation, ops_lead, manager) -> None:
    requests = simulation.requests
    a, b = requests["A"], requests["B"]
    assert a.acknowledge_due == zone.at(zone.after, 10)
    assert b.answer_due == zone.at(zone.after, 15)  # 17:00 before the holidays + the 5 h it still had left
    assert b.paused_seconds == 6 * 3600  # 12–17 before the holidays, 09–10 after
    if zone.dst_friday:
        assert requests["C"].acknowledge_due == zone.at(zone.dst_monday, 10)
    for letter, rows in expected(zone).items():
        assert ledger_of(requests[letter]) == rows, letter

    rows = list(ReminderLedger.objects.all())
    assert all(within_working_hours(zone, row.due_at) for row in rows)
    # Decided no earlier than due, and delivered exactly once each, with its own Message-ID.
    assert all(row.created_at >= row.due_at and row.sent_at is not None for row in rows)
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert sorted(ids) == sorted(row.message_id for row in rows)
    reminders = [m for m in mail.outbox if m.to == [ops_lead.email]]
    escalations = [m for m in mail.outbox if m.to == [manager.email]]
    assert len(reminders) == sum(r.kind == "reminder" for r in rows)
    assert len(escalations) == sum(r.kind == "escalation" for r in rows)
    # No e-mail reaches a recipient outside their own working hours: a reminder decided at 09:00
    # in Sydney (midnight in Berlin) waits for the Head office's morning.
    assert [(at, m.to) for at, m in simulation.sent if not head_office_hours(at)] == []
    assert len(simulation.sent) == len(mail.outbox)
    # Each recipient has each row once (`delivered_to`), and the row is sent when the last one has it.
    for row in rows:
        assert sorted(row.delivered_to) == sorted(row.recipients) and len(set(row.delivered_to)) == len(row.delivered_to)


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.parametrize("zone", ZONES, ids=[z.name for z in ZONES])
def test_weeks_of_sweeps_remind_each_threshold_once_within_working_hours(zone, rep, customer, ops_lead, manager, locmem):
    check(zone, simulate(zone, rep, customer, ops_lead), ops_lead, manager)


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_every_instant_of_the_weeks_decide_and_send_each_reminder_once(
    postgres_only, rep, customer, ops_lead, manager, locmem
):
    zone = ZONES[2]  # Sydney: the clock change inside the holidays
    check(zone, simulate(zone, rep, customer, ops_lead, sweepers=2), ops_lead, manager)
