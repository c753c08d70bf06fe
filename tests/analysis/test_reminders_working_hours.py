"""Reminders and escalations reach each recipient inside that recipient's own working hours,
exactly once, and one e-mail carries everyone it goes to at that moment in To:.

Shipping works an early shift, 06:00-14:00 Berlin time; everyone else works the default calendar,
08:00-12:00 and 13:00-17:00 Berlin time. Week of 2 March 2026: Berlin is UTC+1, New York UTC-5.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail

from analysis import sla
from analysis.models import ReminderLedger
from requests_app.models import BusinessCalendar, Department, Notification, Profile, RequestEvent, Role
from tests.analysis.sla_support import acknowledge, submit
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MON_0800_CET = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
TUE_0631_CET = datetime(2026, 3, 3, 5, 31, tzinfo=UTC)
TUE_0800_CET = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)


@pytest.fixture
def early_shift_shipping(db) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(
        name="Shipping early shift", time_zone="Europe/Berlin", working_days=[0, 1, 2, 3, 4], periods=[["06:00", "14:00"]]
    )
    Department.objects.filter(code="shipping").update(calendar=calendar)
    return calendar


@pytest.fixture
def shipper(early_shift_shipping):
    return make_user("sam", Role.OPS_MEMBER, departments=("shipping",))


@pytest.fixture
def req(rep, customer, ops_lead, early_shift_shipping):
    submitted = submit(rep, customer, at=MON_0800_CET)
    return acknowledge(submitted, ops_lead, at=MON_0800_CET, departments=("shipping",))


def escalation(req, *recipients, due_at=TUE_0631_CET) -> ReminderLedger:
    """Shipping's own breach, decided in shipping's hours: its members and the leads hear of it."""
    return ReminderLedger.objects.create(
        request=req, assessment=req.assessments.get(), clock="department", scope="shipping", kind="escalation", seq=1,
        due_at=due_at, created_at=due_at, recipients=[u.pk for u in recipients],
    )


def deliver(row: ReminderLedger, at: datetime) -> bool:
    with time_machine.travel(at, tick=False):
        return sla.deliver_ledger(row.pk, now=at)


def test_a_department_escalation_at_0631_reaches_the_shift_now_and_the_berlin_lead_at_0800(req, shipper, ops_lead):
    row = escalation(req, shipper, ops_lead)

    assert deliver(row, TUE_0631_CET) is True
    [early] = mail.outbox
    assert early.to == ["sam@example.com"]
    assert "Also for Lena (from Tue 03 Mar 08:00 CET): each receives it at the start of their own working hours." in early.body
    row.refresh_from_db()
    assert (row.sent_at, row.delivered_to, row.next_attempt_at) == (None, [shipper.pk], TUE_0800_CET)

    # Before 08:00 nothing goes, however often a worker or the sweep tries.
    assert deliver(row, datetime(2026, 3, 3, 6, 59, tzinfo=UTC)) is False
    assert len(mail.outbox) == 1

    assert deliver(row, TUE_0800_CET) is True
    later = mail.outbox[1]
    assert later.to == ["lena@example.com"]
    assert later.extra_headers["Message-ID"] != early.extra_headers["Message-ID"]
    row.refresh_from_db()
    assert row.sent_at is not None and row.delivered_to == [shipper.pk, ops_lead.pk]

    # Exactly once each: no more e-mails, one notification per person, one timeline entry.
    assert deliver(row, datetime(2026, 3, 3, 9, 0, tzinfo=UTC)) is False
    assert len(mail.outbox) == 2
    assert sorted(Notification.objects.filter(kind="sla_escalation").values_list("user__username", flat=True)) == [
        "lena", "sam"
    ]
    assert RequestEvent.objects.filter(request=req, kind=RequestEvent.Kind.ESCALATION_SENT).count() == 1


def test_the_in_app_notification_waits_for_the_recipients_hours_too(req, shipper, ops_lead):
    row = escalation(req, shipper, ops_lead)

    deliver(row, TUE_0631_CET)

    assert list(Notification.objects.filter(kind="sla_escalation").values_list("user__username", flat=True)) == ["sam"]
    assert Notification.objects.get(user=shipper, kind="sla_escalation").created_at == TUE_0631_CET


def test_everyone_in_working_hours_gets_one_e_mail_with_all_of_them_in_to(req, shipper, ops_lead, manager):
    row = escalation(req, shipper, ops_lead, manager, due_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))

    assert deliver(row, datetime(2026, 3, 3, 9, 0, tzinfo=UTC)) is True

    [message] = mail.outbox
    assert sorted(message.to) == ["lena@example.com", "max@example.com", "sam@example.com"]
    assert "Also for" not in message.body
    row.refresh_from_db()
    assert row.sent_at is not None


def test_a_lead_in_new_york_is_reminded_in_new_york_working_hours(req, ops_lead, manager):
    Profile.objects.create(user=ops_lead, time_zone="America/New_York")
    berlin_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # 03:00 in New York
    row = escalation(req, ops_lead, manager, due_at=berlin_0900)

    deliver(row, berlin_0900)

    assert [m.to for m in mail.outbox] == [["max@example.com"]]
    assert "Also for Lena (from Tue 03 Mar 08:00 EST)" in mail.outbox[0].body
    row.refresh_from_db()
    assert row.next_attempt_at == datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 08:00 in New York


def test_the_sweep_hands_a_waiting_row_back_at_the_recipients_opening(req, ops_lead):
    row = escalation(req, ops_lead)
    deliver(row, TUE_0631_CET)
    assert mail.outbox == []

    with time_machine.travel(TUE_0800_CET, tick=False):
        sla.sla_sweep(now=TUE_0800_CET, deliver=lambda ids: [sla.deliver_ledger(pk, now=TUE_0800_CET) for pk in ids])

    ours = [m for m in mail.outbox if m.extra_headers["Message-ID"] == row.message_id]
    assert [m.to for m in ours] == [["lena@example.com"]]
    row.refresh_from_db()
    assert row.sent_at is not None


def test_who_waits_and_when_is_decided_per_calendar():
    from requests_app.businesstime import WorkCalendar

    berlin = WorkCalendar(time_zone="Europe/Berlin")
    new_york = WorkCalendar(time_zone="America/New_York")
    now = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 15:00 Berlin, 09:00 New York

    assert sla.split_by_working_hours({1: berlin, 2: new_york}, now) == ({1, 2}, None)
    assert sla.split_by_working_hours({1: berlin, 2: new_york}, datetime(2026, 3, 3, 18, 0, tzinfo=UTC)) == (
        {2}, datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
    )
