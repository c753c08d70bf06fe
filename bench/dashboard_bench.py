"""Dashboard benchmark: response time against the raw SQL it needs, at growing data sizes.

    createdb -h 127.0.0.1 -U postgres s2o_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/s2o_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/dashboard_bench.py --sizes 10000,100000,1000000

For each size the script tops the bench database up to that many requests (`generate_requests`),
then prints:
* dashboard: median of warm runs of GET /ops/dashboard/ with Django's in-process test Client,
  logged in as a manager, default filter (last 90 days, 26-week trend), DEBUG off;
* queries: the number of SQL queries that request ran (session, user, roles, navigation included);
* raw SQL: median time of the same aggregate statements (captured from the request, parameters
  inlined) run back to back on a plain psycopg2 connection with the dashboard's settings (JIT
  off, the same work_mem) — the physical limit of these statements; page views and SQL runs
  alternate, so both see the same moments of the machine;
* ratio: dashboard ÷ raw SQL;
and first the machine's speed: the time of a fixed CPU-bound statement, to compare runs.
It refuses to write into a database whose name does not contain "bench".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "s2o.settings")

import django  # noqa: E402

django.setup()

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from analysis.metrics import WORK_MEM  # noqa: E402
from requests_app.models import FeasibilityRequest, Role  # noqa: E402

AGGREGATE_TABLES = ("requests_app_feasibilityrequest", "analysis_assessment", "analysis_day", "analysis_constraintday")


def manager_client() -> Client:
    user, _ = User.objects.get_or_create(username="bench-manager")
    user.groups.add(Group.objects.get_or_create(name=Role.MANAGER)[0])
    client = Client()
    client.force_login(user)
    return client


def aggregate_statements(queries: list[dict]) -> list[str]:
    """The dashboard's own settings statement (set_config: JIT, work_mem, parallel workers), then its
    aggregate statements, from a captured query log: what the raw-SQL runs replay."""
    settings_sql = [q["sql"] for q in queries if q["sql"].startswith("SELECT set_config(")]
    return settings_sql[:1] + [q["sql"] for q in queries
                               if any(t in q["sql"] for t in AGGREGATE_TABLES) and not q["sql"].startswith("SET")]


def capture(client: Client, url: str) -> tuple[int, list[str]]:
    """The page's query count and its aggregate statements (parameters inlined), from one run."""
    client.get(url)  # warm: session write, template and connection caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    queries = list(captured.captured_queries)  # now: the next request resets the connection's query log
    return len(queries), aggregate_statements(queries)


def time_page_and_raw_sql(client: Client, url: str, statements: list[str], runs: int) -> tuple[float, float]:
    """Medians of `runs` page views and `runs` executions of the same statements on a plain
    psycopg2 connection, *interleaved* (page, SQL, page, SQL, …) so that both see the same moments
    of this shared machine; timed back to back, a drift of its speed skewed the ratio by up to 0.4."""
    settings.DEBUG = False  # no query log while timing
    params = connection.get_connection_params()
    raw = psycopg2.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port")})
    try:
        with raw.cursor() as cursor:
            cursor.execute("SET jit = off")  # the same settings as the dashboard's transaction
            cursor.execute("SET work_mem = %s", [WORK_MEM])
            for sql in statements:  # warm the buffer cache like the page's warm-up run
                cursor.execute(sql)
                cursor.fetchall()
            pages, sqls = [], []
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(url)
                pages.append(time.perf_counter() - started)
                assert response.status_code == 200
                started = time.perf_counter()
                for sql in statements:
                    cursor.execute(sql)
                    cursor.fetchall()
                sqls.append(time.perf_counter() - started)
        return statistics.median(pages), statistics.median(sqls)
    finally:
        raw.close()


CALIBRATION_SQL = "SELECT sum(x) FROM generate_series(1, 3000000) x"


def machine_speed() -> float:
    """Milliseconds of a fixed CPU-bound statement (median of 5): this shared machine's speed drifts
    by up to 1.5x within an hour, so figures taken at different times are compared through it."""
    with connection.cursor() as cursor:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute(CALIBRATION_SQL)
            cursor.fetchall()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-generate", action="store_true", help="measure the data as it is")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
        sys.exit("Point DATABASE_URL at a PostgreSQL bench database (its name must contain 'bench').")
    client = manager_client()
    url = reverse("analysis:dashboard")
    print(f"machine speed: {CALIBRATION_SQL} took {machine_speed():.0f} ms (lower is faster)")
    print(f"{'requests':>10} {'dashboard ms':>13} {'queries':>8} {'raw SQL ms':>11} {'ratio':>6}")
    sizes = [int(s) for s in args.sizes.split(",")] if not args.no_generate else [FeasibilityRequest.objects.count()]
    for size in sizes:
        have = FeasibilityRequest.objects.count()
        if have > size and not args.no_generate:
            sys.exit(f"The database already holds {have:,} requests (> {size:,}): start from an empty bench database.")
        if size > have and not args.no_generate:
            call_command("generate_requests", size - have, stdout=open(os.devnull, "w"))  # noqa: SIM115
        settings.DEBUG = True  # CaptureQueriesContext needs the query log for one run
        queries, statements = capture(client, url)
        dashboard, raw = time_page_and_raw_sql(client, url, statements, args.runs)
        print(f"{FeasibilityRequest.objects.count():>10,} {dashboard * 1000:>13.0f} {queries:>8} {raw * 1000:>11.0f}"
              f" {dashboard / raw:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
