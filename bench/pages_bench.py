"""Everyday pages under gunicorn: requests/s and p50/p95 against a one-query ceiling, at each data size.

    for s in 10k 100k 1m; do createdb -h 127.0.0.1 -U postgres -T s2o_bench_$s s2o_bench_${s}_copy; done
    .venv/bin/python bench/pages_bench.py \\
        --database 10k=s2o_bench_10k_copy --database 100k=s2o_bench_100k_copy --database 1m=s2o_bench_1m_copy

Per database (its name must contain "bench"; the script adds the bench personas and sessions to it,
see bench/people.py) it starts one gunicorn with the repository's gunicorn.conf.py and production
settings (DEBUG=0) on a loopback port with a control socket of its own, and loads each page in turn
with `--concurrency` keep-alive connections for `--seconds` (at least 20 answers), as a logged-in
user sending Accept-Encoding: gzip:
* ceiling: a one-query view (one primary-key SELECT, anonymous) defined in bench/urls_bench.py only;
* request page: a rep's own answered request with its assessments and history;
* list, rep / list, manager: /requests/ (a rep sees their own, a manager everything);
* triage (an operations lead) and the department queue (a procurement member).
It prints the machine's calibration first (a fixed CPU-bound SQL statement; this shared machine's
speed drifts by up to 2x within an hour), then per size and page: req/s, p50 and p95 in ms, the page's
rate ÷ the ceiling's, and any non-200 answers; finally each page's rate at the largest size ÷ the
smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import httpload

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
CALIBRATION_SQL = "SELECT sum(x) FROM generate_series(1, 3000000) x"
HOST = "127.0.0.1"


def database_url(name: str) -> str:
    base = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    return f"{base}/{name}"


def machine_speed(url: str) -> float:
    """Milliseconds of a fixed CPU-bound statement (median of 5), as bench/dashboard_bench.py prints."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute(CALIBRATION_SQL)
            cursor.fetchall()
            timings.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(timings) * 1000


def server_env(url: str, secret: str, port: int, control: Path, var: Path, static_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": HOST,
        "S2O_VAR_DIR": str(var),
        "STATIC_ROOT": str(static_root),
        "GUNICORN_BIND": f"{HOST}:{port}",
        "GUNICORN_CONTROL_SOCKET": str(control),
        "GUNICORN_ACCESS_LOG": "",
        "LOG_LEVEL": "WARNING",
    }


def collect_static(env: dict[str, str]) -> None:
    subprocess.run([str(PYTHON), "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)


def people(env: dict[str, str]) -> dict:
    out = subprocess.run([str(PYTHON), "bench/people.py"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        server = subprocess.Popen([str(PYTHON.parent / "gunicorn"), "--config", "gunicorn.conf.py", "s2o.wsgi"],
                                  cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5)
            return server
        except OSError:
            if server.poll() is not None:
                sys.exit(f"gunicorn did not start: see {log}")
            time.sleep(0.5)
    stop_server(server)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def pages(cast: dict, port: int) -> list[tuple[str, list[bytes]]]:
    https = {"X-Forwarded-Proto": "https"}  # as the TLS proxy says; production settings redirect plain HTTP

    def as_(role: str, path: str, count: int = 8) -> list[bytes]:
        users = cast["sessions"][role][:count]
        return [httpload.build_request(HOST, port, path, {"sessionid": u["sessionid"]}, https) for u in users]

    req = cast["request_of_first_rep"]
    return [
        ("ceiling (1 query)", [httpload.build_request(HOST, port, f"/bench/ceiling/{req}/", None, https)]),
        ("request page", as_("rep", f"/requests/{req}/", 1)),
        ("list, rep", as_("rep", "/requests/")),
        ("list, manager", as_("manager", "/requests/")),
        ("triage", as_("ops_lead", "/ops/triage/")),
        ("department queue", as_("ops_member", "/ops/department/", 2)),  # procurement's two members
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", action="append", required=True, metavar="LABEL=NAME",
                        help="a bench database to measure, e.g. 1m=s2o_bench_1m_copy (repeat, smallest first)")
    parser.add_argument("--port", type=int, default=8140)
    parser.add_argument("--seconds", type=float, default=10.0, help="load per page (default 10)")
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive connections (default 4)")
    args = parser.parse_args()
    databases = [item.split("=", 1) for item in args.database]
    if any("bench" not in name for _label, name in databases):
        sys.exit("Every database name must contain 'bench' (the script writes personas and sessions into it).")

    secret = secrets.token_urlsafe(64)
    work = Path(tempfile.mkdtemp(prefix="s2o-pages-bench-"))
    control = work / "gunicorn.ctl"
    static_root = ROOT / "var" / "bench-static"
    print(f"machine speed: {CALIBRATION_SQL} took {machine_speed(database_url(databases[0][1])):.0f} ms "
          f"(lower is faster); load average {os.getloadavg()[0]:.2f}", flush=True)
    collect_static(server_env(database_url(databases[0][1]), secret, args.port, control, work, static_root))
    rates: dict[str, dict[str, float]] = {}
    for label, name in databases:
        env = server_env(database_url(name), secret, args.port, control, work, static_root)
        cast = people(env)
        server = start_server(env, args.port, work / "gunicorn.log")
        try:
            workers = subprocess.run([str(PYTHON.parent / "gunicornc"), "-s", str(control), "-c", "show workers"],
                                     capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[-1]
            print(f"\n{label}: {cast['requests']:,} requests in {name}; gunicorn.conf.py: {workers}, "
                  f"gthread, {args.concurrency} connections, {args.seconds:.0f} s per page")
            print(f"{'page':<20} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'÷ ceiling':>10} {'answers':>8}  not 200")
            ceiling = None
            for page, requests in pages(cast, args.port):
                httpload.run(HOST, args.port, requests, concurrency=min(len(requests), args.concurrency), seconds=1,
                             min_requests=len(requests))  # warm: templates, connections, caches
                result = httpload.run(HOST, args.port, requests, concurrency=args.concurrency, seconds=args.seconds)
                ceiling = ceiling or result.rate
                rates.setdefault(page, {})[label] = result.rate
                wrong = {code: n for code, n in result.statuses.items() if code != 200}
                print(f"{page:<20} {result.rate:>8.1f} {result.median * 1000:>8.1f} {result.percentile(95) * 1000:>8.1f} "
                      f"{result.rate / ceiling:>10.3f} {len(result.latencies):>8}  {wrong or ''}", flush=True)
        finally:
            stop_server(server)
    if len(databases) > 1:
        first, last = databases[0][0], databases[-1][0]
        print(f"\nrate at {last} ÷ rate at {first}:")
        for page, by_size in rates.items():
            print(f"  {page:<20} {by_size[last] / by_size[first]:.2f}")


if __name__ == "__main__":
    main()
