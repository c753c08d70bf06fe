"""Guessing passwords gets a username locked out from that address, before any hashing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_username_even_against_the_right_one(client, rep, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = log_in(client, rep.username, "wrong")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()
    locked = log_in(client, rep.username, "wrong")
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()

    again = log_in(client, rep.username, "pw-" + rep.username)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lock_out_is_per_username_and_ends_after_the_cool_off(client, rep, teammate, settings):
    started = timezone.now()
    with time_machine.travel(started, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, rep.username, "wrong")
        assert log_in(client, rep.username, "pw-" + rep.username).status_code == 429
        # Another person at the same address is not locked out by someone guessing rep's password.
        assert log_in(client, teammate.username, "pw-" + teammate.username).status_code == 302
        client.post(reverse("logout"))
    with time_machine.travel(started + timedelta(minutes=16), tick=False):
        assert log_in(client, rep.username, "pw-" + rep.username).status_code == 302
