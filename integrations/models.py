"""Integrations: personal API tokens, outbound webhook endpoints with their deliveries and
attempts, and the inbound e-mails received as replies."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class ApiToken(models.Model):
    """A user's token for the API. Only a short prefix (to find it) and a SHA-256 hash of the whole
    token (to check it) are stored: the token itself is shown once, at creation, and never again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “CRM sync”.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEvent(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ANSWERED = "answered", "Answered"
    BREACHED = "breached", "SLA breached"
    CLOSED = "closed", "Closed"


class WebhookEndpoint(models.Model):
    """A URL that hears about requests: a signed POST per subscribed event."""

    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, help_text="Signs every delivery (HMAC-SHA256).")
    events = models.JSONField(default=list, help_text="Names of the events it receives.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.url

    def get_absolute_url(self) -> str:
        return reverse("integrations:webhook_detail", args=[self.pk])

    def event_labels(self) -> list[str]:
        return [WebhookEvent(e).label for e in self.events if e in WebhookEvent.values]


class WebhookDelivery(models.Model):
    """One event for one endpoint: claimed → sent → marked, retried with back-off, given up after
    the last attempt. A re-send is a new delivery of the same event (same `event_id`, so the
    receiver can tell it has seen it)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=16, choices=WebhookEvent.choices)
    event_id = models.UUIDField(default=uuid.uuid4)
    request = models.ForeignKey(
        "requests_app.FeasibilityRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    resend_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx"),
            # The webhook sweep: deliveries still owed, by when they are due.
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_owed_idx", condition=Q(state="pending")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="delivered", delivered_at__isnull=False)
                | (~Q(state="delivered") & Q(delivered_at__isnull=True)),
                name="%(app_label)s_%(class)s_delivered_iff_delivered_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("integrations:delivery_detail", args=[self.pk])


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, what the receiver answered (or why it could not be reached)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class InboundEmail(models.Model):
    """An e-mail received as a reply: what it became (a comment, a clarification reply) or why it
    was refused, and the polite bounce that went back (claim → send → mark, like every e-mail)."""

    class Outcome(models.TextChoices):
        COMMENT = "comment", "Added as a comment"
        CLARIFICATION = "clarification", "Added as the clarification reply"
        REFUSED = "refused", "Refused"
        IGNORED = "ignored", "Ignored (automatic reply)"

    received_at = models.DateTimeField(default=timezone.now)
    message_id = models.CharField(max_length=300, blank=True)
    sender = models.CharField(max_length=254)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was refused, as told to the sender.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    request = models.ForeignKey(
        "requests_app.FeasibilityRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey("requests_app.Comment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    bounce_wanted = models.BooleanField(default=False)
    bounce_claimed_at = models.DateTimeField(null=True, blank=True)
    bounce_sent_at = models.DateTimeField(null=True, blank=True)
    bounce_attempts = models.PositiveSmallIntegerField(default=0)
    bounce_last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["sender", "-received_at"], name="inbound_sender_idx"),
            # The sweep's resend of bounces still owed.
            models.Index(fields=["received_at"], name="inbound_bounce_owed_idx",
                         condition=Q(bounce_wanted=True, bounce_sent_at__isnull=True)),
        ]
        constraints = [
            # The ESP may post one message twice (a retry after a timeout): it counts once.
            models.UniqueConstraint(fields=["message_id"], condition=~Q(message_id=""),
                                    name="%(app_label)s_%(class)s_one_per_message_id"),
        ]

    def __str__(self) -> str:
        return f"{self.sender} → {self.get_outcome_display()}"


class ApiIdempotencyKey(models.Model):
    """An `Idempotency-Key` a caller sent with a create: the first call files, a retry with the same
    key and the same body gets what the first one filed, and the same key with another body is
    refused. Unique per user, so two integrations cannot collide on a key they both made up."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64, help_text="SHA-256 of the request's body, as parsed and sorted.")
    request = models.ForeignKey(
        "requests_app.FeasibilityRequest", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="%(app_label)s_%(class)s_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"


class ApiRateWindow(models.Model):
    """The API's rate limit count: one row per token (or session user), the calls it made in the
    current fixed window. Kept in the database, so every gunicorn worker and web machine counts the
    same calls, and a Redis outage never turns the API off (shared/RELIABILITY.md rule 5)."""

    key = models.CharField(max_length=64, primary_key=True)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} since {self.window_start:%H:%M:%S}"
