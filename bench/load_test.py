"""50 people at once: locust, headless, bounded, on loopback, against gunicorn with production settings.

    createdb -h 127.0.0.1 -U postgres -T s2o_bench_100k s2o_bench_100k_copy
    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load_test.py --database s2o_bench_100k_copy

The mix (bench/locustfile.py): 30 reps (their list, their requests, filing new ones through the form),
4 sales managers, 5 operations leads (triage), 8 department members (their queue) and 3 managers
(dashboard, all requests), each waiting 0.5–1.5 s between actions, for `--seconds` (default 60) after
a 2 s ramp-up. The script prints the machine's calibration, then per page and overall: requests,
failures, p50/p95/p99 in ms and req/s; and afterwards checks that every request a rep got a success
redirect for exists exactly once (by its one-time form token and its unique title).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages_bench import (
    CALIBRATION_SQL,
    HOST,
    PYTHON,
    ROOT,
    collect_static,
    database_url,
    machine_speed,
    people,
    server_env,
    start_server,
    stop_server,
)


def exactly_once(url: str, filed: list[dict]) -> tuple[int, list[str]]:
    problems = []
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        for item in filed:
            cursor.execute("SELECT id, submit_token::text FROM requests_app_feasibilityrequest WHERE title = %s",
                           [item["title"]])
            rows = cursor.fetchall()
            if rows != [(item["pk"], item["token"])]:
                problems.append(f"{item['title']}: expected one row {item['pk']}, found {rows}")
    conn.close()
    return len(filed) - len(problems), problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, help="a bench database (name contains 'bench'), e.g. at 100k")
    parser.add_argument("--port", type=int, default=8142)
    parser.add_argument("--users", type=int, default=50, help="must equal the mix's fixed counts (50)")
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    if "bench" not in args.database:
        sys.exit("The database name must contain 'bench' (the test files requests into it).")
    url = database_url(args.database)
    work = Path(tempfile.mkdtemp(prefix="s2o-load-test-"))
    secret = secrets.token_urlsafe(64)
    env = server_env(url, secret, args.port, work / "gunicorn.ctl", work, ROOT / "var" / "bench-static")
    print(f"machine speed: {CALIBRATION_SQL} took {machine_speed(url):.0f} ms (lower is faster); "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    collect_static(env)
    (work / "people.json").write_text(json.dumps(people(env)))
    server = start_server(env, args.port, work / "gunicorn.log")
    try:
        locust = subprocess.run(
            [str(PYTHON.parent / "locust"), "-f", "bench/locustfile.py", "--headless", "--users", str(args.users),
             "--spawn-rate", str(args.users / 2), "--run-time", f"{args.seconds + 2}s", "--stop-timeout", "10",
             "--host", f"http://{HOST}:{args.port}", "--csv", str(work / "stats"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env={**os.environ, "BENCH_PEOPLE": str(work / "people.json"), "BENCH_FILED": str(work / "filed.jsonl")},
            capture_output=True, text=True, timeout=args.seconds + 120,
        )
    finally:
        stop_server(server)
    if not (work / "stats_stats.csv").exists():
        sys.exit(f"locust failed:\n{locust.stderr[-3000:]}")
    print(f"\n{args.users} users, {args.seconds} s, 0.5–1.5 s between actions, gunicorn.conf.py defaults")
    print(f"{'page':<28} {'requests':>9} {'failures':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}")
    with open(work / "stats_stats.csv") as stats:
        for row in csv.DictReader(stats):
            name = row["Name"] if row["Type"] else "all"
            print(f"{name:<28} {row['Request Count']:>9} {row['Failure Count']:>9} {row['50%']:>7} {row['95%']:>7} "
                  f"{row['99%']:>7} {float(row['Requests/s']):>7.1f}")
    failures = work / "stats_failures.csv"
    if failures.exists() and len(failures.read_text().splitlines()) > 1:
        print("\nfailures:\n" + failures.read_text())
    filed_path = work / "filed.jsonl"
    filed = [json.loads(line) for line in filed_path.read_text().splitlines()] if filed_path.exists() else []
    ok, problems = exactly_once(url, filed)
    print(f"\nfiled with a success redirect: {len(filed)}; present exactly once: {ok}")
    for problem in problems:
        print("  " + problem)
    print(f"(logs and CSVs in {work})")


if __name__ == "__main__":
    main()
