"""Bad input gets a 400 and the product's own pages, never a server error; the embedded default shows
the product's 404, not Django's debug page with the URL list; /healthz names a failed dependency and
nothing more."""

from __future__ import annotations

import json
import socket

import pytest
from django.test import Client

from requests_app.models import Notification
from tests.s2o.test_settings import clean_env, production_env, run_python

REQUEST_A_PAGE = """
import sys, django
django.setup()
from django.test import Client
response = Client(raise_request_exception=False).get(sys.argv[1] if len(sys.argv) > 1 else "/no-such-page/")
print(response.status_code)
print(response.content.decode())
"""


def unread(user) -> set[str]:
    return set(Notification.objects.filter(user=user, read_at__isnull=True).values_list("message", flat=True))


@pytest.mark.django_db
def test_a_superscript_digit_as_notification_id_is_a_400_and_marks_nothing_read(client, rep):
    Notification.objects.create(user=rep, kind="test", message="Acknowledged")
    Notification.objects.create(user=rep, kind="test", message="Answered")
    client.force_login(rep)

    response = client.post("/requests/notifications/", {"id": "\u00b2"})

    assert response.status_code == 400
    assert unread(rep) == {"Acknowledged", "Answered"}


@pytest.mark.django_db
def test_marking_one_notification_read_by_its_id_still_works(client, rep):
    first = Notification.objects.create(user=rep, kind="test", message="Acknowledged")
    Notification.objects.create(user=rep, kind="test", message="Answered")
    client.force_login(rep)

    response = client.post("/requests/notifications/", {"id": str(first.pk)})

    assert response.status_code == 302
    assert unread(rep) == {"Answered"}


@pytest.mark.django_db
def test_a_form_body_in_a_non_utf8_charset_is_a_400_with_the_product_page_not_a_500(rep):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(rep)
    client.get("/requests/notifications/")  # the page sets the CSRF cookie, as in a browser
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/requests/notifications/",
        data=f"id=1&csrfmiddlewaretoken={token}".encode(),
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )

    assert response.status_code == 400
    assert "400 — the request could not be read" in response.content.decode()


def test_the_embedded_default_shows_the_products_404_not_djangos_url_list(tmp_path, collected_static):
    result = run_python(REQUEST_A_PAGE, clean_env(tmp_path, STATIC_ROOT=str(collected_static)))

    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split("\n", 1)
    assert status == "404"
    assert "404 — not found" in body
    assert "URLconf" not in body and "accounts/login/" not in body


def test_a_developer_gets_djangos_debug_pages_with_s2o_debug_pages(tmp_path):
    result = run_python(REQUEST_A_PAGE, clean_env(tmp_path, S2O_DEBUG_PAGES="1"))

    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split("\n", 1)
    assert status == "404"
    assert "URLconf" in body


def test_debug_pages_are_refused_in_production(tmp_path):
    result = run_python(REQUEST_A_PAGE, production_env(tmp_path, S2O_DEBUG_PAGES="1"))

    assert result.returncode != 0
    assert "S2O_DEBUG_PAGES=1 shows tracebacks and settings to anyone: never with DEBUG=0" in result.stderr


def test_healthz_names_the_failed_database_without_its_address_or_the_drivers_message(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    env = clean_env(tmp_path, DATABASE_URL=f"postgres://s2o:secret@127.0.0.1:{closed_port}/s2o")

    result = run_python(REQUEST_A_PAGE.replace("django.setup()", "django.setup(); sys.argv.append('/healthz')"), env)

    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split("\n", 1)
    assert status == "503"
    answer = json.loads(body)
    assert answer["failed"] == ["database"]
    assert answer["checks"] == {"database": "error", "broker": "ok"}
    assert str(closed_port) not in body and "127.0.0.1" not in body and "refused" not in body.lower()
    assert str(closed_port) in result.stderr  # the operator finds the reason in the log
