from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from requests_app import notifications, services

# Uploads kept for a form that failed validation wait this long for the rep to come back.
STAGED_UPLOAD_LIFETIME = timedelta(days=1)


@shared_task(name="requests_app.tasks.send_notification_emails")
def send_notification_emails(notification_ids: list[int]) -> int:
    return sum(notifications.send_notification_email(pk) for pk in notification_ids)


@shared_task(name="requests_app.tasks.purge_staged_uploads")
def purge_staged_uploads() -> int:
    return services.staging_purge(older_than=timezone.now() - STAGED_UPLOAD_LIFETIME)
