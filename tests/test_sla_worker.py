"""SLA reminders through real processes: celery worker and beat, our own redis-server, the
`sla_sweep` command, and faults (broker down, worker SIGKILLed mid-task, Redis restarted empty).

Each test starts its own redis-server on a free port (no persistence) and stops every process by
pid in `finally`; the worker sees the test database, so the tests are `transactional_db`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest

from analysis.models import ReminderLedger
from requests_app.models import Notification, RequestEvent
from tests.analysis.sla_support import all_day_calendar
from tests.conftest import is_postgres, need
from tests.sla_worker_support import (
    ROOT,
    RedisServer,
    Services,
    StallingSMTP,
    age_ledger,
    database_url,
    due_reminder_request,
    free_port,
    redis_available,
    wait_for,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


@pytest.fixture
def redis(tmp_path):
    need(redis_available(), "needs a redis-server binary to start a private Redis")
    server = RedisServer(port=free_port(), directory=tmp_path).start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def services(redis, tmp_path):
    need(is_postgres(), "needs PostgreSQL (set DATABASE_URL): the worker shares the test database")
    (tmp_path / "mail").mkdir()
    (tmp_path / "var").mkdir()
    svc = Services(database_url=database_url(), broker_url=redis.url, mail_dir=tmp_path / "mail", var_dir=tmp_path / "var")
    try:
        yield svc
    finally:
        svc.stop_all()


@pytest.fixture
def due(rep, customer, ops_lead, manager):
    return due_reminder_request(rep, customer, all_day_calendar(), reference="S2O-W-00001")


def sent(row_filter=None) -> list[ReminderLedger]:
    return list(ReminderLedger.objects.filter(sent_at__isnull=False, **(row_filter or {})))


def test_a_real_worker_delivers_a_swept_reminder_end_to_end(services, due, ops_lead):
    services.worker()
    out = services.sweep()
    assert "decided=1" in out

    wait_for(lambda: len(sent()) == 1, timeout=60, what="the reminder to be sent", log=lambda: services.log("worker"))
    row = ReminderLedger.objects.get(request=due)
    assert (row.clock, row.kind, row.threshold) == ("acknowledge", "reminder", Decimal("0.5"))
    assert services.message_ids() == [row.message_id]
    assert Notification.objects.filter(dedupe_key=f"ledger:{row.pk}:{ops_lead.pk}").count() == 1
    assert RequestEvent.objects.filter(request=due, kind=RequestEvent.Kind.REMINDER_SENT).count() == 1


def test_beat_runs_the_sweep_on_schedule_and_the_worker_delivers(services, due):
    services.worker(S2O_SWEEP_SECONDS="2")
    services.beat(S2O_SWEEP_SECONDS="2")

    wait_for(lambda: len(sent()) == 1, timeout=90, what="beat → sweep → delivery",
             log=lambda: services.log("beat") + services.log("worker"))
    assert "analysis.tasks.sla_sweep" in services.log("worker")
    assert len(services.message_ids()) == 1


def test_broker_down_at_sweep_time_loses_nothing_and_delivers_once_when_back(services, due):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    out = services.sweep(CELERY_BROKER_URL=closed, CELERY_RESULT_BACKEND=closed)
    assert "decided=1" in out
    row = ReminderLedger.objects.get(request=due)
    assert row.sent_at is None and row.attempts == 0

    services.worker()
    age_ledger()  # the grace period has passed
    assert "reenqueued=1" in services.sweep()
    wait_for(lambda: len(sent()) == 1, timeout=60, what="the recovered reminder", log=lambda: services.log("worker"))
    services.sweep()  # nothing is sent twice
    assert services.message_ids() == [row.message_id]


def test_redis_restarted_without_persistence_loses_queued_reminders_only_until_the_next_sweep(
    services, redis, rep, customer, ops_lead
):
    calendar = all_day_calendar()
    for n in range(3):
        due_reminder_request(rep, customer, calendar, reference=f"S2O-R-{n:05d}")
    assert "decided=3" in services.sweep()  # queued in Redis; no worker yet
    redis.kill()
    redis.start()  # empty: the three messages are gone

    services.worker()
    age_ledger()
    assert "reenqueued=3" in services.sweep()
    wait_for(lambda: len(sent()) == 3, timeout=60, what="three reminders", log=lambda: services.log("worker"))
    ids = services.message_ids()
    assert len(ids) == 3 and len(set(ids)) == 3


@pytest.mark.parametrize("stall, copies", [("before", 1), ("after", 2)])
def test_a_worker_killed_mid_delivery_is_recovered_with_at_most_one_duplicate(services, due, ops_lead, stall, copies):
    smtp = StallingSMTP()
    smtp.stall = stall
    mail_env = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp.port), "EMAIL_TIMEOUT": "60"}
    try:
        worker = services.worker(**mail_env)
        services.sweep()
        assert smtp.stalled.wait(timeout=60), services.log("worker")
        os.killpg(worker.pid, signal.SIGKILL)  # the worker dies holding the claim
        worker.wait(timeout=10)
        row = ReminderLedger.objects.get(request=due)
        assert row.sent_at is None and row.claimed_at is not None

        smtp.stall = None
        smtp.release.set()
        services.worker(**mail_env)
        services.sweep()  # within the lease: nobody steals a live claim
        assert ReminderLedger.objects.get(pk=row.pk).sent_at is None
        age_ledger()  # the lease has expired
        services.sweep()
        wait_for(lambda: len(sent()) == 1, timeout=60, what="recovery delivery", log=lambda: services.log("worker"))
        services.sweep()

        assert smtp.message_ids() == [row.message_id] * copies
        assert Notification.objects.filter(dedupe_key=f"ledger:{row.pk}:{ops_lead.pk}").count() == 1
        assert RequestEvent.objects.filter(request=due, kind=RequestEvent.Kind.REMINDER_SENT).count() == 1
    finally:
        smtp.close()


BLOCK_ONE_DECISION = """
INSERT INTO analysis_reminderledger (request_id, clock, scope, kind, threshold, seq, due_at, created_at, attempts,
                                     last_error, recipients, delivered_to)
VALUES (%s, 'acknowledge', '', 'reminder', 0.5, 0, now(), now(), 0, '', '[]', '[]')
"""


def lock_waiters() -> list[int]:
    """Server processes of the test database waiting for a lock (the sweep, held up below)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return [pid for (pid,) in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 1


def test_a_worker_killed_mid_sweep_leaves_every_reminder_sent_exactly_once_after_restart(
    services, rep, customer, ops_lead, manager
):
    """The worker runs beat's sweep task over 203 due requests: the first batch of 200 is decided,
    committed and its deliveries queued; the second batch waits on a row lock (an uncommitted
    conflicting ledger row held by the test), and there the worker is SIGKILLed. After a restart,
    the sweep and its recovery send each of the 203 reminders once: none lost, none twice."""
    import psycopg2

    calendar = all_day_calendar()
    requests = [due_reminder_request(rep, customer, calendar, reference=f"S2O-K-{n:05d}") for n in range(203)]
    last = requests[-1]  # the sweep takes the earliest due first: this one comes in the second batch
    type(last).objects.filter(pk=last.pk).update(next_reminder_at=last.next_reminder_at + timedelta(seconds=50))
    blocker = psycopg2.connect(database_url())
    try:
        with blocker.cursor() as cursor:
            cursor.execute(BLOCK_ONE_DECISION, [last.pk])  # not committed: the sweep's insert must wait
        worker = services.worker()
        sent_task = subprocess.run([sys.executable, "-m", "celery", "-A", "s2o", "call", "analysis.tasks.sla_sweep"],
                                   cwd=ROOT, env=services.env(), capture_output=True, text=True, timeout=60)
        assert sent_task.returncode == 0, sent_task.stderr
        wait_for(lambda: lock_waiters() != [], timeout=90, what="the sweep to reach its second batch",
                 log=lambda: services.log("worker"))
        [sweeper] = lock_waiters()
        assert ReminderLedger.objects.count() == 200  # the first batch is decided and committed
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
    wait_for(lambda: not backend_alive(sweeper), timeout=30, what="the dead worker's transaction to end")
    assert ReminderLedger.objects.count() == 200  # the interrupted batch left nothing behind

    # Time passes while the worker is down (aged before the restart: a live claim is never aged).
    age_ledger()
    out = services.sweep()
    # The three left undecided, and the 200 queued by the dead worker again: each row has two
    # messages on the queue now, and the second finds it sent. The sweep runs before the worker
    # restarts: a worker already running could send some of them first (199 were counted once,
    # on a loaded machine), and the count would depend on its speed.
    assert "decided=3" in out and "reenqueued=200" in out
    services.worker()
    wait_for(lambda: len(sent()) == 203, timeout=120, what="all 203 reminders", log=lambda: services.log("worker"))
    services.sweep()

    rows = list(ReminderLedger.objects.all())
    assert sorted(r.request_id for r in rows) == sorted(r.pk for r in requests)  # one per request
    assert sorted(services.message_ids()) == sorted(r.message_id for r in rows)  # each sent exactly once
    assert Notification.objects.filter(user=ops_lead, dedupe_key__startswith="ledger:").count() == 203
    assert RequestEvent.objects.filter(kind=RequestEvent.Kind.REMINDER_SENT).count() == 203
