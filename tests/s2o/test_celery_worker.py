"""A real worker, started as a subprocess, runs a task and its result comes back: on Redis (CI) and
on the embedded filesystem broker that needs no server."""

from __future__ import annotations

import os

from tests.conftest import need
from tests.s2o.celery_fixtures import celery_worker_factory  # noqa: F401 - the fixture
from tests.s2o.test_health import redis_answers

REDIS_URL = os.environ.get("S2O_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


def test_a_worker_on_redis_runs_the_ping_task_and_returns_its_result(celery_worker_factory):  # noqa: F811
    need(redis_answers(REDIS_URL), f"needs Redis at {REDIS_URL} (S2O_TEST_REDIS_URL)")
    worker = celery_worker_factory(broker_url=REDIS_URL, backend_url=REDIS_URL)

    assert worker.call("s2o.ping", "hello from redis") == "hello from redis"


def test_a_worker_on_the_embedded_filesystem_broker_runs_the_ping_task(celery_worker_factory, tmp_path):  # noqa: F811
    worker = celery_worker_factory(
        broker_url="filesystem://", backend_url=f"file://{tmp_path / 'results'}", var_dir=tmp_path / "var"
    )

    assert worker.call("s2o.ping", "hello from the filesystem") == "hello from the filesystem"
