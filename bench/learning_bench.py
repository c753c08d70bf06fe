"""Learning-loop benchmark (issue 15): search and precedents at 1M requests in ≤ 50 ms (p95).

    createdb -h 127.0.0.1 -U postgres -T s2o_bench_1m s2o_bench_1m_learning
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/s2o_bench_1m_learning
    .venv/bin/python manage.py migrate                                   # search columns, GIN indexes
    .venv/bin/python manage.py generate_requests 0 --enrich-existing     # wording, parts, search documents
    .venv/bin/python bench/learning_bench.py [--runs 40]

What is timed (warm, in-process, as the pages run it; DEBUG off):
* search: the request list's first page for a search — `RequestFilter(q=…)` over what the reader
  sees: its first 25 rows (and one more) and its count up to 1,000, through `requests_app.paging`
  as the page reads them — for a manager (sees everything) and a rep (own and team's
  requests), over a mix of searches: common words, rare words, a part number, a reference, a
  customer, a misspelt customer, three words, a rare word then a prefix of a word every bench
  document has (the last word typed is a prefix, `search.prefix_query`); `--exact-count` counts every match instead;
* precedents: `precedents_for` the draft of a random answered request (its customer, part, quantity
  and wording), for the manager and for that request's own rep.
Prints per scenario: p50, p95 and max in ms, and the ratio p95 ÷ the 50 ms goal; then, because a
shared machine's load inflates wall times many times over, the server's own time for the same
statements: each statement of one run per search / draft is replayed under EXPLAIN ANALYZE and its
planning + execution time summed (p50 and p95 over the searches or drafts). Refuses databases
without "bench" in the name.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "s2o.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.client import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from analysis import precedents  # noqa: E402
from requests_app import paging, search, selectors  # noqa: E402
from requests_app.filters import RequestFilter  # noqa: E402
from requests_app.models import FeasibilityRequest, Role  # noqa: E402

GOAL_MS = 50.0
PAGE = 25
COUNT_CAP = 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, timings: list[float]) -> tuple[str, float]:
    ms = [t * 1000 for t in timings]
    p95 = percentile(ms, 0.95)
    print(f"{name:<34} n={len(ms):>3}  p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  "
          f"max {max(ms):7.1f} ms  p95/goal {p95 / GOAL_MS:4.2f}")
    return name, p95


def manager() -> User:
    user, _ = User.objects.get_or_create(username="bench-manager")
    user.groups.add(Group.objects.get_or_create(name=Role.MANAGER)[0])
    return User.objects.get(pk=user.pk)


def searches() -> list[str]:
    sample = FeasibilityRequest.objects.filter(product__isnull=False).select_related("customer", "product").order_by("-pk")
    some = sample[1234]
    name = some.customer.name
    typo = name[:2] + name[3] + name[2] + name[4:]  # two letters swapped
    # The customer's number, then the start of its first word: a rare word before a prefix every
    # bench document has, the costliest kind of search (the prefix is gathered whole).
    reversed_name = f"{name.split()[-1]} {name.split()[0][:4]}"
    return ["brackets", "stainless steel valves", "refinery", "electropolished", some.product.sku, some.reference,
            name, typo, "titanium hinges wind", "framework order", reversed_name]


def time_search(user, queries: list[str], runs: int, *, exact: bool = False) -> list[float]:
    factory = RequestFactory()
    timings = []
    for i in range(runs):
        q = queries[i % len(queries)]
        http = factory.get("/requests/", {"q": q})
        http.user = user
        started = time.perf_counter()
        found = RequestFilter(http.GET, queryset=selectors.request_list(user=user), request=http)
        qs = found.qs
        if exact:
            qs.count()
            list(qs[:PAGE + 1])
        else:  # as the list page runs it
            paging.paginate(qs, "1", per_page=PAGE, count_cap=search.COUNT_CAP, by_ids=True, head=found.first_matches())
        timings.append(time.perf_counter() - started)
    return timings


def time_precedents(user_of, drafts: list[FeasibilityRequest], runs: int) -> list[float]:
    now = timezone.now()
    timings = []
    for i in range(runs):
        req = drafts[i % len(drafts)]
        user = user_of(req)
        draft = precedents.Draft.of(req)
        started = time.perf_counter()
        found = precedents.precedents_for(user=user, draft=draft, now=now)
        timings.append(time.perf_counter() - started)
        assert all(p.request.pk != req.pk for p in found)
    return timings


def server_ms(run) -> float:
    """Planning + execution time PostgreSQL reports for every statement `run()` sends."""
    with CaptureQueriesContext(connection) as captured:
        run()
    total = 0.0
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else plan
            total += plan["Planning Time"] + plan["Execution Time"]
    return total


def server_report(name: str, values: list[float]) -> None:
    print(f"{name:<34} n={len(values):>3}  p50 {statistics.median(values):7.1f} ms  p95 {percentile(values, 0.95):7.1f} ms"
          f"  (server time: planning + execution)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--exact-count", action="store_true", help="count every match (no 1,000+ cap)")
    parser.add_argument("--per-search", action="store_true", help="also the median of 5 runs of each search")
    args = parser.parse_args()
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in str(name):
        sys.exit(f"refusing to run against {name!r}: use a PostgreSQL database whose name contains 'bench'")
    total = FeasibilityRequest.objects.count()
    if not FeasibilityRequest.objects.filter(search_document__isnull=False).exists():
        sys.exit("no search documents: run `manage.py generate_requests 0 --enrich-existing` first")
    random.seed(args.seed)
    boss = manager()
    rep = User.objects.filter(username__startswith="bench-rep-").order_by("username").first()
    queries = searches()
    high = FeasibilityRequest.objects.order_by("-pk").values_list("pk", flat=True).first()
    drafts = []
    while len(drafts) < 20:
        pick = FeasibilityRequest.objects.filter(pk__gte=random.randint(1, high), answered_at__isnull=False).select_related(
            "product", "requested_by").order_by("pk").first()
        if pick is not None:
            drafts.append(pick)
    print(f"{total:,} requests; searches: {', '.join(repr(q) for q in queries)}")
    # Warm-up: caches, the first plan of each statement.
    time_search(boss, queries, len(queries))
    time_search(rep, queries, len(queries))
    time_precedents(lambda r: boss, drafts, 5)
    results = [
        report("search, manager (everything)", time_search(boss, queries, args.runs, exact=args.exact_count)),
        report("search, rep (own + team)", time_search(rep, queries, args.runs, exact=args.exact_count)),
        report("precedents, manager", time_precedents(lambda r: boss, drafts, args.runs)),
        report("precedents, the request's rep", time_precedents(lambda r: r.requested_by, drafts, args.runs)),
    ]
    if args.per_search:
        for label, user in (("manager", boss), ("rep", rep)):
            for q in queries:
                print(f"{label:<8} {q[:30]:<32} median {statistics.median(time_search(user, [q], 5)) * 1000:7.1f} ms")
    reset_queries()
    now = timezone.now()
    for label, user in (("manager", boss), ("rep", rep)):
        server_report(f"search, {label}", [server_ms(lambda q=q, u=user: time_search(u, [q], 1,
                                                                                     exact=args.exact_count))
                                          for q in queries])
    def bare(q: str) -> None:
        qs = search.search_requests(FeasibilityRequest.objects.order_by("-submitted_at", "-id"), q, user=boss)
        qs.order_by()[:COUNT_CAP + 1].count()
        list(qs[:PAGE + 1])

    server_report("search condition alone (no scope)", [server_ms(lambda q=q: bare(q)) for q in queries])
    server_report("precedents, manager", [server_ms(lambda r=r: precedents.precedents_for(
        user=boss, draft=precedents.Draft.of(r), now=now)) for r in drafts])
    server_report("precedents, the request's rep", [server_ms(lambda r=r: precedents.precedents_for(
        user=r.requested_by, draft=precedents.Draft.of(r), now=now)) for r in drafts])
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores while measuring")
    worst = max(p95 for _, p95 in results)
    print(f"worst p95 {worst:.1f} ms — goal {GOAL_MS:.0f} ms: {'met' if worst <= GOAL_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
