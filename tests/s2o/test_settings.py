"""One settings module, two modes: embedded by default, production refuses a weak secret and passes
`check --deploy` with zero warnings. Each case runs in a fresh interpreter with its own environment."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Every variable s2o/settings.py reads; removed so the machine's environment cannot leak in.
SETTINGS_VARIABLES = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', (ROOT / "s2o" / "settings.py").read_text()))

DUMP_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "DEVELOPMENT": settings.DEVELOPMENT,
    "CONN_MAX_AGE": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "CONN_HEALTH_CHECKS": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"],
    "STORAGES": settings.STORAGES,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "DB_NAME": str(settings.DATABASES["default"]["NAME"]),
    "BROKER": settings.CELERY_BROKER_URL,
    "BACKEND": settings.CELERY_RESULT_BACKEND,
    "BROKER_OPTIONS": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "SESSION_ENGINE": settings.SESSION_ENGINE,
    "ACKS_LATE": settings.CELERY_TASK_ACKS_LATE,
    "PREFETCH": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
    "SERIALIZER": settings.CELERY_TASK_SERIALIZER,
    "SECURE_COOKIES": settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
}))
"""


def strong_key() -> str:
    return secrets.token_urlsafe(64)


def clean_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update({"DJANGO_SETTINGS_MODULE": "s2o.settings", "S2O_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)})
    env.update(overrides)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def load_settings(env: dict[str, str]) -> dict:
    result = run_python(DUMP_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    production = {
        "DEBUG": "0",
        "SECRET_KEY": strong_key(),
        "ALLOWED_HOSTS": "s2o.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://s2o:secret@db.example.com:5432/s2o",
        "REDIS_URL": os.environ.get("S2O_TEST_REDIS_URL", "redis://127.0.0.1:6379/2"),
    }
    return clean_env(tmp_path, **{**production, **overrides})


def test_without_any_variable_s2o_runs_embedded_on_sqlite_a_filesystem_broker_and_console_mail(tmp_path):
    loaded = load_settings(clean_env(tmp_path))

    assert loaded["DEVELOPMENT"] is True
    assert loaded["DEBUG"] is False  # Django's debug pages only on request (S2O_DEBUG_PAGES=1)
    assert loaded["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert loaded["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert loaded["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["DB_NAME"] == str(tmp_path / "var" / "s2o.sqlite3")
    assert loaded["BROKER"] == "filesystem://"
    assert loaded["BROKER_OPTIONS"]["data_folder_in"].startswith(str(tmp_path / "var"))
    assert loaded["BACKEND"].startswith("file://")
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]

    result = run_python(DUMP_SETTINGS, env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("weak", ["changeme", "django-insecure-" + "x" * 60])
def test_production_refuses_a_weak_or_insecure_secret_key(tmp_path, weak):
    result = run_python(DUMP_SETTINGS, production_env(tmp_path, SECRET_KEY=weak))

    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value of at least 50 characters" in result.stderr


def test_a_malformed_boolean_stops_startup_with_the_variable_named(tmp_path):
    result = run_python(DUMP_SETTINGS, clean_env(tmp_path, DEBUG="maybe"))

    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_uses_postgresql_redis_smtp_and_the_reliability_settings(tmp_path):
    loaded = load_settings(production_env(tmp_path))

    assert loaded["DEBUG"] is False and loaded["DEVELOPMENT"] is False
    # Persistent connections, checked before reuse: a new connection per request cut throughput ~7x.
    assert loaded["CONN_MAX_AGE"] == 60 and loaded["CONN_HEALTH_CHECKS"] is True
    assert loaded["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert loaded["ENGINE"] == "django.db.backends.postgresql"
    assert loaded["BROKER"].startswith("redis://")
    assert loaded["BACKEND"].startswith("redis://")
    assert loaded["BROKER_OPTIONS"]["socket_timeout"] <= 5
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert loaded["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"
    assert (loaded["ACKS_LATE"], loaded["PREFETCH"], loaded["SERIALIZER"]) == (True, 1, "json")
    assert loaded["SECURE_COOKIES"] is True


def test_production_settings_pass_check_deploy_with_zero_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_env_example_documents_every_variable_the_settings_read():
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))

    assert "SECRET_KEY" in SETTINGS_VARIABLES and "CELERY_RESULT_BACKEND" in SETTINGS_VARIABLES
    assert SETTINGS_VARIABLES - documented == set()


def test_empty_values_as_in_an_env_file_fall_back_to_the_defaults(tmp_path):
    empties = {name: "" for name in SETTINGS_VARIABLES if name not in {"S2O_VAR_DIR", "ALLOWED_HOSTS"}}

    loaded = load_settings(clean_env(tmp_path, **empties))

    assert loaded["DEVELOPMENT"] is True and loaded["DEBUG"] is False
    assert loaded["BROKER"] == "filesystem://"
    assert loaded["DB_NAME"] == str(tmp_path / "var" / "s2o.sqlite3")
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_uploads_go_to_an_s3_compatible_bucket_when_s3_bucket_is_set(tmp_path):
    loaded = load_settings(production_env(
        tmp_path, S3_BUCKET="s2o-files", S3_ENDPOINT_URL="http://minio:9000", S3_ACCESS_KEY_ID="s2o",
        S3_SECRET_ACCESS_KEY="secret-key", S3_REGION="eu-central-1",
    ))

    default = loaded["STORAGES"]["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    options = default["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "s2o-files", "http://minio:9000", "eu-central-1")
    assert (options["access_key"], options["secret_key"]) == ("s2o", "secret-key")
    assert options["default_acl"] is None and options["file_overwrite"] is False
