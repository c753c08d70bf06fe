"""EXPLAIN (ANALYZE, BUFFERS) of every aggregate statement the dashboard runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/s2o_bench_1m .venv/bin/python bench/explain_dashboard.py [--summary]

Captures the statements of one GET /ops/dashboard/ (manager, default filter) and prints each
statement's plan, run with the dashboard's session settings (JIT off, the same work_mem).
`--summary` prints only each statement's execution time and first line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg2
from dashboard_bench import aggregate_statements, manager_client
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis.metrics import WORK_MEM


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--dump", help="also write each statement to DIR/qN.sql")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
        sys.exit("Point DATABASE_URL at a PostgreSQL bench database.")
    settings.DEBUG = True
    client = manager_client()
    url = reverse("analysis:dashboard")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    settings_sql, *statements = aggregate_statements(captured.captured_queries)
    params = connection.get_connection_params()
    raw = psycopg2.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port")})
    with raw.cursor() as cursor:
        cursor.execute("SET jit = off")
        cursor.execute("SET work_mem = %s", [WORK_MEM])
        cursor.execute(settings_sql)  # the page's own (parallel workers off for the day rollup's statements)
        for n, sql in enumerate(statements, 1):
            if args.dump:
                Path(args.dump, f"q{n}.sql").write_text(sql + ";\n")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [r[0] for r in cursor.fetchall()]
            print("=" * 100)
            print(sql[:300] + (" …" if len(sql) > 300 else ""))
            print("\n".join([plan[0], plan[-1]] if args.summary else plan))
    raw.close()


if __name__ == "__main__":
    main()
