"""/healthz tells a load balancer whether the database and the broker answer, and never hangs."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import need

REDIS_URL = os.environ.get("S2O_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
ANSWER_WITHIN_SECONDS = 3.0


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except Exception:
        return False


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def frozen_broker_port() -> Iterator[int]:
    """Something that accepts TCP connections and never says a word, like a SIGSTOPped Redis."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def get_health(client):
    started = time.monotonic()
    response = client.get("/healthz")
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_configured_broker_answer(client, settings):
    if settings.CELERY_BROKER_URL.startswith("redis"):
        need(redis_answers(settings.CELERY_BROKER_URL), f"needs the configured Redis broker {settings.CELERY_BROKER_URL}")

    response, _ = get_health(client)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["failed"] == []
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_is_200_against_a_real_redis_broker(client, settings):
    need(redis_answers(REDIS_URL), f"needs Redis at {REDIS_URL}")
    settings.CELERY_BROKER_URL = REDIS_URL

    response, _ = get_health(client)

    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_nothing_listens_on_its_port(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response, elapsed = get_health(client)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failed"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "error"
    assert elapsed < ANSWER_WITHIN_SECONDS


@pytest.mark.django_db
def test_healthz_answers_within_3_seconds_when_the_broker_accepts_but_never_replies(client, settings, frozen_broker_port):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{frozen_broker_port}/0"

    response, elapsed = get_health(client)

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert elapsed < ANSWER_WITHIN_SECONDS


@pytest.mark.django_db
def test_healthz_is_503_when_the_embedded_broker_folder_is_not_writable(client, settings, tmp_path):
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(blocker / "out")}

    response, _ = get_health(client)

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


@pytest.mark.django_db
def test_healthz_needs_no_login_and_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
