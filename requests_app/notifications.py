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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template import Context
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from requests_app import replies
from requests_app.models import FeasibilityRequest, Notification
from requests_app.roles import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

EMAIL_LEASE = timedelta(minutes=5)


def notify(
    users: Iterable[User | None],
    *,
    kind: str,
    message: str,
    request: FeasibilityRequest | None = None,
    url: str = "",
    email_template: str = "",
    email_data: dict | None = None,
    exclude: Actor | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Create one notification per distinct active user (minus `exclude`, usually the actor).

    `email_template` names `templates/emails/<name>_subject.txt`, `_body.txt` and `_body.html`;
    their context is `notification`, `request`, `user` and `site_url`, plus what the provider
    registered for the template makes of `email_data` (`register_email_context`).
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
                email_data=email_data or {},
            )
        )
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.email_template and n.pk]
    if ids:
        enqueue_emails(ids)
    return created


def enqueue_emails(notification_ids: list[int]) -> None:
    """After commit, hand the e-mails to Celery without making the caller wait on the broker."""
    publish_after_commit("requests_app.tasks.send_notification_emails", list(notification_ids))


def publish_after_commit(task_name: str, ids: list[int]) -> None:
    """After commit, publish `task_name(ids)` from a background thread.

    A hung Redis blocks a publish for its socket timeouts (seconds), which must not hold a web
    request (shared/RELIABILITY.md rule 5). A failed or skipped publish leaves the rows owed; the
    sweep that backs the task (e-mails: `resend_pending_emails`; webhooks: their own) sends them."""
    transaction.on_commit(partial(_publisher.submit, task_name, list(ids)), robust=True)


class _BackgroundPublisher:
    """One daemon thread per process that publishes queued (task, ids) to Celery.

    After a broker error, or while one publish has hung for longer than STUCK_SECONDS (a frozen
    Redis once blocked a publish for over a minute: the result store's reconnect retries, now off
    with results ignored and bounded in settings; the guard stays for what we have not seen), new
    ids are not queued at all: the rows stay owed and an outage costs one stuck thread, not a
    growing queue."""

    BACKOFF_SECONDS = 30.0
    STUCK_SECONDS = 10.0

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[str, list[int]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._down_until = 0.0
        self._busy_since: float | None = None
        self._unfinished = 0  # submitted and not yet handed over or given up (`flush`)

    def broker_looks_down(self) -> bool:
        now = time.monotonic()
        busy_since = self._busy_since
        return now < self._down_until or (busy_since is not None and now - busy_since > self.STUCK_SECONDS)

    def submit(self, task_name: str, ids: list[int]) -> None:
        if self.broker_looks_down():
            return  # leave these to the sweep
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="s2o-task-publisher", daemon=True)
                self._thread.start()
            self._unfinished += 1
        self._queue.put((task_name, ids))

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted was handed to the broker or given up; True if it was.
        A short-lived process (a management command) calls it before exiting: the daemon thread
        dies with the process, and what it still held would wait for the next sweep's grace."""
        deadline = time.monotonic() + timeout
        while self._unfinished and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._unfinished

    def _run(self) -> None:
        from celery import current_app

        while True:
            task_name, ids = self._queue.get()
            try:
                if time.monotonic() < self._down_until:
                    continue
                self._busy_since = time.monotonic()
                try:
                    current_app.send_task(task_name, args=[ids], ignore_result=True)  # results are never read
                except Exception:  # broker down: the sweep is the backstop
                    self._down_until = time.monotonic() + self.BACKOFF_SECONDS
                    log.warning("could not enqueue %s %s; the sweep will retry", task_name, ids)
                finally:
                    self._busy_since = None
            finally:
                with self._lock:
                    self._unfinished -= 1


_publisher = _BackgroundPublisher()


def flush_published(timeout: float = 10.0) -> bool:
    """Before a short-lived process exits: wait (bounded) for what `publish_after_commit` queued."""
    return _publisher.flush(timeout)


# --------------------------------------------------------------------------------------------------
# Retries: bounded, with exponential back-off


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing delivery (an e-mail, a webhook) is tried again.

    After the n-th failed attempt the next one waits `base × 2^(n-1)`, capped; after `max_attempts`
    attempts in all the delivery is given up (recorded, never retried forever)."""

    max_attempts: int
    base: timedelta
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        return min(self.base * (2 ** max(attempts - 1, 0)), self.cap)

    def next_attempt_at(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts; None: give up."""
        return None if attempts >= self.max_attempts else now + self.delay(attempts)


def email_retry_policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max(settings.S2O_EMAIL_MAX_ATTEMPTS, 1),
        base=timedelta(seconds=max(settings.S2O_EMAIL_RETRY_BASE_SECONDS, 1)),
    )


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


# --------------------------------------------------------------------------------------------------
# Sending: claim → send → mark


def _owed() -> Q:
    """E-mails still owed: wanted, neither sent nor given up."""
    return Q(email_sent_at__isnull=True, email_failed_at__isnull=True) & ~Q(email_template="")


def _claimable(now: datetime) -> Q:
    return (
        _owed()
        & (Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_LEASE))
        & (Q(email_next_attempt_at__isnull=True) | Q(email_next_attempt_at__lte=now))
    )


def send_notification_email(notification_id: int, *, now: datetime | None = None) -> bool:
    """Claim → send → mark. Returns True if this call sent the e-mail.

    A failure is recorded on the row (attempts, last error) and the claim released with the next
    attempt time of the back-off, or the e-mail given up after the last attempt. No lock is held
    while the mail server talks."""
    now = now or timezone.now()
    claimed = Notification.objects.filter(_claimable(now), pk=notification_id).update(
        email_claimed_at=now, email_attempts=F("email_attempts") + 1
    )
    if claimed != 1:
        return False  # already sent or given up, not due yet, or another worker holds it
    notification = Notification.objects.select_related("user", "request").get(pk=notification_id)
    try:
        build_email(notification).send()
    except Exception as exc:  # recorded and retried later; never crash-looping (STYLE.md habit 11)
        log.warning("notification e-mail %s failed (attempt %s): %s", notification_id, notification.email_attempts, exc)
        next_at = email_retry_policy().next_attempt_at(notification.email_attempts, timezone.now())
        Notification.objects.filter(pk=notification_id, email_sent_at__isnull=True).update(
            email_claimed_at=None,
            email_last_error=error_text(exc),
            email_next_attempt_at=next_at,
            email_failed_at=None if next_at else timezone.now(),
        )
        return False
    Notification.objects.filter(pk=notification_id).update(
        email_sent_at=timezone.now(), email_next_attempt_at=None, email_last_error=""
    )
    return True


def next_retry_at(notification_ids: Iterable[int]) -> datetime | None:
    """The earliest retry owed among these e-mails (None: nothing to retry)."""
    return (
        Notification.objects.filter(_owed(), pk__in=list(notification_ids), email_next_attempt_at__isnull=False)
        .order_by("email_next_attempt_at")
        .values_list("email_next_attempt_at", flat=True)
        .first()
    )


# --------------------------------------------------------------------------------------------------
# Building: subject and plain text without HTML escaping, the HTML part escaped


EmailContextProvider = Callable[[Notification], dict[str, Any]]
_context_providers: dict[str, EmailContextProvider] = {}


def register_email_context(template: str) -> Callable[[EmailContextProvider], EmailContextProvider]:
    """Register what an e-mail template needs beyond the request, read from `email_data`.

    This is how another app's records reach an e-mail without this app importing it: `analysis`
    registers the answer e-mail's provider when it loads."""

    def decorator(provider: EmailContextProvider) -> EmailContextProvider:
        _context_providers[template] = provider
        return provider

    return decorator


def email_context(notification: Notification) -> dict[str, Any]:
    context: dict[str, Any] = {
        "notification": notification,
        "request": notification.request,
        "user": notification.user,
        "site_url": settings.S2O_SITE_URL.rstrip("/"),
    }
    provider = _context_providers.get(notification.email_template)
    if provider is not None:
        context.update(provider(notification))
    return context


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text template without HTML escaping: a title "Bolts & nuts for O'Brien" must read
    so in a subject or a text body, not "Bolts &amp; nuts for O&#x27;Brien"."""
    template = cast(DjangoTemplate, get_template(template_name))  # the project's one engine is Django's
    return template.template.render(Context(context, autoescape=False))


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict[str, Any]) -> RenderedEmail:
    """`emails/<name>_subject.txt` (one line), `_body.txt` (plain) and `_body.html` (escaped)."""
    return RenderedEmail(
        subject=" ".join(render_text(f"emails/{name}_subject.txt", context).split()),
        text=render_text(f"emails/{name}_body.txt", context),
        html=render_to_string(f"emails/{name}_body.html", context),
    )


def build_email(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail copy of a notification. One that asks something of its reader carries a signed
    reply address (`replies`), so they can answer by replying."""
    context = email_context(notification)
    reply_to = replies.reply_address_for(notification)
    context["reply_address"] = reply_to
    rendered = render_email(notification.email_template, context)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[notification.user.email],
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": f"<s2o-notification-{notification.pk}@s2o>"},
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def resend_pending_emails(*, now: datetime | None = None, grace: timedelta = timedelta(minutes=2), limit: int = 500) -> int:
    """Re-enqueue e-mails owed and due: never handed over (broker down, worker died) once `grace`
    has passed, or failed earlier and now due for their next attempt. Given-up ones stay given up."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(_claimable(now), created_at__lt=now - grace)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        enqueue_emails(ids)
    return len(ids)


def mark_read(user: Actor, ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=now or timezone.now())
