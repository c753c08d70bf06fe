"""Real processes for the SLA worker tests: our own redis-server, celery worker/beat, the
`sla_sweep` command, and a tiny SMTP server that can stall at a chosen step.

Everything is started on free ports in temporary directories and stopped by process id; the
machine's own Redis is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

ROOT = Path(__file__).resolve().parents[1]
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE | re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, log=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{log()}")


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for(self.answers, timeout=10, what="redis-server")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        stop(self.process, signal.SIGKILL)


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


@dataclass
class Services:
    """Environment for our subprocesses: the test database, a broker, a mail directory."""

    database_url: str
    broker_url: str
    mail_dir: Path
    var_dir: Path
    extra: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "s2o.settings",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_RESULT_BACKEND": self.broker_url,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "S2O_VAR_DIR": str(self.var_dir),
            **self.extra,
            **overrides,
        }
        env.pop("REDIS_URL", None)
        return env

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        log = (self.var_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "s2o", *args], cwd=ROOT, env=self.env(**env), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def worker(self, **env: str) -> subprocess.Popen:
        process = self.start(
            "worker", "worker", "--pool", "solo", "--without-mingle", "--without-gossip", "--without-heartbeat",
            "--loglevel", "INFO", **env,
        )
        wait_for(lambda: " ready." in self.log("worker"), timeout=40, what="the worker", log=lambda: self.log("worker"))
        return process

    def beat(self, **env: str) -> subprocess.Popen:
        return self.start("beat", "beat", "--loglevel", "INFO", **env)

    def sweep(self, *args: str, timeout: float = 90, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", "sla_sweep", *args], cwd=ROOT, env=self.env(**env), capture_output=True,
            text=True, timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def log(self, name: str) -> str:
        path = self.var_dir / f"{name}.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def message_ids(self) -> list[str]:
        """Message-IDs of every e-mail the file backend wrote (one per sent message)."""
        ids: list[str] = []
        if self.mail_dir.exists():
            for path in sorted(self.mail_dir.iterdir()):
                ids += [m.decode() for m in MESSAGE_ID.findall(path.read_bytes())]
        return ids

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            stop(process)


def database_url() -> str:
    from tests.s2o.celery_fixtures import worker_database_url

    return worker_database_url()


def age_ledger(seconds: int = 600) -> None:
    """Make unsent ledger rows (and their claims) look older than the grace period and lease,
    as if that much time had passed: the sweep in another process uses the real clock."""
    from django.db.models import F

    from analysis.models import ReminderLedger

    delta = timedelta(seconds=seconds)
    ReminderLedger.objects.filter(sent_at__isnull=True).update(created_at=F("created_at") - delta)
    ReminderLedger.objects.filter(sent_at__isnull=True, claimed_at__isnull=False).update(claimed_at=F("claimed_at") - delta)


def due_reminder_request(rep, customer, calendar, *, reference: str):
    """A submitted request whose 50% acknowledge reminder became due half an hour ago (real time)."""
    from requests_app.models import FeasibilityRequest, Priority, Status
    from tests.conftest import request_fields

    now = timezone.now()
    return FeasibilityRequest.objects.create(
        requested_by=rep, status=Status.SUBMITTED, reference=reference, calendar=calendar,
        submitted_at=now - timedelta(minutes=90), acknowledge_due=now + timedelta(minutes=30),
        answer_due=now + timedelta(hours=6), next_reminder_at=now - timedelta(minutes=1),
        **request_fields(customer, priority=Priority.URGENT),
    )


class StallingSMTP:
    """A minimal SMTP server. `refuse` = N answers the first N messages with a temporary failure.
    `stall` = "before" blocks before accepting the message (no hand-off),
    "after" accepts it (250 after DATA) and then blocks before answering QUIT; None never stalls.
    Received messages are kept raw; `stalled` is set when a session reaches the stall point."""

    def __init__(self) -> None:
        self.port = free_port()
        self.stall: str | None = None
        self.refuse = 0  # this many DATA commands are answered "451 try again later" first
        self.refused = 0
        self.messages: list[bytes] = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer._session(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _session(self, rfile, wfile) -> None:
        def reply(line: str) -> None:
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        reply("220 test ESMTP")
        while True:
            line = rfile.readline()
            if not line:
                return
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                reply("250 test")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                reply("250 ok")
            elif verb == b"DATA":
                if self.refused < self.refuse:
                    self.refused += 1
                    reply("451 4.3.0 Mail server busy, try again later")
                    continue
                if self.stall == "before":
                    self._hold()
                    return
                reply("354 go ahead")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = rfile.readline()
                    if not chunk:
                        return
                    data += chunk
                self.messages.append(data)
                reply("250 queued")
                if self.stall == "after":
                    self._hold()
                    return
            elif verb == b"QUIT":
                reply("221 bye")
                return
            else:
                reply("502 no")

    def _hold(self) -> None:
        self.stalled.set()
        self.release.wait(timeout=120)

    def message_ids(self) -> list[str]:
        return [m.decode() for raw in self.messages for m in MESSAGE_ID.findall(raw)]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
