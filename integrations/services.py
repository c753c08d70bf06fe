"""Writes of the integrations: API tokens, webhook endpoints, events and their deliveries.

Deliveries follow the house pattern for anything sent to the outside world (shared/RELIABILITY.md):
rows written in the transaction that raised the event (a rolled-back transition sends nothing),
handed to Celery after commit, claimed with a guarded UPDATE, sent with no lock held, marked;
a failure is recorded and retried with exponential back-off, a bounded number of times; the
webhook sweep re-enqueues what a lost message or a dead worker left behind.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import string
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations import safehttp
from integrations.models import ApiIdempotencyKey, ApiToken, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from requests_app import permissions
from requests_app import services as request_services
from requests_app.models import FeasibilityRequest, RequestEvent, Status
from requests_app.notifications import RetryPolicy, error_text, publish_after_commit
from requests_app.roles import Actor

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# API tokens

TOKEN_PREFIX = "s2o"
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
MAX_ACTIVE_TOKENS = 20
LAST_USED_RESOLUTION = timedelta(minutes=1)  # one write per token and minute, not per API call


def _hash(raw: str) -> str:
    # The token carries 256 random bits: a fast hash is enough (no password to guess), and a slow
    # one would cost every API call ~0.5 s (shared/RELIABILITY.md).
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, actor: Actor, name: str, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token of `actor`'s own; returns the row and the token itself, which is never stored."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Name the token after what will use it, e.g. “CRM sync”."})
    if len(name) > 100:
        raise ValidationError({"name": f"At most 100 characters (this name has {len(name)})."})
    if ApiToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError({"name": f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one you no longer use first."})
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(10))
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=actor, name=name, prefix=prefix, token_hash=_hash(raw), created_at=now or timezone.now())
    return token, raw


def token_revoke(*, actor: Actor, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke one of `actor`'s own tokens (someone else's is not found: ids must not leak)."""
    token = ApiToken.objects.get(pk=token_id, user=actor)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    token.refresh_from_db()
    return token


def token_authenticate(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The active token `raw` is, with its user loaded; None for anything else."""
    parts = raw.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, _hash(raw)):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --------------------------------------------------------------------------------------------------
# Filing through the API, once per Idempotency-Key


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with another body: a client bug, never a retry."""


def request_file_once(
    *, actor: Actor, key: str | None, fingerprint: str, data: dict, submit: bool, now: datetime | None = None,
) -> request_services.Filed:
    """File a request (`request_file`, the filing form's service) at most once per `key` of `actor`.

    The key's row is inserted first, in the filing's transaction: a concurrent call with the same
    key waits on PostgreSQL's unique index until this one commits, then finds the row and returns
    the request filed here; a failed filing rolls the key back, so a retry can file. `fingerprint`
    (a hash of the body) tells a retry from a reuse of the key for something else."""
    if key is None:
        return request_services.request_file(actor=actor, data=data, token=uuid.uuid4(), submit=submit, now=now)
    permissions.require(actor, "s2o.file_request")
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ApiIdempotencyKey.objects.create(user=actor, key=key, body_hash=fingerprint,
                                                          created_at=now or timezone.now())
        except IntegrityError:
            record = ApiIdempotencyKey.objects.select_related("request").get(user=actor, key=key)
            if record.body_hash != fingerprint:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was already used to file a request with a different body. "
                    "Use a new key for a new request; repeat the first body to retry it."
                ) from None
            # The key's row names its request once the filing that inserted it committed.
            return request_services.Filed(cast(FeasibilityRequest, record.request), False)
        filed = request_services.request_file(actor=actor, data=data, token=uuid.uuid4(), submit=submit, now=now)
        record.request = filed.request
        record.save(update_fields=["request"])
    return filed


# --------------------------------------------------------------------------------------------------
# Webhook endpoints


def _clean_endpoint(url: str, events: Iterable[str]) -> tuple[str, list[str]]:
    url = url.strip()
    try:
        safehttp.check_destination(url)
    except safehttp.UnsafeDestination as exc:
        raise ValidationError({"url": str(exc)}) from None
    chosen = [e for e in WebhookEvent.values if e in set(events)]
    if not chosen:
        raise ValidationError({"events": "Choose at least one event to send."})
    return url, chosen


def endpoint_create(*, actor: Actor, url: str, events: Iterable[str], description: str = "", secret: str = "",
                    now: datetime | None = None) -> WebhookEndpoint:
    """Register an endpoint; without a secret one is generated (shown to the manager once)."""
    permissions.require(actor, "s2o.manage_webhooks")
    url, chosen = _clean_endpoint(url, events)
    secret = secret.strip() or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise ValidationError({"secret": "A signing secret needs at least 16 characters (leave it empty to get one)."})
    return WebhookEndpoint.objects.create(url=url, events=chosen, description=description.strip(), secret=secret,
                                          created_by=actor, created_at=now or timezone.now())


def endpoint_update(*, actor: Actor, endpoint_id: int, url: str, events: Iterable[str], description: str,
                    is_active: bool) -> WebhookEndpoint:
    permissions.require(actor, "s2o.manage_webhooks")
    url, chosen = _clean_endpoint(url, events)
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    endpoint.url, endpoint.events, endpoint.description, endpoint.is_active = url, chosen, description.strip(), is_active
    endpoint.save(update_fields=["url", "events", "description", "is_active"])
    return endpoint


# --------------------------------------------------------------------------------------------------
# Events: raised from the request's timeline, in the transaction that wrote it

CLOSING_KINDS = {
    RequestEvent.Kind.CLOSED, RequestEvent.Kind.WITHDRAWN, RequestEvent.Kind.ALTERNATIVE_ACCEPTED,
    RequestEvent.Kind.ANSWER_ACCEPTED, RequestEvent.Kind.DECLINED,
}


def webhook_event_for(event: RequestEvent) -> str | None:
    """Which webhook event (if any) a timeline row is. "breached" is the first escalation of a
    clock: the sweep escalates a clock once it is past due, and repeats are not new breaches."""
    kind = event.kind
    if kind == RequestEvent.Kind.SUBMITTED:
        return WebhookEvent.SUBMITTED
    if kind == RequestEvent.Kind.ACKNOWLEDGED:
        return WebhookEvent.ACKNOWLEDGED
    if kind == RequestEvent.Kind.ANSWER_PUBLISHED:
        return WebhookEvent.ANSWERED
    if kind == RequestEvent.Kind.ESCALATION_SENT and (event.data or {}).get("seq") == 1:
        return WebhookEvent.BREACHED
    if kind in CLOSING_KINDS and event.to_status == Status.CLOSED:
        return WebhookEvent.CLOSED
    return None


def event_payload(name: str, event: RequestEvent, req: FeasibilityRequest, event_id: uuid.UUID) -> dict[str, Any]:
    """What a receiver gets: the request as Sales and managers read it (no department notes, no
    cost impacts), and what happened."""
    data = event.data or {}
    details: dict[str, Any] = {}
    if name == WebhookEvent.CLOSED:
        details = {"outcome": req.outcome, "reason": req.outcome_reason}
    elif name == WebhookEvent.BREACHED:
        clock = data.get("clock", "")
        details = {"clock": clock, "department": data.get("scope", "") if clock == "department" else ""}
    elif name == WebhookEvent.ANSWERED:
        details = {"answer": data.get("answer"), "decision": data.get("decision", "")}
    return {
        "id": str(event_id),
        "event": name,
        "occurred_at": event.at,
        "request": {
            "id": req.pk, "reference": req.reference, "title": req.title, "status": req.status,
            "priority": req.priority, "customer": str(req.customer), "requested_by": req.requested_by.get_username(),
            "submitted_at": req.submitted_at, "answer_due": req.answer_due, "answered_at": req.answered_at,
            "closed_at": req.closed_at, "url": settings.S2O_SITE_URL + req.get_absolute_url(),
        },
        "details": details,
    }


def event_raise(event: RequestEvent) -> list[int]:
    """Write one delivery per active endpoint that wants this event, and hand them to Celery when
    the transaction that wrote the event commits. Returns the delivery ids."""
    name = webhook_event_for(event)
    if name is None:
        return []
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True).only("pk", "events") if name in e.events]
    if not endpoints:
        return []
    req = FeasibilityRequest.objects.select_related("customer", "requested_by").get(pk=event.request_id)
    event_id = uuid.uuid4()
    payload = json.loads(json.dumps(event_payload(name, event, req, event_id), cls=DjangoJSONEncoder))
    rows = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event=name, event_id=event_id, request=req, payload=payload, created_at=event.at)
         for e in endpoints]
    )
    ids = [row.pk for row in rows]
    enqueue_deliveries(ids)
    return ids


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    publish_after_commit("integrations.tasks.deliver_webhooks", list(delivery_ids))


# --------------------------------------------------------------------------------------------------
# Delivery: claim → POST → record


LEASE = timedelta(minutes=2)  # longer than one POST can take (10 s timeout)


def retry_policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max(settings.S2O_WEBHOOK_MAX_ATTEMPTS, 1),
        base=timedelta(seconds=max(settings.S2O_WEBHOOK_RETRY_BASE_SECONDS, 1)),
        cap=timedelta(hours=6),
    )


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex: what `X-S2O-Signature` carries after "sha256="."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _claimable(now: datetime) -> Q:
    return (
        Q(state=WebhookDelivery.State.PENDING)
        & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def delivery_attempt(delivery_id: int, *, now: datetime | None = None) -> bool:
    """Try one delivery once if it is due; True if the receiver took it (2xx)."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(_claimable(now), pk=delivery_id).update(
        claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return False  # delivered, given up, not due yet, or another worker holds it
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(timezone.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "S2O-Webhooks/1",
        "X-S2O-Event": delivery.event,
        "X-S2O-Event-Id": str(delivery.event_id),
        "X-S2O-Delivery": str(delivery.pk),
        "X-S2O-Timestamp": timestamp,
        "X-S2O-Signature": "sha256=" + signature(delivery.endpoint.secret, timestamp, body),
    }
    status: int | None = None
    excerpt = error = ""
    duration = 0
    try:
        response = safehttp.post(delivery.endpoint.url, body=body, headers=headers, timeout=settings.S2O_WEBHOOK_TIMEOUT_SECONDS)
        status, excerpt, duration = response.status, response.excerpt, response.duration_ms
        if not 200 <= status < 300:
            error = f"The receiver answered HTTP {status}."
    except Exception as exc:  # unreachable, refused destination, timeout: recorded, retried
        error = error_text(exc)
    finished = timezone.now()
    WebhookAttempt.objects.create(delivery=delivery, at=finished, status_code=status, error=error,
                                  response_excerpt=excerpt[:500], duration_ms=duration)
    if not error:
        WebhookDelivery.objects.filter(pk=delivery_id, state=WebhookDelivery.State.PENDING).update(
            state=WebhookDelivery.State.DELIVERED, delivered_at=finished, last_status_code=status, last_error="",
            claimed_at=None, next_attempt_at=None,
        )
        return True
    next_at = retry_policy().next_attempt_at(delivery.attempts, finished)
    log.warning("webhook delivery %s failed (attempt %s): %s", delivery_id, delivery.attempts, error)
    WebhookDelivery.objects.filter(pk=delivery_id, state=WebhookDelivery.State.PENDING).update(
        state=WebhookDelivery.State.PENDING if next_at else WebhookDelivery.State.FAILED,
        last_status_code=status, last_error=error, claimed_at=None, next_attempt_at=next_at,
    )
    return False


def next_retry_at(delivery_ids: Iterable[int]) -> datetime | None:
    return (
        WebhookDelivery.objects.filter(pk__in=list(delivery_ids), state=WebhookDelivery.State.PENDING,
                                       next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def delivery_resend(*, actor: Actor, delivery_id: int, now: datetime | None = None) -> WebhookDelivery:
    """Send an event again (a manager's button): a new delivery of the same event and body."""
    permissions.require(actor, "s2o.manage_webhooks")
    original = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not original.endpoint.is_active:
        raise ValidationError("This endpoint is switched off; switch it on to send to it again.")
    with transaction.atomic():
        copy = WebhookDelivery.objects.create(
            endpoint=original.endpoint, event=original.event, event_id=original.event_id, request=original.request,
            payload=original.payload, created_at=now or timezone.now(), resend_of=original,
        )
        enqueue_deliveries([copy.pk])
    return copy


GRACE = timedelta(minutes=2)


def deliveries_reenqueue(*, now: datetime | None = None, limit: int = 500) -> int:
    """The webhook sweep: deliveries owed and due that no worker holds — never handed over
    (broker down) once the grace period has passed, or due for their next attempt."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(_claimable(now), created_at__lt=now - GRACE)
        .order_by("next_attempt_at", "created_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        enqueue_deliveries(ids)
    return len(ids)
