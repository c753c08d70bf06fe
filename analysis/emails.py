"""What Operations' e-mails need beyond the request: registered with `requests_app.notifications`
(which must not import this app) when the app loads."""

from __future__ import annotations

from typing import Any

from analysis.models import Answer, Decision
from requests_app.models import Notification
from requests_app.notifications import register_email_context


@register_email_context("answer")
def answer_email_context(notification: Notification) -> dict[str, Any]:
    """The published answer the e-mail announces (by id: a later revision never rewrites an
    e-mail about an earlier answer) and its alternatives in the order Sales saw them."""
    answer = (
        Answer.objects.filter(pk=notification.email_data.get("answer"), request_id=notification.request_id)
        .select_related("published_by")
        .first()
    )
    alternatives = list(answer.alternatives.select_related("works_around").order_by("position", "pk")) if answer else []
    return {
        "answer": answer,
        "alternatives": alternatives,
        "acceptable_as_asked": answer is not None and answer.decision in (Decision.YES, Decision.YES_WITH_CONDITIONS),
    }
