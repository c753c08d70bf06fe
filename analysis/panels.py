"""Operations' panels on Sales' request page, registered in `AnalysisConfig.ready()` (the page is
`requests_app`'s and knows nothing of `analysis`: see `requests_app.pages`)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from analysis import forecasts, improvements, precedents, selectors
from analysis.decisions import ACCEPTABLE_AS_ASKED
from analysis.forms import DecisionForm
from requests_app import permissions, roles
from requests_app.models import FeasibilityRequest, Status


def answer_panel(request: HttpRequest, req: FeasibilityRequest) -> str:
    """The published answer and its alternatives, Sales' decision on it, and earlier answers."""
    answers = selectors.published_answers(req)
    if not answers:
        return ""
    user = request.user
    current = next((a for a in answers if a.superseded_at is None), None)
    decides = current is not None and permissions.offered(user, "s2o.decide_answer", req)
    offers = {
        "decide_answer": decides,
        "accept_as_asked": decides and current.decision in ACCEPTABLE_AS_ASKED,
        "accept_alternative": current is not None and permissions.offered(user, "s2o.accept_alternative", req),
    }
    context = {
        "req": req,
        "current": current,
        "earlier": [a for a in answers if a is not current],
        "offers": offers,
        "internals": permissions.allowed(user, "s2o.read_internals", req),
        "reason_max_length": DecisionForm.base_fields["reason"].max_length,
    }
    return render_to_string("analysis/_answer_panel.html", context, request=request)


def operations_panel(request: HttpRequest, req: FeasibilityRequest) -> str:
    """Departments' assessments, the history of assessments and answers, and Operations' actions."""
    if req.status == Status.DRAFT:
        return ""
    panel = selectors.ops_panel(req=req, user=request.user)
    return render_to_string("analysis/_ops_panel.html", {"panel": panel}, request=request)


def precedents_panel(request: HttpRequest, req: FeasibilityRequest) -> str:
    """Similar earlier requests: for the author while it is a draft, for Operations and managers
    while it is analysed (never once it is closed: nothing is left to decide)."""
    user = request.user
    if req.status == Status.DRAFT:
        shown = permissions.allowed(user, "s2o.edit_request", req)
    else:
        shown = req.status != Status.CLOSED and (roles.is_ops(user) or roles.is_manager(user))
    if not shown:
        return ""
    found = precedents.precedents_for(user=user, draft=precedents.Draft.of(req), now=timezone.now())
    return render_to_string("analysis/_precedents.html", {"precedents": found, "asked": True}, request=request)


def improvements_panel(request: HttpRequest, req: FeasibilityRequest) -> str:
    """What Operations does about the constraints that blocked this request: actions under way, or
    done since it was answered (then Sales may file it again)."""
    if req.status == Status.DRAFT:
        return ""
    actions = improvements.actions_for_request(req)
    if not actions:
        return ""
    context = {
        "req": req, "actions": actions, "file_again": permissions.allowed(request.user, "s2o.copy_request", req),
        "see_actions": permissions.allowed(request.user, "s2o.view_improvements"),
    }
    return render_to_string("analysis/_improvements_panel.html", context, request=request)


def forecast_panel(request: HttpRequest, req: FeasibilityRequest) -> str:
    """When to expect the acknowledgement and the answer: for the author of a draft, if filed now."""
    if req.status != Status.DRAFT or not permissions.allowed(request.user, "s2o.edit_request", req):
        return ""
    found = forecasts.forecast_for_request(req, now=timezone.now())
    return render_to_string("analysis/_forecast.html", {"forecast": found, "filed_now": True}, request=request)
