"""A reminder or escalation e-mail that keeps failing waits out a doubling back-off between
attempts, is given up after the last one, and shows its last error to admins."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from analysis import sla
from analysis.models import ReminderLedger
from tests.analysis.test_sla_sweep import sweep, urgent  # noqa: F401  (fixture)
from tests.conftest import aware

pytestmark = pytest.mark.django_db

DECIDED = aware(2026, 3, 2, 8, 0)


class BusyMailServer(BaseEmailBackend):
    """The outside world: refuses the next `refuse` messages, then accepts."""

    refuse = 0

    def send_messages(self, email_messages) -> int:
        if BusyMailServer.refuse > 0:
            BusyMailServer.refuse -= 1
            raise smtplib.SMTPDataError(451, b"4.3.0 Mail server busy, try again later")
        return LocmemBackend().send_messages(email_messages)


@pytest.fixture
def row(urgent, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "tests.analysis.test_reminder_retries.BusyMailServer"
    settings.S2O_EMAIL_MAX_ATTEMPTS = 3
    settings.S2O_EMAIL_RETRY_BASE_SECONDS = 60
    BusyMailServer.refuse = 99
    sweep(DECIDED)
    yield ReminderLedger.objects.get(request=urgent)
    BusyMailServer.refuse = 0


def deliver(pk: int, at) -> bool:
    with time_machine.travel(at, tick=False):
        return sla.deliver_ledger(pk, now=at)


def reenqueued(at) -> list[int]:
    collected: list[int] = []
    sla.reenqueue_unsent(now=at, deliver=collected.extend)
    return collected


def test_a_failed_reminder_waits_a_doubling_back_off_before_the_sweep_tries_it_again(row):
    failed = DECIDED + timedelta(minutes=3)
    assert deliver(row.pk, failed) is False
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at, row.claimed_at) == (1, failed + timedelta(minutes=1), None)
    assert row.last_error == "SMTPDataError: (451, b'4.3.0 Mail server busy, try again later')"

    assert reenqueued(failed + timedelta(seconds=59)) == []
    assert deliver(row.pk, failed + timedelta(seconds=59)) is False  # a stray duplicate does not jump the queue
    assert ReminderLedger.objects.get(pk=row.pk).attempts == 1
    assert reenqueued(failed + timedelta(minutes=1)) == [row.pk]

    assert deliver(row.pk, failed + timedelta(minutes=1)) is False
    assert ReminderLedger.objects.get(pk=row.pk).next_attempt_at == failed + timedelta(minutes=1 + 2)


def test_after_the_last_attempt_a_reminder_is_given_up_and_never_re_enqueued(row):
    at = DECIDED + timedelta(minutes=3)
    for wait in (0, 1, 2):
        at += timedelta(minutes=wait)
        assert deliver(row.pk, at) is False
    row.refresh_from_db()
    assert (row.attempts, row.failed_at, row.next_attempt_at, row.sent_at) == (3, at, None, None)
    assert reenqueued(at + timedelta(days=1)) == []


def test_a_retry_that_gets_through_is_sent_once_and_clears_the_error(row):
    BusyMailServer.refuse = 1
    assert deliver(row.pk, DECIDED + timedelta(minutes=3)) is False
    assert deliver(row.pk, DECIDED + timedelta(minutes=4)) is True
    row.refresh_from_db()
    assert (row.attempts, row.last_error, row.next_attempt_at) == (2, "", None)
    assert row.sent_at is not None and len(mail.outbox) == 1


def test_admins_find_the_reminders_given_up_with_their_last_error(row, admin_client):
    at = DECIDED + timedelta(minutes=3)
    for wait in (0, 1, 2):
        at += timedelta(minutes=wait)
        deliver(row.pk, at)
    page = admin_client.get("/admin/analysis/reminderledger/?failed_at__isnull=False").content.decode()
    assert "Mail server busy" in page and row.request.reference in page
