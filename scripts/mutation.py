"""Mutation testing of the core modules with mutmut, in bounded time on this machine.

    python3 scripts/mutation.py                      # every configured module, 20 minutes each
    python3 scripts/mutation.py requests_app.businesstime --budget 900
    python3 scripts/mutation.py --report             # the figures of what has run so far

Configuration: `[tool.mutmut]` in pyproject.toml (which modules, which tests). mutmut copies the
code to `mutants/`, runs the selected tests once to learn which tests reach which function, then
runs, for each one-line mutant, only those tests: a mutant is *killed* when a test fails,
*survived* when they all pass (a missing test, or an equivalent mutant: README "Testing" lists
them with why). Results are kept in `mutants/`, so a second run resumes where the budget ended.

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


def run(module: str, budget: float, env: dict[str, str]) -> bool:
    """Run the mutants of `module` for at most `budget` seconds; True if mutmut finished them."""
    command = [str(MUTMUT), "run", "--max-children", "1", f"{module}.*"]
    print(f"$ {' '.join(command)}  (budget {budget:.0f} s)", flush=True)
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


def results(env: dict[str, str]) -> dict[str, Counter]:
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ROOT, env=env, capture_output=True, text=True)
    per_module: dict[str, Counter] = defaultdict(Counter)
    for line in out.stdout.splitlines():
        match = STATUS.match(line)
        if not match:
            continue
        name = match["name"]
        module = next((m for m in MODULES if name.startswith(m + ".")), name.rsplit(".", 1)[0])
        per_module[module][match["status"].strip()] += 1
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
    args = parser.parse_args()
    if not MUTMUT.exists():
        print("mutmut is not installed: python3 dev.py setup", file=sys.stderr)
        return 2
    env = environment()
    if not args.report:
        for module in args.modules:
            run(module, args.budget, env)
    return report(env)


if __name__ == "__main__":
    sys.exit(main())
