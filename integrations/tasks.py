"""Celery adapters (STYLE.md habit 10): ids in, one service call. The database decides what is due."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from integrations import inbound, services

# A retry further away than this is left to the sweep (a countdown is held by a worker, not stored
# by the broker: shared/RELIABILITY.md).
RETRY_SHORTCUT_LIMIT = timedelta(minutes=10)


@shared_task(name="integrations.tasks.deliver_webhooks")
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """POST what is due; a failed delivery comes back after its back-off (this task, or the sweep)."""
    delivered = sum(services.delivery_attempt(pk) for pk in delivery_ids)
    retry_at = services.next_retry_at(delivery_ids)
    if retry_at is not None and retry_at - timezone.now() <= RETRY_SHORTCUT_LIMIT:
        deliver_webhooks.apply_async([delivery_ids], eta=retry_at)
    return delivered


@shared_task(name="integrations.tasks.webhook_sweep")
def webhook_sweep() -> int:
    """Recovery for the integrations: webhook deliveries and bounces a lost message left behind."""
    return services.deliveries_reenqueue() + inbound.bounces_reenqueue()


@shared_task(name="integrations.tasks.send_bounces")
def send_bounces(inbound_ids: list[int]) -> int:
    return sum(inbound.bounce_send(pk) for pk in inbound_ids)
