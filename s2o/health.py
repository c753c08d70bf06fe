"""/healthz: is the database answering, and is the Celery broker reachable?

Answers within ~2 s even when the broker hangs: each probe has its own short timeout, so a load
balancer or an operator gets "broker: error" instead of a hung request. The page is anonymous, so
it names only the dependency that failed; the reason (host, port, driver message) goes to the log.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT_SECONDS = 1.5
logger = logging.getLogger(__name__)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not answering"
        return f"{type(exc).__name__}: {exc}".strip()[:200]
    return None


def check_broker(url: str | None = None) -> str | None:
    url = url or settings.CELERY_BROKER_URL
    scheme = urlparse(url).scheme
    if scheme == "filesystem":
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".healthz"
            probe.write_text(str(time.time()))
            probe.unlink()
        except OSError as exc:
            return f"broker folder not writable: {exc}"
        return None
    if scheme in {"redis", "rediss"}:
        import redis

        try:
            client = redis.Redis.from_url(
                url, socket_timeout=BROKER_TIMEOUT_SECONDS, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, retry=None
            )
            client.ping()
            client.close()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}".strip()[:200]
        return None
    # Any other transport: a TCP connect tells at least whether something listens.
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "localhost", parsed.port or 5672), BROKER_TIMEOUT_SECONDS):
            return None
    except OSError as exc:
        return str(exc)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    started = time.monotonic()
    problems = {"database": check_database(), "broker": check_broker()}
    for name, problem in problems.items():
        if problem:
            logger.warning("healthz: %s failed: %s", name, problem)
    body = {
        "status": "ok" if not any(problems.values()) else "error",
        "checks": {name: ("ok" if problem is None else "error") for name, problem in problems.items()},
        "failed": [name for name, problem in problems.items() if problem],
        "seconds": round(time.monotonic() - started, 3),
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
