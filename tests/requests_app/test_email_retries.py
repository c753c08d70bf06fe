"""A notification e-mail that keeps failing is retried with growing waits a bounded number of
times, its last error is kept for the admins, and it is never retried forever."""

from __future__ import annotations

import smtplib
import time
from datetime import timedelta

import pytest
import time_machine
from celery import Celery
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from requests_app import notifications
from requests_app.models import Notification
from tests.conftest import aware, is_postgres, need
from tests.sla_worker_support import (
    RedisServer,
    Services,
    StallingSMTP,
    database_url,
    free_port,
    redis_available,
    wait_for,
)

T0 = aware(2026, 3, 2, 9, 0)
BACKEND = "tests.requests_app.test_email_retries.BusyMailServer"


class BusyMailServer(BaseEmailBackend):
    """The outside world: a mail server that refuses the next `refuse` messages, then accepts."""

    refuse = 0

    def send_messages(self, email_messages) -> int:
        if BusyMailServer.refuse > 0:
            BusyMailServer.refuse -= 1
            raise smtplib.SMTPDataError(451, b"4.3.0 Mail server busy, try again later")
        return LocmemBackend().send_messages(email_messages)


@pytest.fixture
def busy_server(settings):
    settings.EMAIL_BACKEND = BACKEND
    settings.S2O_EMAIL_MAX_ATTEMPTS = 4
    settings.S2O_EMAIL_RETRY_BASE_SECONDS = 60
    BusyMailServer.refuse = 0
    yield BusyMailServer
    BusyMailServer.refuse = 0


def notify_one(user) -> Notification:
    with time_machine.travel(T0, tick=False):
        [notification] = notifications.notify([user], kind="test", message="Your request was acknowledged",
                                              email_template="notification")
    return notification


def attempt(pk: int, at) -> bool:
    with time_machine.travel(at, tick=False):
        return notifications.send_notification_email(pk)


@pytest.mark.django_db
def test_each_failure_is_recorded_and_the_wait_before_the_next_attempt_doubles(busy_server, rep):
    busy_server.refuse = 99
    pk = notify_one(rep).pk

    assert attempt(pk, T0) is False
    row = Notification.objects.get(pk=pk)
    assert row.email_attempts == 1
    assert row.email_last_error == "SMTPDataError: (451, b'4.3.0 Mail server busy, try again later')"
    assert row.email_next_attempt_at == T0 + timedelta(minutes=1)

    # Not due yet: neither a duplicate task nor the sweep tries it early.
    assert attempt(pk, T0 + timedelta(seconds=59)) is False
    with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
        assert notifications.resend_pending_emails(grace=timedelta(0)) == 0
    assert Notification.objects.get(pk=pk).email_attempts == 1

    assert attempt(pk, T0 + timedelta(minutes=1)) is False
    assert Notification.objects.get(pk=pk).email_next_attempt_at == T0 + timedelta(minutes=1 + 2)
    assert attempt(pk, T0 + timedelta(minutes=3)) is False
    assert Notification.objects.get(pk=pk).email_next_attempt_at == T0 + timedelta(minutes=3 + 4)


@pytest.mark.django_db
def test_after_the_last_attempt_the_e_mail_is_given_up_and_never_tried_again(busy_server, rep):
    busy_server.refuse = 99
    pk = notify_one(rep).pk
    for minutes in (0, 1, 3, 7):
        assert attempt(pk, T0 + timedelta(minutes=minutes)) is False

    row = Notification.objects.get(pk=pk)
    assert (row.email_attempts, row.email_next_attempt_at, row.email_sent_at) == (4, None, None)
    assert row.email_failed_at == T0 + timedelta(minutes=7)
    assert "451" in row.email_last_error

    much_later = T0 + timedelta(days=3)
    with time_machine.travel(much_later, tick=False):
        assert notifications.resend_pending_emails() == 0
    assert attempt(pk, much_later) is False
    assert Notification.objects.get(pk=pk).email_attempts == 4


@pytest.mark.django_db
def test_a_retry_that_gets_through_sends_once_and_clears_the_error(busy_server, rep):
    busy_server.refuse = 2
    pk = notify_one(rep).pk
    assert attempt(pk, T0) is False
    assert attempt(pk, T0 + timedelta(minutes=1)) is False

    with time_machine.travel(T0 + timedelta(minutes=3, seconds=5), tick=False):
        assert notifications.resend_pending_emails(grace=timedelta(0)) == 1  # the sweep finds it due
    assert attempt(pk, T0 + timedelta(minutes=3, seconds=5)) is True
    assert attempt(pk, T0 + timedelta(minutes=10)) is False  # sent once

    row = Notification.objects.get(pk=pk)
    assert (row.email_attempts, row.email_last_error, row.email_next_attempt_at) == (3, "", None)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_admins_find_the_e_mails_that_keep_failing_with_their_last_error(busy_server, rep, teammate, admin_client):
    busy_server.refuse = 99
    failing = notify_one(rep).pk
    given_up = notify_one(teammate).pk
    for minutes in (0, 1, 3, 7):
        attempt(given_up, T0 + timedelta(minutes=minutes))
    attempt(failing, T0)

    page = admin_client.get("/admin/requests_app/notification/?email=failed").content.decode()
    assert "given up after 4 attempts" in page and "tom" in page
    assert "rita" not in page
    page = admin_client.get("/admin/requests_app/notification/?email=retrying").content.decode()
    assert "failing, next try 2026-03-02 09:01" in page and "Mail server busy" in page
    assert "given up" not in page


# --------------------------------------------------------------------------------------------------
# Through a real worker, a real broker and a real (if tiny) SMTP server on loopback


@pytest.fixture
def worker_services(tmp_path):
    need(redis_available(), "needs a redis-server binary to start a private Redis")
    need(is_postgres(), "needs PostgreSQL (set DATABASE_URL): the worker shares the test database")
    redis = RedisServer(port=free_port(), directory=tmp_path).start()
    smtp = StallingSMTP()
    (tmp_path / "var").mkdir()
    services = Services(
        database_url=database_url(), broker_url=redis.url, mail_dir=tmp_path / "mail", var_dir=tmp_path / "var",
        extra={"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
               "EMAIL_PORT": str(smtp.port), "EMAIL_TIMEOUT": "5", "S2O_EMAIL_RETRY_BASE_SECONDS": "1"},
    )
    client = Celery("s2o-test-client", broker=redis.url, set_as_current=False)
    client.conf.update(task_serializer="json", broker_transport_options={"socket_timeout": 2})
    try:
        yield services, smtp, client
    finally:
        services.stop_all()
        client.close()
        smtp.server.shutdown()
        redis.kill()


def enqueue(client: Celery, pk: int) -> None:
    client.send_task("requests_app.tasks.send_notification_emails", args=[[pk]])


@pytest.mark.services
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_refused_e_mail_with_back_off_until_the_mail_server_takes_it(worker_services, rep):
    services, smtp, client = worker_services
    smtp.refuse = 2
    services.worker()
    [notification] = notifications.notify([rep], kind="test", message="Operations answered S2O-2026-00042",
                                           email_template="notification")
    enqueue(client, notification.pk)

    wait_for(lambda: Notification.objects.get(pk=notification.pk).email_sent_at is not None, timeout=60,
             what="the e-mail to get through on the third attempt", log=lambda: services.log("worker"))
    row = Notification.objects.get(pk=notification.pk)
    assert (row.email_attempts, row.email_last_error) == (3, "")
    assert smtp.refused == 2 and len(smtp.messages) == 1
    assert b"Subject: [S2O] Operations answered S2O-2026-00042" in smtp.messages[0]


@pytest.mark.services
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_the_worker_gives_up_after_the_last_attempt_and_records_why(worker_services, rep):
    services, smtp, client = worker_services
    smtp.refuse = 99
    services.worker(S2O_EMAIL_MAX_ATTEMPTS="3")
    [notification] = notifications.notify([rep], kind="test", message="Reminder", email_template="notification")
    enqueue(client, notification.pk)

    wait_for(lambda: Notification.objects.get(pk=notification.pk).email_failed_at is not None, timeout=60,
             what="the e-mail to be given up", log=lambda: services.log("worker"))
    row = Notification.objects.get(pk=notification.pk)
    assert row.email_attempts == 3 and row.email_sent_at is None
    assert "451" in row.email_last_error and "Mail server busy" in row.email_last_error
    # Given up means given up: a duplicate message and more time change nothing.
    enqueue(client, notification.pk)
    time.sleep(5)
    assert smtp.refused == 3 and smtp.messages == []
    assert Notification.objects.get(pk=notification.pk).email_attempts == 3
