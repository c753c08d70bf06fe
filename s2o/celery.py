"""The Celery app. Configured from Django settings (CELERY_ namespace); tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "s2o.settings")

app = Celery("s2o")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_embedded_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The filesystem transport and file result backend need their folders to exist."""
    from pathlib import Path

    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    backend = sender.conf.result_backend or ""
    if isinstance(backend, str) and backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


@app.task(name="s2o.ping", ignore_result=False)  # its caller waits for the answer
def ping(value: str = "pong") -> str:
    """Round trip used by /healthz diagnostics and the worker tests."""
    return value
