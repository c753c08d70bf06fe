"""Telling people: an in-app notification row per recipient, and optionally an e-mail copy.

The e-mail is sent by a Celery task enqueued after commit (robustly: a broker error is logged,
never shown to the user who caused the notification), with claim → send → mark so a duplicate
message does not send twice; `resend_pending_emails` (run by the SLA sweep) is the backstop when
the broker was down.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from requests_app.models import FeasibilityRequest, Notification

log = logging.getLogger(__name__)

EMAIL_LEASE = timedelta(minutes=5)


def notify(
    users: Iterable,
    *,
    kind: str,
    message: str,
    request: FeasibilityRequest | None = None,
    url: str = "",
    email_template: str = "",
    exclude=None,
    now: datetime | None = None,
) -> list[Notification]:
    """Create one notification per distinct active user (minus `exclude`, usually the actor).

    `email_template` names `templates/emails/<name>_subject.txt`, `_body.txt` and `_body.html`;
    their context is `notification`, `request`, `user` and `site_url`.
    """
    now = now or timezone.now()
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or not user.is_active or user.pk in seen or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user,
                request=request,
                kind=kind,
                message=message[:300],
                url=url or (request.get_absolute_url() if request else ""),
                created_at=now,
                email_template=email_template if user.email else "",
            )
        )
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.email_template and n.pk]
    if ids:
        enqueue_emails(ids)
    return created


def enqueue_emails(notification_ids: list[int]) -> None:
    """After commit, hand the e-mails to Celery without making the caller wait on the broker.

    Publishing happens on a background thread: a hung Redis blocks a publish for its socket
    timeouts (seconds), which must not hold a web request (shared/RELIABILITY.md rule 5). A failed
    or skipped publish leaves the rows pending; the sweep's `resend_pending_emails` sends them."""
    transaction.on_commit(partial(_publisher.submit, list(notification_ids)), robust=True)


class _BackgroundPublisher:
    """One daemon thread per process that publishes queued notification ids to Celery.

    After a broker error, or while one publish has hung for longer than STUCK_SECONDS (a frozen
    Redis once blocked a publish for over a minute: the result store's reconnect retries, now off
    with results ignored and bounded in settings; the guard stays for what we have not seen), new
    ids are not queued at all: the rows stay pending and an outage costs one stuck thread, not a
    growing queue."""

    BACKOFF_SECONDS = 30.0
    STUCK_SECONDS = 10.0

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._down_until = 0.0
        self._busy_since: float | None = None

    def broker_looks_down(self) -> bool:
        now = time.monotonic()
        busy_since = self._busy_since
        return now < self._down_until or (busy_since is not None and now - busy_since > self.STUCK_SECONDS)

    def submit(self, notification_ids: list[int]) -> None:
        if self.broker_looks_down():
            return  # leave these to the sweep's resend
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="s2o-notification-publisher", daemon=True)
                self._thread.start()
        self._queue.put(notification_ids)

    def _run(self) -> None:
        from requests_app.tasks import send_notification_emails

        while True:
            ids = self._queue.get()
            if time.monotonic() < self._down_until:
                continue
            self._busy_since = time.monotonic()
            try:
                send_notification_emails.delay(ids)
            except Exception:  # broker down: the sweep's resend is the backstop
                self._down_until = time.monotonic() + self.BACKOFF_SECONDS
                log.warning("could not enqueue notification e-mails %s; the sweep will retry", ids)
            finally:
                self._busy_since = None


_publisher = _BackgroundPublisher()


def send_notification_email(notification_id: int, *, now: datetime | None = None) -> bool:
    """Claim → send → mark. Returns True if this call sent the e-mail."""
    now = now or timezone.now()
    claimed = Notification.objects.filter(
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_LEASE),
        pk=notification_id,
        email_sent_at__isnull=True,
    ).exclude(email_template="").update(email_claimed_at=now)
    if claimed != 1:
        return False  # already sent, or another worker holds it
    notification = Notification.objects.select_related("user", "request").get(pk=notification_id)
    message = build_email(notification)
    message.send()
    Notification.objects.filter(pk=notification_id).update(email_sent_at=timezone.now())
    return True


def build_email(notification: Notification) -> EmailMultiAlternatives:
    context = {
        "notification": notification,
        "request": notification.request,
        "user": notification.user,
        "site_url": settings.S2O_SITE_URL.rstrip("/"),
    }
    name = notification.email_template
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[notification.user.email],
        headers={"Message-ID": f"<s2o-notification-{notification.pk}@s2o>"},
    )
    email.attach_alternative(html, "text/html")
    return email


def resend_pending_emails(*, now: datetime | None = None, grace: timedelta = timedelta(minutes=2), limit: int = 500) -> int:
    """Re-enqueue e-mails still unsent after `grace` (broker was down, worker died)."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(email_sent_at__isnull=True, created_at__lt=now - grace)
        .exclude(email_template="")
        .filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_LEASE))
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        enqueue_emails(ids)
    return len(ids)


def mark_read(user, ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=now or timezone.now())
