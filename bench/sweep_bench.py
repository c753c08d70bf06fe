"""SLA sweep benchmark (issue 5): one sweep decision pass must cost O(due), not O(all requests).

    createdb -h 127.0.0.1 -U postgres s2o_sweep_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/s2o_sweep_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/sweep_bench.py --sizes 10000,100000,1000000 --due 1000

For each size the script rebuilds the request table with `INSERT … SELECT generate_series`:
75% closed (off the work list), 25% open and not due yet (on the work list, `next_reminder_at`
in the future) and exactly `--due` open requests due now, split between the acknowledge clock
(submitted) and the answer clock (in analysis). It then times one `sla_sweep` at a fixed instant
inside working hours (Monday 10:00 in the default calendar), delivery disabled, and prints:
* sweep: wall time of the decision pass (median and best of `--runs`, each on a freshly reset
  due set; on a shared, loaded machine the best is the steadier figure);
* decided: ledger rows it wrote (one per due request: its latest due threshold or escalation);
* plan: whether PostgreSQL used the partial index `req_sweep_due_idx` for the due query.
Finally the ratio largest/smallest (goal ≤ 1.5). Refuses databases without "bench" in the name.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "s2o.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402

from analysis import sla  # noqa: E402
from analysis.models import ReminderLedger  # noqa: E402
from requests_app import clocks  # noqa: E402
from requests_app.models import Customer, Role  # noqa: E402

# Monday 2 March 2026, 10:00 Europe/Berlin: inside working hours of the seeded default calendar.
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def rebuild(total: int, due: int) -> None:
    """Replace all requests with `total` rows of which `due` are due at NOW."""
    customer, _ = Customer.objects.get_or_create(name="Bench customer")
    rep, _ = User.objects.get_or_create(username="bench-rep")
    for role, name in ((Role.OPS_LEAD, "bench-lead"), (Role.MANAGER, "bench-manager")):
        user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    closed = int(total * 0.75)
    with connection.cursor() as cur:
        cur.execute("TRUNCATE requests_app_feasibilityrequest RESTART IDENTITY CASCADE")
        # Columns common to every row; the CASE expressions give each slice its state.
        cur.execute(
            """
            INSERT INTO requests_app_feasibilityrequest (
                reference, title, customer_id, part_description, quantity, unit, requested_date, currency, priority,
                description, requested_by_id, status, outcome, outcome_reason, created_at, submitted_at,
                acknowledge_due, acknowledged_at, answer_due, paused_seconds, next_reminder_at, version, updated_at)
            SELECT 'B-' || i, 'Bench request ' || i, %(customer)s, 'part', 100, 'pcs', DATE '2026-06-01', 'EUR', 'urgent',
                   '', %(rep)s,
                   CASE WHEN i <= %(closed)s THEN 'closed'
                        WHEN i > %(total)s - %(due)s AND i %% 2 = 0 THEN 'submitted'
                        WHEN i > %(total)s - %(due)s THEN 'in_analysis'
                        ELSE 'in_analysis' END,
                   CASE WHEN i <= %(closed)s THEN 'won' ELSE '' END, '',
                   %(now)s - interval '30 days', %(now)s - interval '90 minutes',
                   %(now)s - interval '90 minutes' + interval '2 hours',
                   CASE WHEN i > %(closed)s AND NOT (i > %(total)s - %(due)s AND i %% 2 = 0) THEN %(now)s - interval '1 hour' END,
                   %(now)s + CASE WHEN i > %(total)s - %(due)s THEN interval '1 hour' ELSE interval '20 days' END,
                   0,
                   CASE WHEN i <= %(closed)s THEN NULL
                        WHEN i > %(total)s - %(due)s THEN %(now)s - interval '1 minute'
                        ELSE %(now)s + interval '10 days' + (i %% 1000) * interval '1 minute' END,
                   1, %(now)s
            FROM generate_series(1, %(total)s) AS i
            """,
            {"customer": customer.pk, "rep": rep.pk, "closed": closed, "total": total, "due": due, "now": NOW},
        )
        cur.execute("ANALYZE requests_app_feasibilityrequest")


def reset_due(total: int, due: int) -> None:
    """Put the due slice back on the work list and forget its ledger rows (for repeated runs)."""
    ReminderLedger.objects.all().delete()
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE requests_app_feasibilityrequest SET next_reminder_at = %s - interval '1 minute' WHERE id > %s",
            [NOW, total - due],
        )


def uses_partial_index() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "EXPLAIN SELECT id FROM requests_app_feasibilityrequest WHERE status IN ('submitted', 'in_analysis') "
            "AND next_reminder_at IS NOT NULL AND next_reminder_at <= %s ORDER BY next_reminder_at LIMIT 200",
            [NOW],
        )
        return "req_sweep_due_idx" in "\n".join(row[0] for row in cur.fetchall())


def time_sweep(total: int, due: int, runs: int) -> tuple[float, float, int]:
    timings, decided = [], 0
    clocks.default_calendar()  # seeded reference data, outside the timing
    for _ in range(runs):
        reset_due(total, due)
        started = time.perf_counter()
        result = sla.sla_sweep(now=NOW, deliver=lambda ids: None)
        timings.append(time.perf_counter() - started)
        decided = result.decided
    return statistics.median(timings), min(timings), decided


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated request counts")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in str(name):
        sys.exit(f"refusing to run against {name!r}: use a PostgreSQL database whose name contains 'bench'")
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        rebuild(size, args.due)
        built = time.perf_counter() - started
        seconds, fastest, decided = time_sweep(size, args.due, args.runs)
        results.append((size, seconds, fastest))
        print(f"{size:>9,} requests ({args.due} due): sweep median {seconds * 1000:7.1f} ms, best {fastest * 1000:7.1f} ms  "
              f"decided {decided:5}  "
              f"partial index used: {uses_partial_index()}  (data built in {built:.1f} s)", flush=True)
    if len(results) > 1:
        (small, t_small, b_small), (large, t_large, b_large) = results[0], results[-1]
        print(f"ratio {large:,}/{small:,}: median {t_large / t_small:.2f}, best {b_large / b_small:.2f} (goal ≤ 1.5)")


if __name__ == "__main__":
    main()
