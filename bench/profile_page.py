"""Where a page's time goes: cProfile of one page, in process, as the persona who uses it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/s2o_bench_10k_copy SECRET_KEY=… \\
        .venv/bin/python bench/profile_page.py request [--runs 50] [--sort tottime] [--top 40]

Pages: request (a rep's answered request), list-rep, list-manager, triage, queue (a procurement
member), dashboard (a manager). The page is loaded a few times to warm the caches, then `--runs`
times under cProfile with the production settings (DEBUG off, the cached template loader), through
Django's test client and the whole middleware stack. It prints the wall time per page (with and
without the profiler), the SQL time measured by a connection wrapper, and the profile's top entries.
The database name must contain "bench": the personas are added to it (bench/people.py).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

import people  # noqa: E402  (bench/people.py)
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

PAGES = {
    "request": ("rep", None),
    "list-rep": ("rep", "/requests/"),
    "list-manager": ("manager", "/requests/"),
    "triage": ("ops_lead", "/ops/triage/"),
    "queue": ("ops_member", "/ops/department/"),
    "dashboard": ("manager", "/ops/dashboard/"),
}


class SqlTimer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", choices=sorted(PAGES))
    parser.add_argument("--path", help="another path to load as the page's persona (e.g. /notifications/)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--who", type=int, default=0, help="which of the role's personas (0 = the first)")
    parser.add_argument("--timing", action="store_true", help="only the wall time per page, no profile")
    args = parser.parse_args()
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit("Point DATABASE_URL at a PostgreSQL bench database (its name must contain 'bench').")
    cast = people.cast()
    role, path = PAGES[args.page]
    path = args.path or path
    user = cast[role][args.who]
    if path is None:
        path = f"/requests/{people.showcase_request(user)}/"
    client = Client(headers={"x-forwarded-proto": "https"}, secure=True)
    client.force_login(user, backend="requests_app.auth.PageUserBackend")

    def load() -> None:
        response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")

    for _ in range(5):
        load()
    started = time.perf_counter()
    for _ in range(args.runs):
        load()
    plain = (time.perf_counter() - started) / args.runs
    if args.timing:
        print(f"{args.page} {path} as {user.username}: {plain * 1000:.1f} ms per page; "
              f"load average {os.getloadavg()[0]:.2f}")
        return
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        for _ in range(args.runs):
            load()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.runs):
        load()
    profiler.disable()
    profiled = (time.perf_counter() - started) / args.runs
    print(f"{args.page} {path} as {user.username}: {plain * 1000:.1f} ms per page "
          f"({profiled * 1000:.1f} ms under the profiler); SQL {timer.seconds / args.runs * 1000:.1f} ms "
          f"in {timer.count / args.runs:.0f} statements; load average {os.getloadavg()[0]:.2f}")
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
