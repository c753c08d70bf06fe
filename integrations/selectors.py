"""Reads of the integrations, with what the pages need in one query each."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Count, Q, QuerySet

from integrations.models import ApiToken, WebhookDelivery, WebhookEndpoint
from requests_app.roles import Actor


def tokens_of(user: Actor) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def endpoints_with_counts() -> QuerySet[WebhookEndpoint]:
    State = WebhookDelivery.State
    return WebhookEndpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__state=State.DELIVERED)),
        pending=Count("deliveries", filter=Q(deliveries__state=State.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__state=State.FAILED)),
    ).order_by("url", "pk")


def deliveries() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.select_related("endpoint", "request", "resend_of")


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return deliveries().filter(endpoint=endpoint).order_by("-created_at", "-pk")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
