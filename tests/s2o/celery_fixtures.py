"""A real Celery worker in a subprocess, for tests that must see a task run end to end.

Use the `celery_worker_factory` fixture: import it into your test module (or a conftest) with
`from tests.s2o.celery_fixtures import celery_worker_factory  # noqa: F401`, then:

    def test_something(celery_worker_factory):
        worker = celery_worker_factory(broker_url="redis://127.0.0.1:6379/2", backend_url="redis://127.0.0.1:6379/2")
        assert worker.call("s2o.ping", "hello") == "hello"

Each worker consumes its own uniquely named queue, so parallel runs and stray messages from other
tests never reach it; `worker.send(...)` routes there. `database_url=` points the worker at a
database (e.g. `worker_database_url()` for the test database: the test must then use
`transactional_db`, since the worker cannot see uncommitted rows). The worker is always stopped,
killed if need be, when the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30
TASK_TIMEOUT_SECONDS = 30


@dataclass
class RunningWorker:
    process: subprocess.Popen
    queue: str
    client: Celery
    log_path: Path
    env: dict[str, str] = field(repr=False)

    def send(self, task_name: str, *args: object, **kwargs: object):
        return self.client.send_task(task_name, args=args, kwargs=kwargs, queue=self.queue)

    def call(self, task_name: str, *args: object, timeout: float = TASK_TIMEOUT_SECONDS, **kwargs: object) -> object:
        """Send a task, wait for its result; fails with the worker's log if it never comes."""
        result = self.send(task_name, *args, **kwargs)
        try:
            return result.get(timeout=timeout, interval=0.1)
        except Exception as exc:
            raise AssertionError(f"task {task_name} did not complete: {exc!r}\n--- worker log ---\n{self.log()}") from exc

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.client.close()


def filesystem_transport_options(var_dir: Path) -> dict[str, object]:
    """The folders s2o/settings.py derives from S2O_VAR_DIR for the filesystem broker."""
    folder = var_dir / "broker"
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def worker_database_url() -> str:
    """The database the tests use (the test database once pytest-django set it up), as a URL."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


def wait_until_ready(process: subprocess.Popen, log_path: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the Celery worker exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        if " ready." in text:
            return
        time.sleep(0.1)
    log = log_path.read_text(errors="replace")
    raise AssertionError(f"the Celery worker was not ready within {START_TIMEOUT_SECONDS}s:\n{log}")


@pytest.fixture
def celery_worker_factory(tmp_path_factory) -> Iterator:
    """Start real `celery -A s2o worker` subprocesses; all are stopped when the test ends."""
    started: list[RunningWorker] = []

    def start(
        *,
        broker_url: str,
        backend_url: str,
        var_dir: Path | None = None,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> RunningWorker:
        var_dir = var_dir or tmp_path_factory.mktemp("worker-var")
        var_dir.mkdir(parents=True, exist_ok=True)
        queue = f"s2o-test-{uuid.uuid4().hex[:12]}"
        log_path = var_dir / f"{queue}.log"
        worker_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "s2o.settings",
            "S2O_VAR_DIR": str(var_dir),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": backend_url,
            "PYTHONPATH": str(ROOT),
            **({"DATABASE_URL": database_url} if database_url else {}),
            **(env or {}),
        }
        worker_env.pop("REDIS_URL", None)
        if database_url is None:
            worker_env.pop("DATABASE_URL", None)  # SQLite under var_dir: the worker touches no test data
        client = Celery("s2o-test-client", broker=broker_url, backend=backend_url, set_as_current=False)
        client.conf.update(
            task_serializer="json",
            result_serializer="json",
            accept_content=["json"],
            broker_connection_timeout=2,
            broker_transport_options=(
                filesystem_transport_options(var_dir)
                if broker_url.startswith("filesystem://")
                else {"socket_timeout": 2, "socket_connect_timeout": 2}
            ),
        )
        if backend_url.startswith("file://"):
            Path(backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "s2o", "worker",
                    "--pool", "solo", "--queues", queue, "--hostname", f"{queue}@%h",
                    "--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel", "INFO",
                ],
                cwd=ROOT,
                env=worker_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = RunningWorker(process=process, queue=queue, client=client, log_path=log_path, env=worker_env)
        started.append(worker)
        wait_until_ready(process, log_path, time.monotonic() + START_TIMEOUT_SECONDS)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
