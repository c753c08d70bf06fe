"""Rate limits per token, counted in the database: every gunicorn worker sees the same count, one
token's calls never spend another's, and a new window starts the count again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from integrations.api import throttling
from tests.integrations.api_support import api, token_for

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 11, 0, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def three_a_minute(settings):
    settings.S2O_API_RATE = "3/min"


def test_a_token_over_its_rate_is_told_to_wait_and_another_token_is_not(rep):
    crm, script = token_for(rep, "CRM"), token_for(rep, "Script")
    with time_machine.travel(NOON, tick=False):
        assert [api(token=crm).get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
        refused = api(token=crm).get("/api/v1/me/")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "50" and refused.json()["code"] == "throttled"
        assert api(token=script).get("/api/v1/me/").status_code == 200
    with time_machine.travel(NOON.replace(minute=1), tick=False):
        assert api(token=crm).get("/api/v1/me/").status_code == 200


def test_a_browser_session_is_limited_per_user(client, rep):
    client.force_login(rep)
    with time_machine.travel(NOON, tick=False):
        assert [client.get("/api/v1/me/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_count_is_shared_by_every_process_reading_the_database(rep):
    """Two workers are two processes on one database: the count is the row, not process memory."""
    with time_machine.travel(NOON, tick=False):
        assert throttling.hit("token:1", now=NOON, period=60) == 1
        assert throttling.hit("token:1", now=NOON, period=60) == 2
        assert throttling.hit("token:2", now=NOON, period=60) == 1
        assert throttling.hit("token:1", now=NOON.replace(minute=5), period=60) == 1


@pytest.mark.parametrize(("rate", "expected"), [("600/min", (600, 60)), ("20/s", (20, 1)), ("10000/day", (10000, 86400))])
def test_rates_read_like_drfs(rate, expected):
    assert throttling.parse_rate(rate) == expected
