from celery import shared_task

from requests_app import notifications


@shared_task(name="requests_app.tasks.send_notification_emails")
def send_notification_emails(notification_ids: list[int]) -> int:
    return sum(notifications.send_notification_email(pk) for pk in notification_ids)
