"""Guessing passwords gets a username locked out from that address, before any hashing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
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


def behind_proxy(client, forwarded_for: str):
    """A client whose requests arrive through the deployment's TLS proxy at 172.18.0.5."""
    client.defaults.update(REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR=forwarded_for)
    return client


def test_behind_the_tls_proxy_a_lock_out_keys_on_the_address_the_proxy_saw(client, rep, settings):
    settings.S2O_TRUSTED_PROXIES = 1
    attacker = behind_proxy(client, "203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(attacker, rep.username, "wrong")
    assert log_in(attacker, rep.username, "pw-" + rep.username).status_code == 429

    owner = behind_proxy(Client(), "198.51.100.20")
    assert log_in(owner, rep.username, "pw-" + rep.username).status_code == 302


def test_a_client_cannot_choose_its_address_by_sending_x_forwarded_for_itself(client, rep, settings):
    settings.S2O_TRUSTED_PROXIES = 1
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # The proxy appends what it saw after whatever the client claimed.
        log_in(behind_proxy(client, f"10.0.0.{attempt}, 203.0.113.9"), rep.username, "wrong")

    assert log_in(behind_proxy(client, "10.0.0.99, 203.0.113.9"), rep.username, "pw-" + rep.username).status_code == 429


def test_without_a_trusted_proxy_the_header_is_ignored(client, rep, settings):
    settings.S2O_TRUSTED_PROXIES = 0
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(behind_proxy(client, f"203.0.113.{attempt}"), rep.username, "wrong")

    assert log_in(behind_proxy(client, "203.0.113.200"), rep.username, "pw-" + rep.username).status_code == 429
