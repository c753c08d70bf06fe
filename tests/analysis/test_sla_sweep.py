"""The SLA sweep decides each reminder and escalation exactly once, in business time, within
working hours, never bunched after an outage (frozen clock; Europe/Berlin calendar 08–12, 13–17)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction

from analysis import sla
from analysis.clocks import stop_department_clock
from analysis.models import Assessment, ReminderLedger
from requests_app import clocks, lifecycle
from requests_app.models import ClockEvent, FeasibilityRequest, Notification, Priority, RequestEvent, Status
from tests.analysis.sla_support import Kind, acknowledge, ledger, move, submit
from tests.conftest import aware, request_fields

# Mon 2 March 2026 (CET = UTC+1). Urgent: acknowledge 2 h, answer 8 h, escalate every 2 h; [0.5, 0.8].
MON_0800 = aware(2026, 3, 2, 7, 0)


def sweep(at):
    """A sweep at a frozen instant; deliveries are collected, not enqueued."""
    delivered: list[int] = []
    with time_machine.travel(at, tick=False):
        result = sla.sla_sweep(now=at, deliver=delivered.extend)
    return result


@pytest.fixture
def urgent(rep, customer, ops_lead, manager):
    return submit(rep, customer, at=MON_0800)


def test_acknowledge_thresholds_are_fractions_of_the_window_in_business_time(rep, customer):
    # Friday 16:00 CET, normal priority: 8 business hours to acknowledge → Monday 16:00.
    req = submit(rep, customer, at=aware(2026, 3, 6, 15, 0), priority=Priority.NORMAL)
    assert req.acknowledge_due == aware(2026, 3, 9, 15, 0)
    # 50% = 4 business hours = Fri 16–17 + Mon 08–11; wall-clock 50% would be Sunday.
    assert req.next_reminder_at == aware(2026, 3, 9, 10, 0)

    assert sweep(aware(2026, 3, 9, 9, 59)).decided == 0
    assert sweep(aware(2026, 3, 9, 10, 0)).decided == 1
    req.refresh_from_db()
    # 80% = 6.4 business hours: Fri 1 h + Mon 08–12 4 h + 13:00–14:24.
    assert req.next_reminder_at == aware(2026, 3, 9, 13, 24)


def test_each_threshold_and_each_escalation_repeat_is_decided_exactly_once(urgent, ops_lead, manager):
    assert urgent.acknowledge_due == aware(2026, 3, 2, 9, 0)  # 10:00 CET
    instants = [aware(2026, 3, 2, 7, 59), aware(2026, 3, 2, 8, 0), aware(2026, 3, 2, 8, 0, ), aware(2026, 3, 2, 8, 30),
                aware(2026, 3, 2, 8, 36), aware(2026, 3, 2, 8, 37), aware(2026, 3, 2, 9, 0), aware(2026, 3, 2, 9, 1),
                aware(2026, 3, 2, 11, 0), aware(2026, 3, 2, 12, 0), aware(2026, 3, 2, 12, 0)]
    for at in instants:
        sweep(at)

    assert ledger(urgent) == [
        ("acknowledge", "reminder", 0.5), ("acknowledge", "reminder", 0.8),
        ("acknowledge", "escalation", 1), ("acknowledge", "escalation", 2),
    ]
    rows = {(r.kind, float(r.threshold) or r.seq): r for r in ReminderLedger.objects.filter(request=urgent)}
    assert rows[("reminder", 0.5)].due_at == aware(2026, 3, 2, 8, 0)
    assert rows[("reminder", 0.8)].due_at == aware(2026, 3, 2, 8, 36)
    assert rows[("escalation", 1)].due_at == aware(2026, 3, 2, 9, 0)
    # 10:00 CET + 2 business hours = 12:00, the closing of the morning: delivered at 13:00 CET.
    assert rows[("escalation", 2)].due_at == aware(2026, 3, 2, 12, 0)
    assert rows[("reminder", 0.5)].recipients == [ops_lead.pk]
    assert rows[("escalation", 1)].recipients == [manager.pk]


def test_escalation_repeats_count_business_time_across_lunch(urgent):
    sweep(aware(2026, 3, 2, 9, 0))  # escalation 1 at 10:00 CET
    urgent.refresh_from_db()
    # 10:00 + 2 business hours = 12:00 CET, the lunch closing: it goes at the 13:00 opening.
    assert urgent.next_reminder_at == aware(2026, 3, 2, 12, 0)
    sweep(aware(2026, 3, 2, 12, 0))
    urgent.refresh_from_db()
    # 13:00 + 2 business hours = 15:00 CET.
    assert urgent.next_reminder_at == aware(2026, 3, 2, 14, 0)


def test_a_breach_at_closing_time_is_escalated_at_the_next_opening_not_at_night(rep, customer, manager):
    req = submit(rep, customer, at=aware(2026, 3, 2, 14, 0))  # 15:00 CET → due 17:00 CET
    assert req.acknowledge_due == aware(2026, 3, 2, 16, 0)

    assert sweep(aware(2026, 3, 2, 16, 30)).decided == 0
    req.refresh_from_db()
    assert req.next_reminder_at == aware(2026, 3, 3, 7, 0)  # Tuesday 08:00 CET
    assert sweep(aware(2026, 3, 2, 23, 0)).requests == 0  # nothing on the work list at night

    sweep(aware(2026, 3, 3, 7, 0))
    escalation = ReminderLedger.objects.get(request=req, kind="escalation")
    assert (escalation.seq, escalation.due_at) == (1, aware(2026, 3, 3, 7, 0))


def test_a_sweep_back_from_an_outage_at_night_waits_for_the_opening(urgent):
    # The sweep was down from before the 50% threshold until 21:00 CET.
    assert sweep(aware(2026, 3, 2, 20, 0)).decided == 0
    urgent.refresh_from_db()
    assert urgent.next_reminder_at == aware(2026, 3, 3, 7, 0)
    assert ledger(urgent) == []


def test_after_an_outage_one_escalation_goes_and_the_next_is_a_full_interval_later(urgent):
    sweep(aware(2026, 3, 2, 9, 0))  # escalation 1 at 10:00 CET
    # Down until Tuesday 10:00 CET: four escalations were "missed".
    back = aware(2026, 3, 3, 9, 0)
    sweep(back)
    sweep(back + timedelta(minutes=1))

    assert ledger(urgent) == [("acknowledge", "escalation", 1), ("acknowledge", "escalation", 2)]
    second = ReminderLedger.objects.get(request=urgent, kind="escalation", seq=2)
    assert second.due_at == back
    urgent.refresh_from_db()
    # Two business hours from 10:00 CET end at the 12:00 closing: next one at the 13:00 opening.
    assert urgent.next_reminder_at == back + timedelta(hours=3)


def test_only_the_latest_due_threshold_is_sent_when_several_became_due_unseen(urgent):
    sweep(aware(2026, 3, 2, 8, 50))  # both 50% (09:00 CET) and 80% (09:36 CET) have passed
    assert ledger(urgent) == [("acknowledge", "reminder", 0.8)]


def test_answer_clock_reminds_departments_owners_and_leads_and_escalates_to_managers(
    urgent, ops_lead, ops_member, stores_member, manager
):
    req = acknowledge(urgent, ops_lead, at=aware(2026, 3, 2, 7, 30), departments=("procurement",))
    assert req.answer_due == aware(2026, 3, 2, 16, 0)  # 8 business hours from 08:00 CET → 17:00 CET
    req.assessments.update(owner=ops_member)
    # 50% of the answer window (from submission): 4 business hours → 12:00 CET, delivered at 13:00.
    assert req.next_reminder_at == aware(2026, 3, 2, 12, 0)
    sweep(aware(2026, 3, 2, 12, 0))
    reminder = ReminderLedger.objects.get(request=req, clock="answer")
    assert set(reminder.recipients) == {ops_member.pk, ops_lead.pk}
    assert stores_member.pk not in reminder.recipients

    sweep(aware(2026, 3, 3, 7, 0))  # due 17:00 CET Monday; Tuesday morning it is escalated
    escalation = ReminderLedger.objects.get(request=req, clock="answer", kind="escalation")
    assert escalation.recipients == [manager.pk]


def test_department_clock_reminds_the_department_and_records_its_breach(urgent, ops_lead, ops_member):
    req = acknowledge(urgent, ops_lead, at=aware(2026, 3, 2, 7, 0), departments=("procurement",))
    assessment = Assessment.objects.get(request=req)
    # 70% of the 8 business hours left between routing (08:00 CET) and answer-by (17:00 CET).
    assert assessment.due_at == aware(2026, 3, 2, 13, 36)
    assert ClockEvent.objects.filter(request=req, clock="department", action="start").exists()

    for at in (aware(2026, 3, 2, 10, 0), aware(2026, 3, 2, 12, 30), aware(2026, 3, 2, 13, 36), aware(2026, 3, 2, 14, 0)):
        sweep(at)
    rows = list(ReminderLedger.objects.filter(assessment=assessment).order_by("due_at").values_list("kind", "scope"))
    assert rows == [("reminder", "procurement"), ("reminder", "procurement"), ("escalation", "procurement")]
    assert ledger(assessment=assessment) == [("department", "reminder", 0.5), ("department", "reminder", 0.8),
                                             ("department", "escalation", 1)]
    breach = ReminderLedger.objects.get(assessment=assessment, kind="escalation")
    assert set(breach.recipients) == {ops_member.pk, ops_lead.pk}
    assessment.refresh_from_db()
    assert assessment.next_reminder_at is None

    with time_machine.travel(aware(2026, 3, 2, 15, 0), tick=False):
        assessment.assessed_at = aware(2026, 3, 2, 15, 0)
        stop_department_clock(assessment, now=aware(2026, 3, 2, 15, 0))
    assert assessment.met is False
    assert assessment.assessment_seconds == 7 * 3600  # 08:00–16:00 CET minus lunch


def test_a_pause_moves_answer_and_department_dues_by_the_paused_business_time(rep, customer, ops_lead):
    # shared/RELIABILITY.md worked example, in a CET week: paused Mon 10:00 → Tue 09:00 = 7 business hours.
    req = submit(rep, customer, at=aware(2026, 3, 2, 7, 0), priority=Priority.NORMAL)
    req = acknowledge(req, ops_lead, at=aware(2026, 3, 2, 8, 0), departments=("stores",))
    answer_due, department_due = req.answer_due, Assessment.objects.get(request=req).due_at

    move(req, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 9, 0))
    assert Assessment.objects.get(request=req).next_reminder_at is None
    req = move(req, to=Status.IN_ANALYSIS, kind=Kind.CLARIFICATION_ANSWERED, actor=rep, at=aware(2026, 3, 3, 8, 0))

    cal = clocks.work_calendar(req)
    from requests_app.businesstime import add_business_time

    assert req.answer_due == add_business_time(cal, answer_due, timedelta(hours=7))
    assessment = Assessment.objects.get(request=req)
    assert assessment.due_at == add_business_time(cal, department_due, timedelta(hours=7))
    assert assessment.next_reminder_at is not None
    assert ClockEvent.objects.filter(request=req, clock="department", action="resume").count() == 1


def test_paused_and_closed_requests_are_not_on_the_work_list(urgent, ops_lead, rep):
    move(urgent, to=Status.WAITING_ON_SALES, kind=Kind.CLARIFICATION_ASKED, actor=ops_lead, at=aware(2026, 3, 2, 7, 30))
    assert sweep(aware(2026, 3, 2, 10, 0)).decided == 0
    with transaction.atomic():
        lifecycle.transition(urgent.pk, to=Status.CLOSED, kind=Kind.WITHDRAWN, actor=rep, now=aware(2026, 3, 2, 7, 40),
                             fields={"outcome": "withdrawn"})
    assert FeasibilityRequest.objects.get(pk=urgent.pk).next_reminder_at is None


def test_a_revision_starts_a_fresh_answer_window_with_its_own_reminders(urgent, ops_lead, rep):
    req = acknowledge(urgent, ops_lead, at=aware(2026, 3, 2, 7, 30))
    sweep(aware(2026, 3, 2, 12, 0))
    move(req, to=Status.ANSWERED, kind=Kind.ANSWER_PUBLISHED, actor=ops_lead, at=aware(2026, 3, 2, 12, 30))
    move(req, to=Status.IN_ANALYSIS, kind=Kind.REVISION_REQUESTED, actor=rep, at=aware(2026, 3, 3, 7, 0))
    sweep(aware(2026, 3, 3, 12, 0))  # 50% of the new 8-hour window
    assert list(ReminderLedger.objects.filter(request=req, clock="answer").values_list("scope", "kind", "threshold")) == [
        ("", "reminder", Decimal("0.5")), ("r2", "reminder", Decimal("0.5"))
    ]


def test_delivery_sends_html_and_text_with_the_ledger_message_id_and_records_it(urgent, ops_lead, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sweep(aware(2026, 3, 2, 8, 0))
    row = ReminderLedger.objects.get(request=urgent)
    with time_machine.travel(aware(2026, 3, 2, 8, 0, ), tick=False):
        assert sla.deliver_ledger(row.pk) is True
        assert sla.deliver_ledger(row.pk) is False  # a duplicate task does nothing

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.extra_headers["Message-ID"] == f"<s2o-ledger-{row.pk}@s2o>"
    assert message.to == [ops_lead.email]
    assert message.alternatives[0][1] == "text/html"
    assert urgent.reference in message.subject
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 1
    assert Notification.objects.get(dedupe_key=f"ledger:{row.pk}:{ops_lead.pk}").request_id == urgent.pk
    assert RequestEvent.objects.filter(request=urgent, kind=RequestEvent.Kind.REMINDER_SENT).count() == 1


def test_reminder_opt_out_skips_the_email_but_not_escalations_or_in_app(urgent, ops_lead, manager, settings):
    from requests_app.models import Profile

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Profile.objects.create(user=ops_lead, reminder_emails=False)
    Profile.objects.create(user=manager, reminder_emails=False)
    sweep(aware(2026, 3, 2, 8, 0))
    sweep(aware(2026, 3, 2, 9, 0))
    for row in ReminderLedger.objects.filter(request=urgent):
        sla.deliver_ledger(row.pk, now=aware(2026, 3, 2, 9, 0))  # in everyone's working hours

    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert Notification.objects.filter(user=ops_lead, kind="sla_reminder").count() == 1
    assert RequestEvent.objects.filter(request=urgent, kind=RequestEvent.Kind.ESCALATION_SENT).count() == 1


def test_a_failing_mail_server_is_recorded_and_the_claim_released_for_a_retry(urgent, settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 1
    sweep(aware(2026, 3, 2, 8, 0))
    row = ReminderLedger.objects.get(request=urgent)

    assert sla.deliver_ledger(row.pk, now=aware(2026, 3, 2, 8, 0)) is False

    row.refresh_from_db()
    assert row.sent_at is None and row.claimed_at is None and row.attempts == 1
    assert "ConnectionRefused" in row.last_error
    assert not Notification.objects.filter(dedupe_key__startswith=f"ledger:{row.pk}:").exists()


def test_the_sweep_re_enqueues_rows_left_unsent_after_the_grace_period(urgent):
    sweep(aware(2026, 3, 2, 8, 0))
    row = ReminderLedger.objects.get(request=urgent)
    collected: list[int] = []
    assert sla.reenqueue_unsent(now=aware(2026, 3, 2, 8, 1), deliver=collected.extend) == 0
    ReminderLedger.objects.filter(pk=row.pk).update(claimed_at=aware(2026, 3, 2, 8, 2))  # a worker holds it
    assert sla.reenqueue_unsent(now=aware(2026, 3, 2, 8, 3), deliver=collected.extend) == 0
    assert sla.reenqueue_unsent(now=aware(2026, 3, 2, 8, 10), deliver=collected.extend) == 1  # lease expired
    assert collected == [row.pk]


def test_morning_digest_once_per_local_day_after_half_past_seven(urgent, ops_lead, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tue = aware(2026, 3, 3, 6, 0)  # 07:00 CET
    collected: list[int] = []
    assert sla.send_morning_digests(now=tue, deliver=collected.extend) == 0
    assert sla.send_morning_digests(now=tue + timedelta(minutes=45), deliver=collected.extend) == 1
    assert sla.send_morning_digests(now=tue + timedelta(minutes=60), deliver=collected.extend) == 0
    row = ReminderLedger.objects.get(kind="digest")
    assert row.scope == f"user:{ops_lead.pk}:2026-03-03" and row.request_id is None
    assert sla.deliver_ledger(row.pk) is True
    assert urgent.reference in mail.outbox[0].body  # overdue since Monday: listed
    assert sla.send_morning_digests(now=aware(2026, 3, 7, 8, 0), deliver=collected.extend) == 0  # Saturday


def test_clock_state_labels_and_business_time_left(urgent):
    cal = clocks.work_calendar(urgent)
    due = urgent.acknowledge_due  # 10:00 CET

    def state(now, done=None, paused=False):
        return clocks.measure(clock="acknowledge", due=due, done_at=done, now=now, cal=cal, paused=paused)

    assert state(aware(2026, 3, 2, 7, 0)).status == "due soon"  # exactly 2 business hours left
    assert state(aware(2026, 3, 2, 6, 0)).status == "due soon"  # 07:00 CET: still 2 business hours before 10:00
    answer = clocks.measure(clock="answer", due=urgent.answer_due, done_at=None, now=aware(2026, 3, 2, 7, 0), cal=cal)
    assert answer == clocks.ClockState("answer", "on track", aware(2026, 3, 2, 16, 0), 8 * 3600)  # 08:00 → 17:00 CET
    assert state(aware(2026, 3, 2, 12, 0)) == clocks.ClockState("acknowledge", "breached", due, -2 * 3600)
    assert state(aware(2026, 3, 2, 7, 0), paused=True).status == "paused"
    assert state(aware(2026, 3, 3, 12, 0), done=aware(2026, 3, 2, 8, 0)).status == "met"
    assert state(aware(2026, 3, 3, 12, 0), done=aware(2026, 3, 2, 10, 0)).status == "missed"
    assert clocks.measure(clock="acknowledge", due=None, done_at=None, now=aware(2026, 3, 2, 7, 0), cal=cal) is None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweepers_decide_and_deliver_each_reminder_exactly_once(
    postgres_only, rep, customer, ops_lead, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    requests = [submit(rep, customer, at=MON_0800) for _ in range(60)]
    at = aware(2026, 3, 2, 8, 0)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sweeper() -> None:
        try:
            barrier.wait(timeout=10)
            sla.sla_sweep(now=at, batch_size=7, deliver=sla.deliver_inline)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=sweeper) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert ReminderLedger.objects.count() == len(requests)
    assert ReminderLedger.objects.filter(sent_at__isnull=True).count() == 0
    assert len(mail.outbox) == len(requests)
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == len(requests)
    assert Notification.objects.filter(kind="sla_reminder").count() == len(requests)
    assert RequestEvent.objects.filter(kind=RequestEvent.Kind.REMINDER_SENT).count() == len(requests)


def test_the_sla_sweep_command_decides_and_delivers_without_a_broker(
    urgent, ops_lead, settings, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    out = StringIO()
    with time_machine.travel(aware(2026, 3, 2, 8, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("sla_sweep", "--deliver", stdout=out)
    assert "decided=1" in out.getvalue()
    assert ReminderLedger.objects.get(request=urgent).sent_at is not None
    assert [m.to for m in mail.outbox] == [[ops_lead.email]]


def test_leads_who_turned_the_digest_off_get_none(ops_lead):
    from requests_app.models import Profile

    Profile.objects.create(user=ops_lead, morning_digest=False)
    assert sla.send_morning_digests(now=aware(2026, 3, 3, 7, 0), deliver=lambda ids: None) == 0
    assert not ReminderLedger.objects.filter(kind="digest").exists()


def test_a_request_with_a_broken_calendar_is_pushed_forward_without_stalling_the_others(rep, customer, urgent):
    from requests_app.models import BusinessCalendar

    broken = BusinessCalendar.objects.create(
        name="Broken", time_zone="Mars/Olympus", working_days=[0], periods=[["08:00", "12:00"]]
    )
    bad = FeasibilityRequest.objects.create(
        requested_by=rep, status=Status.SUBMITTED, reference="S2O-BAD-1", calendar=broken, submitted_at=MON_0800,
        acknowledge_due=aware(2026, 3, 2, 9, 0), next_reminder_at=MON_0800,
        **request_fields(customer, priority=Priority.URGENT),
    )
    result = sweep(aware(2026, 3, 2, 8, 0))
    assert result.decided == 1  # the good request still got its reminder
    bad.refresh_from_db()
    assert bad.next_reminder_at == aware(2026, 3, 2, 8, 0) + sla.RETRY_LATER
