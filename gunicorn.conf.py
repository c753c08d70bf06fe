"""gunicorn settings for S2O's web processes (docker-compose.yml and the image use this file).

Every value can be overridden by an environment variable (see .env.example). Threads (the gthread
worker) let a process serve other requests while one waits on PostgreSQL; each thread keeps its own
persistent database connection (CONN_MAX_AGE), so one machine holds up to workers × threads
connections: size PostgreSQL's max_connections for all web machines together.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

bind = os.environ.get("GUNICORN_BIND", "").strip() or "0.0.0.0:8000"
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2 * _cores)
threads = _int("GUNICORN_THREADS", 4)
# A worker process silent for this many seconds (hung, not merely busy: with threads its main loop
# keeps beating while one request runs long) is killed and replaced. The graceful timeout lets
# requests in flight finish on a reload or shutdown.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# 0: every response closes its connection, so each request is accepted by whichever worker takes it.
# A gthread worker accepts keep-alive connections greedily: when a proxy's few pooled connections
# all landed on one worker, that process served every request on one core (the GIL) while the
# other sat idle. Measured (bench/README.md, "Connections pinned to one worker"): 3 of 12 load
# phases at half the rate with 58 % of the CPU busy; with 0, none in 15, at ~5 % more cost per
# request (a connection each). Seconds to keep idle connections otherwise.
keepalive = _int("GUNICORN_KEEPALIVE", 0)
# Recycle each worker after about this many requests (jittered so they do not all restart at once):
# bounds the growth of any slow leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# The control socket (`gunicornc`) lives at a path of this server's own: the default under $HOME is
# shared by every gunicorn of the user, and a second server would take it over.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip() or f"/tmp/s2o-gunicorn-{bind.rsplit(':', 1)[-1]}.ctl"
# The heartbeat file on tmpfs: a container's overlay filesystem can stall it and get workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# "-" is stdout; an empty value turns the access log off (benchmarks).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-").strip() or None
errorlog = "-"
proc_name = "s2o-web"
