"""Exactly-once, pinned where it can break: a redelivery long after the claim window, a second
sweeper deciding the same threshold again, two workers delivering the same row at once, and a
slow worker whose claim expired while a second one sent (shared/RELIABILITY.md rules 1–2).

A worker killed between the mail server's "250" and the mark (one duplicate with the same
Message-ID, never zero) is pinned with real processes in tests/test_sla_worker.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import IntegrityError, connection, transaction

from analysis import sla
from analysis.models import ReminderLedger
from requests_app import notifications
from requests_app.models import Notification, RequestEvent
from tests.analysis.sla_support import submit
from tests.conftest import aware

MON_0800_CET = aware(2026, 3, 2, 7, 0)
HALF_WAY = aware(2026, 3, 2, 8, 0)  # 50 % of an urgent request's two acknowledge hours


def sweep(at):
    with time_machine.travel(at, tick=False):
        return sla.sla_sweep(now=at, deliver=lambda ids: None)


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def reminder(rep, customer, ops_lead, locmem) -> ReminderLedger:
    """The 50 % acknowledge reminder of an urgent request, decided and not yet delivered."""
    req = submit(rep, customer, at=MON_0800_CET)
    sweep(HALF_WAY)
    return ReminderLedger.objects.get(request=req)


def delivered_once(row: ReminderLedger, lead) -> None:
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [row.message_id]
    assert Notification.objects.filter(user=lead, kind="sla_reminder").count() == 1
    assert RequestEvent.objects.filter(request=row.request, kind=RequestEvent.Kind.REMINDER_SENT).count() == 1


@pytest.mark.parametrize("later", [sla.LEASE + timedelta(seconds=1), timedelta(days=3)])
def test_a_redelivery_after_the_claim_window_sends_nothing_again(reminder, ops_lead, later):
    assert sla.deliver_ledger(reminder.pk, now=HALF_WAY) is True
    # The task is redelivered (broker visibility timeout, a recovery run) after the claim expired.
    with time_machine.travel(HALF_WAY + later, tick=False):
        assert sla.deliver_ledger(reminder.pk, now=HALF_WAY + later) is False
        assert sla.reenqueue_unsent(now=HALF_WAY + later, deliver=lambda ids: pytest.fail(f"re-enqueued {ids}")) == 0
    delivered_once(reminder, ops_lead)
    reminder.refresh_from_db()
    assert reminder.attempts == 1


def test_a_second_decision_of_the_same_threshold_inserts_nothing_and_enqueues_nothing(reminder):
    # A second sweeper read the row before the first one moved `next_reminder_at` on.
    reminder.request.__class__.objects.filter(pk=reminder.request_id).update(next_reminder_at=HALF_WAY)
    enqueued: list[int] = []
    later = HALF_WAY + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        result = sla.sla_sweep(now=later, deliver=enqueued.extend)
    assert (result.decided, enqueued) == (0, [])
    assert ReminderLedger.objects.filter(request=reminder.request).count() == 1


def test_the_database_refuses_a_duplicate_ledger_row(reminder):
    duplicate = ReminderLedger(
        request_id=reminder.request_id, clock=reminder.clock, scope=reminder.scope, kind=reminder.kind,
        threshold=reminder.threshold, seq=reminder.seq, due_at=reminder.due_at + timedelta(minutes=5),
        created_at=reminder.created_at + timedelta(minutes=5),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    # The sweep's insert treats the conflict as "already decided": no error, no new id.
    assert sla._insert_ledger([duplicate], reminder.created_at + timedelta(minutes=5)) == []
    assert ReminderLedger.objects.filter(request=reminder.request).count() == 1


def test_a_digest_decided_twice_in_one_morning_is_one_row(ops_lead, locmem):
    tue_0800 = aware(2026, 3, 3, 7, 0)
    assert sla.send_morning_digests(now=tue_0800, deliver=lambda ids: None) == 1
    ReminderLedger.objects.update(created_at=tue_0800 - timedelta(hours=1))  # as if an earlier run had decided it
    assert sla.send_morning_digests(now=tue_0800 + timedelta(minutes=15), deliver=lambda ids: None) == 0
    assert ReminderLedger.objects.filter(kind="digest").count() == 1


class GatedBackend(EmailBackend):
    """locmem, but a thread named "slow" hands its message over only when `GATE` opens."""

    GATE = threading.Event()
    REACHED = threading.Event()

    def send_messages(self, messages):
        if threading.current_thread().name == "slow":
            GatedBackend.REACHED.set()
            assert GatedBackend.GATE.wait(timeout=30)
        return super().send_messages(messages)


def run_threads(*targets, names=()) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(target):
        def run():
            try:
                target()
            except BaseException as exc:  # surfaced by the caller
                errors.append(exc)
            finally:
                connection.close()
        return run

    threads = [threading.Thread(target=wrap(t), name=n) for t, n in zip(targets, names or [None] * len(targets), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_rows_at_once_send_each_once(postgres_only, rep, customer, ops_lead, locmem):
    for _ in range(15):
        submit(rep, customer, at=MON_0800_CET)
    sweep(HALF_WAY)
    ids = list(ReminderLedger.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == 15
    barrier = threading.Barrier(2)
    wins: list[int] = []

    def worker():
        barrier.wait(timeout=10)
        for pk in ids:
            if sla.deliver_ledger(pk, now=HALF_WAY):
                wins.append(pk)

    assert run_threads(worker, worker) == []
    assert sorted(wins) == ids
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == sorted(f"<s2o-ledger-{pk}@s2o>" for pk in ids)
    assert Notification.objects.filter(user=ops_lead, kind="sla_reminder").count() == 15
    assert RequestEvent.objects.filter(kind=RequestEvent.Kind.REMINDER_SENT).count() == 15


@pytest.mark.django_db(transaction=True)
def test_a_slow_worker_whose_claim_expired_sends_a_duplicate_but_records_nothing_twice(
    postgres_only, rep, customer, ops_lead, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.GatedBackend"
    GatedBackend.GATE.clear()
    GatedBackend.REACHED.clear()
    req = submit(rep, customer, at=MON_0800_CET)
    sweep(HALF_WAY)
    row = ReminderLedger.objects.get(request=req)
    results: dict[str, bool] = {}

    def slow():
        results["slow"] = sla.deliver_ledger(row.pk, now=HALF_WAY)

    def recovery():
        assert GatedBackend.REACHED.wait(timeout=30)  # the slow one holds the claim, mid-send
        assert sla.deliver_ledger(row.pk, now=HALF_WAY + timedelta(minutes=1)) is False  # a live claim is respected
        results["recovery"] = sla.deliver_ledger(row.pk, now=HALF_WAY + sla.LEASE + timedelta(seconds=1))
        GatedBackend.GATE.set()

    assert run_threads(slow, recovery, names=("slow", "recovery")) == []

    # At most one duplicate, with the same Message-ID so mail clients fold it; everything else once.
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [row.message_id, row.message_id]
    assert results == {"slow": True, "recovery": True}
    assert Notification.objects.filter(user=ops_lead, kind="sla_reminder").count() == 1
    assert RequestEvent.objects.filter(request=req, kind=RequestEvent.Kind.REMINDER_SENT).count() == 1


# The generic notification e-mails (filed, acknowledged, answered …) use the same claim.


@pytest.fixture
def notification(rep, ops_lead, customer, locmem) -> Notification:
    req = submit(rep, customer, at=MON_0800_CET)
    return Notification.objects.create(
        user=ops_lead, request=req, kind="filed", message="New request", url=req.get_absolute_url(),
        created_at=MON_0800_CET, email_template="notification",
    )


@pytest.mark.parametrize("later", [notifications.EMAIL_LEASE + timedelta(seconds=1), timedelta(days=3)])
def test_a_notification_e_mail_is_not_sent_again_after_its_claim_window(notification, later):
    assert notifications.send_notification_email(notification.pk, now=MON_0800_CET) is True
    assert notifications.send_notification_email(notification.pk, now=MON_0800_CET + later) is False
    assert notifications.resend_pending_emails(now=MON_0800_CET + later) == 0
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [f"<s2o-notification-{notification.pk}@s2o>"]


def test_a_live_notification_claim_is_respected_and_an_expired_one_taken_over(notification):
    Notification.objects.filter(pk=notification.pk).update(email_claimed_at=MON_0800_CET)  # a worker holds it
    assert notifications.send_notification_email(notification.pk, now=MON_0800_CET + timedelta(minutes=4)) is False
    assert mail.outbox == []
    assert notifications.send_notification_email(
        notification.pk, now=MON_0800_CET + notifications.EMAIL_LEASE + timedelta(seconds=1)
    ) is True
    assert len(mail.outbox) == 1
