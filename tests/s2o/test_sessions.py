"""Sessions: a new key at log-in (no fixation), gone at log-out, 12 hours at most, and ended after
30 minutes without a request. Lifetimes are written by hand from the settings' documentation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.utils import timezone

pytestmark = pytest.mark.django_db

PAGE = "/requests/"


def log_in(client, user):
    return client.post("/accounts/login/", {"username": user.username, "password": "pw-" + user.username})


def test_logging_in_issues_a_new_session_key_and_the_old_one_is_worthless(client, rep):
    client.get("/accounts/login/")
    before = client.session
    before["planted"] = "by someone who knows this key"
    before.save()
    planted_key = before.session_key
    client.cookies["sessionid"] = planted_key

    assert log_in(client, rep).status_code == 302

    assert client.session.session_key != planted_key
    assert not Session.objects.filter(session_key=planted_key).exists()
    assert client.get(PAGE).status_code == 200
    fixed = client.__class__()
    fixed.cookies["sessionid"] = planted_key  # the attacker's copy of the key before log-in
    assert fixed.get(PAGE).status_code == 302


def test_logging_out_deletes_the_session(client, rep):
    log_in(client, rep)
    key = client.session.session_key

    client.post("/accounts/logout/")

    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(PAGE).status_code == 302


def test_a_session_lasts_twelve_hours_at_most_however_busy(client, rep):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = log_in(client, rep)
        assert int(response.cookies["sessionid"]["max-age"]) == 12 * 3600
        key = client.session.session_key
        assert Session.objects.get(session_key=key).expire_date == start + timedelta(hours=12)
    for minutes in range(20, 12 * 60, 20):  # a request every 20 minutes all day
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(PAGE).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        response = client.get(PAGE)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_thirty_minutes_without_a_request_end_the_session(client, rep):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client, rep)
        key = client.session.session_key
        client.get(PAGE)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get(PAGE).status_code == 200  # still in, and the idle time starts again
    with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
        response = client.get(PAGE)
    assert response.status_code == 302 and response.url == f"/accounts/login/?next={PAGE}"
    assert not Session.objects.filter(session_key=key).exists()
