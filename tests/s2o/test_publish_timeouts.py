"""Publishing a task to a Redis that accepts connections but never answers (a SIGSTOPped or wedged
server) gives up within seconds, in a real process with the production Celery settings: the
sweep's deliveries and the notification e-mails fall back to the next sweep instead of holding a
worker (or the `sla_sweep` command) for a minute. shared/RELIABILITY.md, rule on broker timeouts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PUBLISH = """
import json, sys, time
import django
django.setup()
from analysis import sla
from requests_app.tasks import send_notification_emails

out = {}
started = time.monotonic()
sla.enqueue_deliveries([101, 102, 103])  # logs and returns on the first failure, never raises
out["enqueue_deliveries"] = time.monotonic() - started
started = time.monotonic()
try:
    send_notification_emails.delay([7])
    out["notification"] = "published"
except Exception as exc:
    out["notification"] = type(exc).__name__
out["notification_seconds"] = time.monotonic() - started
print(json.dumps(out))
"""


@pytest.fixture
def frozen_redis_url():
    """Something that accepts TCP connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_publishing_to_a_silent_redis_fails_within_seconds(frozen_redis_url):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "s2o.settings", "REDIS_URL": frozen_redis_url,
           "CELERY_BROKER_URL": frozen_redis_url, "CELERY_RESULT_BACKEND": frozen_redis_url}
    done = subprocess.run([sys.executable, "-c", PUBLISH], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # One attempt with 2 s socket timeouts (~2 s measured); before, ~63 s in the result store's retries.
    assert figures["enqueue_deliveries"] < 6, figures
    assert "broker unavailable: 3 reminder deliveries left for the next sweep" in done.stderr
    assert figures["notification"] != "published" and figures["notification_seconds"] < 6, figures
