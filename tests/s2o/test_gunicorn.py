"""gunicorn.conf.py: workers and threads for the core count, bounded requests, recycled workers, and
a control socket of the server's own; a server started with it answers and can be inspected."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s2o.test_settings import ROOT, clean_env

READ_CONFIG = """
import json, runpy
values = runpy.run_path("gunicorn.conf.py")
print(json.dumps({k: values[k] for k in ("bind", "worker_class", "workers", "threads", "timeout", "graceful_timeout",
                                         "max_requests", "max_requests_jitter", "control_socket", "keepalive")}))
"""


def read_config(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    result = subprocess.run([sys.executable, "-c", READ_CONFIG], cwd=ROOT, env={**clean, **env},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_defaults_size_the_server_for_the_cores_and_bound_every_request():
    config = read_config()
    cores = len(os.sched_getaffinity(0))

    assert config["worker_class"] == "gthread"
    assert config["workers"] == 2 * cores and config["threads"] == 4
    assert config["timeout"] == 30 and config["graceful_timeout"] == 30
    assert config["max_requests"] > 0 and 0 < config["max_requests_jitter"] < config["max_requests"]
    assert config["control_socket"] == "/tmp/s2o-gunicorn-8000.ctl"
    # Each response closes its connection: pooled keep-alive connections all taken by one worker
    # left the other cores idle (bench/README.md, "Connections pinned to one worker").
    assert config["keepalive"] == 0


def test_every_value_comes_from_the_environment_and_is_documented():
    config = read_config(GUNICORN_BIND="127.0.0.1:8147", GUNICORN_WORKERS="3", GUNICORN_THREADS="2",
                         GUNICORN_CONTROL_SOCKET="/tmp/other.ctl")
    documented = set(re.findall(r"^(GUNICORN_[A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    read = set(re.findall(r'"(GUNICORN_[A-Z_]+)"', (ROOT / "gunicorn.conf.py").read_text()))

    assert (config["bind"], config["workers"], config["threads"], config["control_socket"]) == (
        "127.0.0.1:8147", 3, 2, "/tmp/other.ctl")
    assert read - documented == set()


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, control = free_port(), tmp_path / "gunicorn.ctl"
    env = clean_env(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_THREADS="2",
                    GUNICORN_CONTROL_SOCKET=str(control), GUNICORN_ACCESS_LOG="")
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "s2o.wsgi"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        yield port, control
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_server_started_with_the_config_answers_and_reports_its_workers_on_its_own_socket(gunicorn_server):
    port, control = gunicorn_server
    deadline, status = time.monotonic() + 30, None
    while time.monotonic() < deadline and status is None:
        try:
            status = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status
        except OSError:
            time.sleep(0.3)

    assert status == 200
    shown = subprocess.run([str(Path(sys.executable).parent / "gunicornc"), "-s", str(control), "-c", "show workers"],
                           capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    assert "Total: 2 workers" in shown.stdout
