"""The request timeline as sentences: `{% load timeline %}{% event_sentence e %}`.

"Lena Braun acknowledged and promised an answer by Thu 3 Dec, 14:00.", "You submitted the request
to Operations.": who did what, addressed to the reader ("You" for their own actions), never an
event code and a status arrow ("Submitted → Submitted"). `event_details` is the text that goes
under the sentence (a reason, a question, a summary), where there is one."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime

from requests_app.models import Outcome, RequestEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

register = template.Library()
Kind = RequestEvent.Kind

CLOCKS = {"acknowledge": "acknowledgement", "answer": "answer"}
# Events whose message is already in the sentence, or shown elsewhere on the page (comments).
NO_DETAILS = {Kind.ASSESSED, Kind.ROUTED, Kind.COMMENTED, Kind.ATTACHMENT_ADDED, Kind.REMINDER_SENT,
              Kind.ESCALATION_SENT, Kind.CREATED, Kind.SUBMITTED, Kind.EDITED}


def _when(value: str | None) -> str:
    moment: datetime | None = parse_datetime(value) if value else None
    if moment is None:
        return "a new time"
    return formats.date_format(timezone.localtime(moment), "D j M Y, H:i")


def _who(event: RequestEvent, viewer: Any) -> str:
    if event.actor_id is None:
        return "S2O"
    if viewer is not None and getattr(viewer, "pk", None) == event.actor_id:
        return "You"
    actor = cast("User", event.actor)  # actor_id is set (checked above)
    return actor.get_full_name() or actor.get_username()


def _clock(data: dict) -> str:
    if data.get("clock") == "department":
        return f"{(data.get('scope') or 'department').replace('_', ' ').title()} assessment"
    return CLOCKS.get(data.get("clock", ""), "request")


def sentence(event: RequestEvent, viewer: Any = None) -> str:
    """One event, as a sentence about who did what."""
    who, data, message = _who(event, viewer), event.data or {}, event.message or ""
    match event.kind:
        case Kind.CREATED:
            return f"{who} saved a draft."
        case Kind.SUBMITTED:
            return f"{who} submitted the request to Operations."
        case Kind.EDITED:
            fields = [f.replace("_", " ") for f in data.get("fields", [])]
            return f"{who} edited the request" + (f" ({', '.join(fields)})." if fields else ".")
        case Kind.ACKNOWLEDGED:
            return f"{who} acknowledged and promised an answer by {_when(data.get('answer_due'))}."
        case Kind.ROUTED:
            names = message.removeprefix("Routed to ").strip()
            return f"{who} asked {names} to assess." if names else f"{who} routed the request."
        case Kind.ANSWER_BY_EXTENDED:
            return f"{who} moved the answer-by to {_when(data.get('to'))}."
        case Kind.CLARIFICATION_ASKED:
            return f"{who} asked Sales a question; the answer clock paused."
        case Kind.CLARIFICATION_ANSWERED:
            return f"{who} answered Operations' question; the answer clock runs again."
        case Kind.ASSESSED:
            department, _, verdict = message.removesuffix(" (revised)").partition(": ")
            verb = "revised" if data.get("revised") else "recorded"
            return f"{who} {verb} {department}'s assessment: {verdict}." if verdict else f"{who} recorded an assessment."
        case Kind.ANSWER_PUBLISHED:
            decision = (data.get("decision") or "").replace("_", " ").capitalize()
            number = f"answer {data['answer']}" if data.get("answer") else "the answer"
            return f"{who} published {number}: {decision}."
        case Kind.REVISION_REQUESTED:
            return f"{who} asked Operations to revise the answer."
        case Kind.ALTERNATIVE_ACCEPTED:
            which = f"alternative {data['position']}" if data.get("position") else "an alternative"
            return f"{who} accepted {which}; the request is closed."
        case Kind.ANSWER_ACCEPTED:
            return f"{who} accepted the answer; the request is closed."
        case Kind.DECLINED:
            return f"{who} declined the answer and every alternative; the request is closed."
        case Kind.WITHDRAWN:
            return f"{who} withdrew the request."
        case Kind.CLOSED:
            outcome = data.get("outcome")
            label = Outcome(outcome).label if outcome in Outcome.values else "closed"
            return f"{who} closed the request: {label}."
        case Kind.COMMENTED:
            return f"{who} commented."
        case Kind.ATTACHMENT_ADDED:
            return f"{who} attached {message}." if message else f"{who} added an attachment."
        case Kind.REMINDER_SENT:
            return f"S2O sent a reminder about the {_clock(data)}."
        case Kind.ESCALATION_SENT:
            return f"S2O escalated the overdue {_clock(data)} to the managers."
    return f"{who}: {event.get_kind_display()}."


@register.simple_tag(takes_context=True)
def event_sentence(context: template.Context, event: RequestEvent) -> str:
    return sentence(event, context.get("user"))


@register.filter
def event_details(event: RequestEvent) -> str:
    """What to show under the sentence: a reason, a question or reply, an answer's summary."""
    return "" if event.kind in NO_DETAILS else (event.message or "")
