"""Reply addresses: an e-mail that asks something of a person carries a Reply-To address with a
signed, expiring token for that request and that recipient, so their answer by e-mail can become
their comment (or clarification reply) on that request.

The token is `django.core.signing` with its own salt: `<request>-<user>-<intent>.<time>.<signature>`
in the local part, `reply+<token>@<S2O_REPLY_DOMAIN>`. Nothing is stored; the signature and its
age say whether the token is ours, for whom, and still valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

from requests_app.models import Notification

SALT = "s2o.requests.email-reply"
LOCAL_PREFIX = "reply+"
COMMENT, CLARIFICATION = "c", "q"
# Which notifications ask something of their reader, and what a reply to them becomes.
INTENT_BY_KIND = {"clarification_asked": CLARIFICATION, "answer_published": COMMENT, "comment": COMMENT}
_PAYLOAD = re.compile(r"^(\d+)-(\d+)-([cq])$")


class ReplyTokenError(Exception):
    """Why a reply address is not valid; `reason` is one of "unknown", "expired", "forged"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ReplyTarget:
    request_id: int
    user_id: int
    intent: str  # COMMENT or CLARIFICATION


def _signer() -> signing.TimestampSigner:
    # "." separates the parts: ":" (Django's default) is not allowed unquoted in an address.
    return signing.TimestampSigner(salt=SALT, sep=".")


def max_age() -> timedelta:
    return timedelta(days=settings.S2O_REPLY_MAX_AGE_DAYS)


def reply_token(*, request_id: int, user_id: int, intent: str) -> str:
    return _signer().sign(f"{request_id}-{user_id}-{intent}")


def reply_address(*, request_id: int, user_id: int, intent: str) -> str | None:
    """The Reply-To address for this person about this request; None when replies by e-mail are
    not set up (no S2O_REPLY_DOMAIN)."""
    domain = settings.S2O_REPLY_DOMAIN
    if not domain:
        return None
    return f"{LOCAL_PREFIX}{reply_token(request_id=request_id, user_id=user_id, intent=intent)}@{domain}"


def reply_address_for(notification: Notification) -> str | None:
    intent = INTENT_BY_KIND.get(notification.kind)
    if intent is None or not notification.request_id:
        return None
    return reply_address(request_id=notification.request_id, user_id=notification.user_id, intent=intent)


def reply_target(address: str) -> ReplyTarget:
    """Who may reply about what through this address; ReplyTokenError if it is not one of ours,
    has expired, or was tampered with."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    ours = settings.S2O_REPLY_DOMAIN
    if not local.lower().startswith(LOCAL_PREFIX) or (ours and domain.lower() != ours.lower()):
        raise ReplyTokenError("unknown")
    token = local[len(LOCAL_PREFIX):]
    try:
        payload = _signer().unsign(token, max_age=max_age())
    except signing.SignatureExpired:
        raise ReplyTokenError("expired") from None
    except signing.BadSignature:
        raise ReplyTokenError("forged" if token.count(".") == 2 else "unknown") from None
    match = _PAYLOAD.match(payload)
    if match is None:
        raise ReplyTokenError("forged")
    return ReplyTarget(int(match.group(1)), int(match.group(2)), match.group(3))
