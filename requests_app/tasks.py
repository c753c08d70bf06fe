from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from requests_app import notifications, services

# Uploads kept for a form that failed validation wait this long for the rep to come back.
STAGED_UPLOAD_LIFETIME = timedelta(days=1)
# A retry further away than this is left to the sweep: a countdown message is held by a worker,
# not stored by the broker (shared/RELIABILITY.md), so it is only a shortcut for short waits.
RETRY_SHORTCUT_LIMIT = timedelta(minutes=10)


@shared_task(name="requests_app.tasks.send_notification_emails")
def send_notification_emails(notification_ids: list[int]) -> int:
    """Send what is due; a failed e-mail comes back after its back-off (this task, or the sweep)."""
    sent = sum(notifications.send_notification_email(pk) for pk in notification_ids)
    retry_at = notifications.next_retry_at(notification_ids)
    if retry_at is not None and retry_at - timezone.now() <= RETRY_SHORTCUT_LIMIT:
        send_notification_emails.apply_async([notification_ids], eta=retry_at)
    return sent


@shared_task(name="requests_app.tasks.purge_staged_uploads")
def purge_staged_uploads() -> int:
    return services.staging_purge(older_than=timezone.now() - STAGED_UPLOAD_LIFETIME)
