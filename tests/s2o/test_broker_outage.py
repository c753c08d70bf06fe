"""Redis stops while Sales file requests and a lead acknowledges one, through the real pages of a
real server (gunicorn) whose broker is a redis-server of this test's own: nobody sees an error or
waits, nothing is lost, and once Redis is back (empty, as after a restart without persistence) every
reminder and every notification e-mail goes out exactly once — the database is the source of truth
and the sweep re-sends what is owed."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests as http
from django.db.models import F
from django.test import Client

from analysis.models import ReminderLedger
from requests_app.models import Department, FeasibilityRequest, Notification, RequestEvent, SlaPolicy, Status
from tests.analysis.sla_support import all_day_calendar
from tests.conftest import is_postgres, need
from tests.requests_app.sales_factories import filing_form_data
from tests.sla_worker_support import (
    ROOT,
    RedisServer,
    Services,
    age_ledger,
    database_url,
    free_port,
    redis_available,
    stop,
    wait_for,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

# A request answers within a second or two: a page that waited on the dead broker would take the
# socket timeouts at least once per publish.
QUICK_SECONDS = 3.0


@pytest.fixture
def outage(tmp_path, collected_static):
    """A private Redis, a worker and a gunicorn on it, sharing the test database."""
    need(redis_available(), "needs a redis-server binary to start a private Redis")
    need(is_postgres(), "needs PostgreSQL (set DATABASE_URL): the server and the worker share the test database")
    redis = RedisServer(port=free_port(), directory=tmp_path).start()
    (tmp_path / "mail").mkdir()
    (tmp_path / "var").mkdir()
    services = Services(database_url=database_url(), broker_url=redis.url, mail_dir=tmp_path / "mail",
                        var_dir=tmp_path / "var", extra={"STATIC_ROOT": str(collected_static)})
    port = free_port()
    web_env = services.env(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", GUNICORN_THREADS="2",
                           GUNICORN_CONTROL_SOCKET=str(tmp_path / "gunicorn.ctl"), GUNICORN_ACCESS_LOG="")
    web = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "s2o.wsgi"],
                           cwd=ROOT, env=web_env, stdout=subprocess.DEVNULL,
                           stderr=(tmp_path / "var" / "web.log").open("ab"), start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), timeout=60, what="gunicorn", log=lambda: services.log("web"))
        yield redis, services, base
    finally:
        stop(web)
        services.stop_all()
        redis.kill()


def _answers(base: str) -> bool:
    try:
        return http.get(base + "/accounts/login/", timeout=2).status_code == 200
    except http.RequestException:
        return False


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)


def signed_in(base: str, user) -> http.Session:
    """A browser session of `user` (its key made here, as a log-in would: the server shares the
    database and the secret), with the CSRF cookie a page sets."""
    client = Client()
    client.force_login(user)
    session = http.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    assert session.get(base + "/requests/notifications/", timeout=10, allow_redirects=False).status_code == 200
    assert "csrftoken" in session.cookies
    return session


def post(session: http.Session, url: str, data: dict) -> http.Response:
    started = time.monotonic()
    response = session.post(url, data={**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]}, timeout=30,
                            allow_redirects=False)
    assert time.monotonic() - started < QUICK_SECONDS, f"{url} took {time.monotonic() - started:.1f} s"
    return response


def test_redis_down_while_filing_and_acknowledging_loses_nothing_and_sends_everything_once(
    outage, rep, ops_lead, manager, customer, product
):
    redis, services, base = outage
    all_day_calendar()  # worker tests run at whatever real time it is
    # Acknowledge within 36 s, reminded at 10 % (3.6 s): reminders fall due during the test.
    SlaPolicy.objects.filter(priority="normal", retired_at__isnull=True).update(
        acknowledge_hours=Decimal("0.01"), reminder_thresholds=[0.1])
    services.worker()
    rita, lena = signed_in(base, rep), signed_in(base, ops_lead)

    redis.kill()

    titles = [f"Brackets batch {n}" for n in range(3)]
    filed_at = time.time()
    for title in titles:
        filed = post(rita, base + "/requests/new/", filing_form_data(customer, product, title=title,
                                                                       token=str(uuid.uuid4())))
        assert filed.status_code == 302, filed.text[:2000]
        page = rita.get(base + filed.headers["Location"], timeout=10)
        assert page.status_code == 200 and "is submitted as S2O-" in page.text
    first = FeasibilityRequest.objects.get(title=titles[0])
    form = lena.get(base + f"/ops/requests/{first.pk}/acknowledge/", timeout=10)
    assert form.status_code == 200
    acknowledged = post(lena, base + f"/ops/requests/{first.pk}/acknowledge/", {
        "departments": [Department.objects.get(code="procurement").pk], "reason": "",
        "answer_due": hidden(form.text, "answer_due"), "version": hidden(form.text, "version")})
    assert acknowledged.status_code == 302, acknowledged.text[:2000]
    assert lena.get(base + acknowledged.headers["Location"], timeout=10).status_code == 200

    # Everything is in the database.
    statuses = dict(FeasibilityRequest.objects.values_list("title", "status"))
    assert statuses == {titles[0]: Status.IN_ANALYSIS, titles[1]: Status.SUBMITTED, titles[2]: Status.SUBMITTED}
    assert RequestEvent.objects.filter(kind=RequestEvent.Kind.SUBMITTED).count() == 3
    assert RequestEvent.objects.filter(kind=RequestEvent.Kind.ACKNOWLEDGED).count() == 1
    owed = list(Notification.objects.exclude(email_template="").values_list("pk", flat=True))
    assert owed and not Notification.objects.filter(email_sent_at__isnull=False).exists()

    # The reminders of the two unacknowledged requests fall due while Redis is still down.
    time.sleep(4)
    assert "decided=2" in services.sweep()
    assert not ReminderLedger.objects.filter(sent_at__isnull=False).exists()

    redis.start()  # back, empty
    age_ledger()  # the grace period passes
    Notification.objects.filter(pk__in=owed).update(created_at=F("created_at") - timedelta(minutes=5))
    out = services.sweep()
    assert "reenqueued=2" in out, out

    def all_sent() -> bool:
        return (not ReminderLedger.objects.filter(sent_at__isnull=True).exists()
                and not Notification.objects.filter(pk__in=owed, email_sent_at__isnull=True).exists())

    wait_for(all_sent, timeout=120, what="every reminder and e-mail", log=lambda: services.log("worker"))
    # 36 s after filing the two unacknowledged requests are overdue: their escalations go out once too.
    time.sleep(max(0.0, 40 - (time.time() - filed_at)))
    services.sweep()
    wait_for(all_sent, timeout=60, what="the escalations", log=lambda: services.log("worker"))
    services.sweep()  # once more: nothing is sent twice
    time.sleep(3)

    ids = services.message_ids()
    rows = list(ReminderLedger.objects.select_related("request"))
    assert sorted((row.request.title, row.kind) for row in rows) == [
        (titles[1], "escalation"), (titles[1], "reminder"), (titles[2], "escalation"), (titles[2], "reminder")]
    mail_ids = [f"<s2o-notification-{pk}@s2o>" for pk in owed]
    assert sorted(ids) == sorted([row.message_id for row in rows] + mail_ids)
