"""Notifications never make the person who caused them wait on the broker; e-mail copies that
could not be handed to Celery stay pending until the sweep's resend."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from requests_app import notifications
from requests_app.models import Notification
from tests.s2o.celery_fixtures import worker_database_url
from tests.s2o.test_health import frozen_broker_port  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]

NOTIFY_AND_TIME_THE_COMMIT = textwrap.dedent(
    """
    import sys, time
    import django
    django.setup()
    from django.contrib.auth.models import User
    from django.db import transaction
    from requests_app.notifications import notify

    user = User.objects.get(username=sys.argv[1])
    started = time.monotonic()
    with transaction.atomic():
        notify([user], kind="test", message="Your request was acknowledged", email_template="notification")
    print(f"{time.monotonic() - started:.3f}")
    """
)


@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_does_not_hold_the_request_that_notifies_and_the_mail_waits_for_the_sweep(
    rep, frozen_broker_port  # noqa: F811
):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "s2o.settings",
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{frozen_broker_port}/0",
        "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{frozen_broker_port}/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", NOTIFY_AND_TIME_THE_COMMIT, rep.username],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip().splitlines()[-1]) < 1.0  # a blocked publish would take seconds

    pending = Notification.objects.get(user=rep)
    assert (pending.email_template, pending.email_sent_at, pending.email_claimed_at) == ("notification", None, None)
    # The sweep's backstop finds it once the grace period has passed, and sends it once.
    assert notifications.resend_pending_emails(now=timezone.now() + timedelta(minutes=1)) == 0
    assert notifications.resend_pending_emails(now=timezone.now() + timedelta(minutes=3)) == 1
    assert notifications.send_notification_email(pending.pk) is True
    assert notifications.send_notification_email(pending.pk) is False
