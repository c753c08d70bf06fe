"""Replies by e-mail: an inbound message (normalized by anymail from the ESP's signed webhook)
becomes that user's comment or clarification reply on that request — through the same services and
the same checks as the request page — or is refused, changing nothing, with a polite bounce.

Every message is recorded (`InboundEmail`): what it became, or why not. The ESP may post the same
message twice (a retry after a timeout): its Message-ID makes the second one a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from mailparser_reply import EmailReplyParser

from integrations.models import InboundEmail
from requests_app import permissions, replies, selectors, services
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import Status
from requests_app.notifications import error_text, publish_after_commit, render_email

log = logging.getLogger(__name__)

Outcome = InboundEmail.Outcome
BOUNCE_LEASE = timedelta(minutes=5)
BOUNCE_MAX_ATTEMPTS = 3
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
MAX_BODY = 20_000

REASONS = {
    "unknown": "the address you wrote to does not belong to a request in S2O.",
    "expired": "the reply address in that e-mail has expired.",
    "forged": "the reply address was changed, so S2O cannot tell which request it belongs to.",
    "sender": "S2O takes replies only from the person the e-mail was sent to, and this one came from another address.",
    "request": "you can no longer see that request in S2O.",
    "empty": "S2O found no text of yours above the quoted message.",
}


@dataclass(frozen=True)
class InboundMessage:
    """What S2O reads of an e-mail, whichever ESP delivered it."""

    sender: str
    recipients: list[str]
    subject: str
    text: str
    message_id: str = ""
    automatic: bool = False  # an auto-reply, a bounce or a list: never answered (no mail loops)
    spam: bool = False


def reply_text(text: str) -> str:
    """The newest part of a reply: quoted history, "On … wrote:" headers and signatures removed."""
    parsed = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text.replace("\r\n", "\n"))
    body = parsed.replies[0].body if parsed.replies else text
    lines = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()[:MAX_BODY]


def _reply_address(message: InboundMessage) -> str | None:
    for address in message.recipients:
        local = address.rpartition("@")[0].lower()
        if local.startswith(replies.LOCAL_PREFIX):
            return address
    return None


def reply_receive(message: InboundMessage, *, now: datetime | None = None) -> InboundEmail:
    """Turn one inbound e-mail into a comment or a clarification reply, or refuse it.

    One transaction: the record is inserted first, so of two posts of the same message (unique
    Message-ID) the second waits for the first and then finds it, and adds nothing."""
    now = now or timezone.now()
    address = _reply_address(message)
    record = InboundEmail(
        received_at=now, message_id=message.message_id[:300], sender=message.sender[:254], subject=message.subject[:300],
        recipient=(address or ", ".join(message.recipients))[:254], outcome=Outcome.IGNORED,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            return InboundEmail.objects.get(message_id=record.message_id)
        if message.automatic or message.spam:
            record.reason = "automatic reply" if message.automatic else "marked as spam"
        else:
            try:
                with transaction.atomic():
                    _apply(record, address, message, now)
            except _Refused as refused:
                record.outcome, record.reason, record.comment = Outcome.REFUSED, refused.reason, None
                record.bounce_wanted = _may_bounce(message.sender, now)
        record.save()
        if record.bounce_wanted:
            publish_after_commit("integrations.tasks.send_bounces", [record.pk])
    return record


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _apply(record: InboundEmail, address: str | None, message: InboundMessage, now: datetime) -> None:
    """Inside a transaction: any refusal raised here leaves nothing behind."""
    if address is None:
        raise _Refused(REASONS["unknown"])
    try:
        target = replies.reply_target(address)
    except replies.ReplyTokenError as exc:
        raise _Refused(REASONS[exc.reason]) from None
    user = get_user_model().objects.filter(pk=target.user_id, is_active=True).first()
    if user is None or not user.email or user.email.casefold() != message.sender.casefold():
        raise _Refused(REASONS["sender"])
    record.user = user
    try:
        req = selectors.get_request_for(user, target.request_id)  # the same scope as the request page
    except Http404:
        raise _Refused(REASONS["request"]) from None
    record.request = req
    body = reply_text(message.text)
    if not body:
        raise _Refused(REASONS["empty"])
    try:
        answers_question = target.intent == replies.CLARIFICATION and req.status == Status.WAITING_ON_SALES
        if answers_question and permissions.allowed(user, "s2o.reply_clarification", req):
            services.clarification_answer(request_id=req.pk, actor=user, body=body, now=now)
            record.outcome = Outcome.CLARIFICATION
            record.comment = req.comments.filter(author=user, kind="reply").order_by("-pk").first()
        else:
            record.comment = services.comment_add(req=req, actor=user, body=body, now=now)  # asks the rulebook
            record.outcome = Outcome.COMMENT
    except (PermissionDenied, TransitionError, ConflictError, ValueError) as exc:  # NotAllowed is a PermissionDenied
        raise _Refused(str(exc) or "you may not add to this request.") from None


def _may_bounce(sender: str, now: datetime) -> bool:
    if not sender or "@" not in sender:
        return False
    recent = InboundEmail.objects.filter(sender__iexact=sender, bounce_wanted=True, received_at__gte=now - timedelta(days=1))
    return recent.count() < settings.S2O_REPLY_BOUNCES_PER_DAY


# --------------------------------------------------------------------------------------------------
# The polite bounce: claim → send → mark, like every e-mail S2O sends


def bounce_send(inbound_id: int, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    claimed = InboundEmail.objects.filter(
        Q(bounce_claimed_at__isnull=True) | Q(bounce_claimed_at__lt=now - BOUNCE_LEASE),
        pk=inbound_id, bounce_wanted=True, bounce_sent_at__isnull=True, bounce_attempts__lt=BOUNCE_MAX_ATTEMPTS,
    ).update(bounce_claimed_at=now, bounce_attempts=F("bounce_attempts") + 1)
    if claimed != 1:
        return False
    record = InboundEmail.objects.get(pk=inbound_id)
    context = {"inbound": record, "reason": record.reason, "site_url": settings.S2O_SITE_URL}
    try:
        rendered = render_email("reply_bounce", context)
        email = EmailMultiAlternatives(
            subject=rendered.subject, body=rendered.text, to=[record.sender],
            headers={"Message-ID": f"<s2o-bounce-{record.pk}@s2o>", "Auto-Submitted": "auto-replied",
                     **({"In-Reply-To": record.message_id, "References": record.message_id} if record.message_id else {})},
        )
        email.attach_alternative(rendered.html, "text/html")
        email.send()
    except Exception as exc:  # recorded; the sweep tries again, up to BOUNCE_MAX_ATTEMPTS
        log.warning("bounce %s failed: %s", inbound_id, exc)
        InboundEmail.objects.filter(pk=inbound_id).update(bounce_claimed_at=None, bounce_last_error=error_text(exc))
        return False
    InboundEmail.objects.filter(pk=inbound_id).update(bounce_sent_at=timezone.now(), bounce_last_error="")
    return True


def bounces_reenqueue(*, now: datetime | None = None, grace: timedelta = timedelta(minutes=2)) -> int:
    now = now or timezone.now()
    ids = list(
        InboundEmail.objects.filter(
            Q(bounce_claimed_at__isnull=True) | Q(bounce_claimed_at__lt=now - BOUNCE_LEASE),
            bounce_wanted=True, bounce_sent_at__isnull=True, bounce_attempts__lt=BOUNCE_MAX_ATTEMPTS,
            received_at__lt=now - grace,
        ).values_list("pk", flat=True)[:200]
    )
    if ids:
        publish_after_commit("integrations.tasks.send_bounces", ids)
    return len(ids)


# --------------------------------------------------------------------------------------------------
# The door: anymail's normalized inbound event

AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
STALE_AFTER = timedelta(hours=1)


def from_anymail(event: Any) -> InboundMessage | None:  # an anymail.signals.AnymailInboundEvent
    """Our view of an anymail inbound event; None for a stale one (a replayed old post)."""
    if event.timestamp is not None and event.timestamp < timezone.now() - STALE_AFTER:
        return None
    message = event.message
    sender = message.from_email.addr_spec if message.from_email else (message.envelope_sender or "")
    recipients = [a for a in [message.envelope_recipient, *[e.addr_spec for e in (message.to or []) + (message.cc or [])]] if a]
    auto_submitted = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    automatic = (
        auto_submitted != "no" or precedence in AUTOMATIC_PRECEDENCE or bool(message.get("X-Autoreply"))
        or bool(message.get("X-Autorespond")) or sender.split("@")[0].lower() in {"mailer-daemon", "postmaster", ""}
    )
    return InboundMessage(
        sender=sender, recipients=recipients, subject=message.subject or "", text=message.text or "",
        message_id=(message.get("Message-ID") or "").strip(), automatic=automatic, spam=bool(message.spam_detected),
    )
