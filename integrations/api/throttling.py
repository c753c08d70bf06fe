"""Rate limits per API token (per user for a browser session), counted in the database.

DRF's own throttles count in Django's cache, which here is per process: with several gunicorn
workers and web machines each would allow the full rate. This one keeps one row per token
(`ApiRateWindow`) and counts calls in fixed windows with one atomic upsert, so every worker sees the
same count, and nothing depends on Redis being up. A fixed window lets a caller spend up to twice the
rate across a window's edge; that is the price of one statement per call and no cleanup job.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from integrations.models import ApiRateWindow, ApiToken

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400,
           "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' → (600, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()]


def rate_key(request: Request) -> str | None:
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


def hit(key: str, *, now: datetime, period: int) -> int:
    """Count one call of `key` in the window containing `now`; returns the calls in that window."""
    start = datetime.fromtimestamp(int(now.timestamp()) // period * period, tz=UTC)
    table = connection.ops.quote_name(ApiRateWindow._meta.db_table)
    with connection.cursor() as cursor:
        # One statement, atomic on PostgreSQL and SQLite: a new window restarts the count.
        cursor.execute(
            f"""INSERT INTO {table} ("key", window_start, hits) VALUES (%s, %s, 1)
                ON CONFLICT ("key") DO UPDATE SET
                  hits = CASE WHEN {table}.window_start = excluded.window_start THEN {table}.hits + 1 ELSE 1 END,
                  window_start = excluded.window_start
                RETURNING hits""",  # nosec B608: the table name is the model's own, quoted; values are parameters
            [key, start],
        )
        return int(cursor.fetchone()[0])


class TokenRateThrottle(BaseThrottle):
    """`settings.S2O_API_RATE` calls per period for each token (and each session user)."""

    def allow_request(self, request: Request, view: object) -> bool:
        key = rate_key(request)
        if key is None:
            return True  # anonymous calls are refused by authentication before they cost anything
        self.limit, self.period = parse_rate(settings.S2O_API_RATE)
        now = timezone.now()
        self.now = now
        return hit(key, now=now, period=self.period) <= self.limit

    def wait(self) -> float:
        start = int(self.now.timestamp()) // self.period * self.period
        return max(1.0, start + self.period - self.now.timestamp())

