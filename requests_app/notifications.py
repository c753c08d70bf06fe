"""Telling people: an in-app notification row per recipient, and optionally an e-mail copy.

The e-mail is sent by a Celery task enqueued after commit (robustly: a broker error is logged,
never shown to the user who caused the notification), with claim → send → mark so a duplicate
message does not send twice; `resend_pending_emails` (run by the SLA sweep) is the backstop when
the broker was down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

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
    """After commit, hand the e-mails to Celery; never let the broker fail the caller."""

    def _send() -> None:
        from requests_app.tasks import send_notification_emails

        try:
            send_notification_emails.delay(notification_ids)
        except Exception:  # broker down or slow: the sweep's resend is the backstop
            log.warning("could not enqueue notification e-mails %s; the sweep will retry", notification_ids)

    transaction.on_commit(_send, robust=True)


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
