"""Where the integrations listen: the request's timeline (every transition writes a RequestEvent
row in its own transaction), so webhooks need no hook in the services and `requests_app` knows
nothing of them; and anymail's inbound signal, for replies by e-mail."""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import inbound
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from integrations import inbound as inbound_mail
from integrations import services
from requests_app.models import RequestEvent

log = logging.getLogger(__name__)


@receiver(post_save, sender=RequestEvent, dispatch_uid="s2o-webhook-events")
def raise_webhook_event(sender: type[RequestEvent], instance: RequestEvent, created: bool, raw: bool = False,
                        **kwargs: object) -> None:
    if not created or raw:
        return
    try:
        with transaction.atomic():  # a savepoint: a webhook fault never undoes the transition that raised it
            services.event_raise(instance)
    except Exception:
        log.exception("webhook event for request event %s could not be recorded", instance.pk)


@receiver(inbound, dispatch_uid="s2o-replies-by-email")
def receive_reply(sender: object, event: Any, esp_name: str, **kwargs: object) -> None:
    message = inbound_mail.from_anymail(event)
    if message is not None:
        inbound_mail.reply_receive(message)
