"""Mutation testing of the core modules with mutmut, in bounded time on this machine.

    python3 scripts/mutation.py                      # every configured module, 20 minutes each
    python3 scripts/mutation.py requests_app.businesstime --budget 900
    python3 scripts/mutation.py --report             # the figures of what has run so far
    python3 scripts/mutation.py requests_app.permissions --survivors   # again, after new tests

Configuration: `[tool.mutmut]` in pyproject.toml (which modules, which tests). mutmut copies the
code to `mutants/`, runs the selected tests once to learn which tests reach which function, then
runs, for each one-line mutant, only those tests: a mutant is *killed* when a test fails,
*survived* when they all pass (a missing test, or an equivalent mutant: README "Testing" lists
them with why). Results are kept in `mutants/`, so a second run resumes where the budget ended
(it passes mutmut the mutants still without a verdict); `--survivors` checks the survivors again
after tests were added for them.

The tests run against a database of their own (`<your database>_mutation`, so a test suite of
yours can run meanwhile), one mutant at a time: the 2-core machine is shared.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
MODULES = [
    "requests_app.businesstime", "requests_app.clocks", "requests_app.lifecycle", "requests_app.selectors",
    "requests_app.permissions", "analysis.clocks", "analysis.selectors", "analysis.sla", "analysis.metrics",
]
STATUS = re.compile(r"^\s*(?P<name>[\w.]+__mutmut_\d+): (?P<status>.+)$")


def environment() -> dict[str, str]:
    env = dict(os.environ)
    url = urlsplit(env.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/s2o")
    if url.scheme.startswith("postgres") and not url.path.endswith("_mutation"):
        env["DATABASE_URL"] = urlunsplit(url._replace(path=url.path + "_mutation"))
    env.setdefault("S2O_VAR_DIR", str(ROOT / "var"))
    return env


# A verdict that stands; anything else (not checked, interrupted by the budget, reached by no test
# when it last ran: a test may have been added since) is run again.
DECIDED = {"killed", "survived", "timeout", "caught by type check", "skipped"}


def run(module: str, budget: float, env: dict[str, str], *, recheck_survivors: bool = False) -> bool:
    """Run the mutants of `module` not yet decided for at most `budget` seconds; True if mutmut finished them.

    mutmut re-runs every mutant it is given by name or pattern, decided or not, so a second run of
    `module.*` would start again from the fastest mutants: the names still to run are passed instead.
    `recheck_survivors` runs the survivors again too (after tests were added for them).
    """
    statuses = mutant_statuses(env)
    mine = {name: status for name, status in statuses.items() if module_of(name) == module}
    if mine:
        todo = sorted(name for name, status in mine.items()
                      if status not in DECIDED or (recheck_survivors and status == "survived"))
        if not todo:
            print(f"{module}: all {len(mine)} mutants have a verdict", flush=True)
            return True
        targets = todo
    else:
        targets = [f"{module}.*"]  # not generated yet: the first run generates and runs them all
    command = [str(MUTMUT), "run", "--max-children", "1", *targets]
    print(f"$ mutmut run --max-children 1 {targets[0] if not mine else f'<{len(targets)} mutants of {module}>'}"
          f"  (budget {budget:.0f} s)", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
        print(f"budget spent after {time.monotonic() - started:.0f} s; the next run resumes", flush=True)
        return False
    print(f"finished in {time.monotonic() - started:.0f} s", flush=True)
    return True


def module_of(name: str) -> str:
    return next((m for m in MODULES if name.startswith(m + ".")), name.rsplit(".", 1)[0])


def mutant_statuses(env: dict[str, str]) -> dict[str, str]:
    if not (ROOT / "mutants").is_dir():
        return {}
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ROOT, env=env, capture_output=True, text=True)
    return {match["name"]: match["status"].strip() for match in map(STATUS.match, out.stdout.splitlines()) if match}


def results(env: dict[str, str]) -> dict[str, Counter]:
    per_module: dict[str, Counter] = defaultdict(Counter)
    for name, status in mutant_statuses(env).items():
        per_module[module_of(name)][status] += 1
    return per_module


def report(env: dict[str, str]) -> int:
    per_module = results(env)
    total: Counter = Counter()
    print(f"{'module':32} {'mutants':>7} {'killed':>7} {'survived':>8} {'timeout':>7} {'not run':>7} {'score':>6}")
    for module in MODULES:
        counts = per_module.get(module)
        if not counts:
            print(f"{module:32} {'—':>7}")
            continue
        total.update(counts)
        print_row(module, counts)
    print_row("all", total)
    return 0


def print_row(name: str, counts: Counter) -> None:
    killed = counts["killed"] + counts["timeout"]  # a mutant that hangs the tests is caught too
    decided = killed + counts["survived"]
    score = f"{100 * killed / decided:.1f}%" if decided else "—"
    not_run = sum(counts.values()) - decided - counts["no tests"]
    print(f"{name:32} {sum(counts.values()):>7} {counts['killed']:>7} {counts['survived']:>8} {counts['timeout']:>7} "
          f"{not_run:>7} {score:>6}" + (f"  (+{counts['no tests']} reached by no test)" if counts["no tests"] else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", default=MODULES)
    parser.add_argument("--budget", type=float, default=1200, help="seconds per module (default 1200)")
    parser.add_argument("--report", action="store_true", help="only print the figures of what has run")
    parser.add_argument("--survivors", action="store_true", help="run the surviving mutants again (after adding tests)")
    args = parser.parse_args()
    if not MUTMUT.exists():
        print("mutmut is not installed: python3 dev.py setup", file=sys.stderr)
        return 2
    env = environment()
    if not args.report:
        for module in args.modules:
            run(module, args.budget, env, recheck_survivors=args.survivors)
    return report(env)


if __name__ == "__main__":
    sys.exit(main())
