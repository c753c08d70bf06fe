"""Operations' panels on Sales' request page, registered in `AnalysisConfig.ready()` (the page is
`requests_app`'s and knows nothing of `analysis`: see `requests_app.pages`)."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

from analysis import forecasts, improvements, precedents, selectors
from analysis.decisions import ACCEPTABLE_AS_ASKED
from analysis.forms import DecisionForm
from requests_app import permissions
from requests_app.models import FeasibilityRequest, Status
from requests_app.roles import SignedInRequest


def _assessments(request: SignedInRequest, req: FeasibilityRequest) -> list:
    """The request's assessments as this page's reader sees them, read once for all the panels of
    one page (the request object lives as long as the page)."""
    memo = getattr(req, "_s2o_page_assessments", None)
    if memo is None or memo[0] is not request:
        # A memo on the request object, for this page's request only.
        memo = req._s2o_page_assessments = (  # type: ignore[attr-defined]
            request, selectors.assessments_of(req, viewer=request.user),
        )
    return memo[1]


def answer_panel(request: SignedInRequest, req: FeasibilityRequest) -> str:
    """The published answer and its alternatives, Sales' decision on it, and earlier answers."""
    answers = selectors.published_answers(req)
    if not answers:
        return ""
    user = request.user
    current = next((a for a in answers if a.superseded_at is None), None)
    decides = current is not None and permissions.offered(user, "s2o.decide_answer", req)
    offers = {
        "decide_answer": decides,
        "accept_as_asked": decides and current is not None and current.decision in ACCEPTABLE_AS_ASKED,
        "accept_alternative": current is not None and permissions.offered(user, "s2o.accept_alternative", req),
    }
    context = {
        "req": req,
        "current": current,
        "earlier": [a for a in answers if a is not current],
        "offers": offers,
        "internals": permissions.allowed(user, "s2o.read_internals", req),
        "reason_max_length": cast(forms.CharField, DecisionForm.base_fields["reason"]).max_length,
    }
    return render_to_string("analysis/_answer_panel.html", context, request=request)


def operations_panel(request: SignedInRequest, req: FeasibilityRequest) -> str:
    """Departments' assessments, the history of assessments and answers, and Operations' actions."""
    if req.status == Status.DRAFT:
        return ""
    panel = selectors.ops_panel(req=req, user=request.user, assessments=_assessments(request, req))
    return render_to_string("analysis/_ops_panel.html", {"panel": panel}, request=request)


def _later(request: SignedInRequest, req: FeasibilityRequest, *, url_name: str, heading: str, link: str) -> str:
    url = f"{reverse(url_name)}?{urlencode({'request': req.pk})}"
    context = {"url": url, "heading": heading, "heading_id": url_name.split(":")[-1] + "-heading", "link": link}
    return render_to_string("analysis/_panel_later.html", context, request=request)


def precedents_panel(request: SignedInRequest, req: FeasibilityRequest) -> str:
    """Similar earlier requests (`precedents.shown_to` says to whom), loaded after the page: their
    search costs more than the rest of the page together."""
    if not precedents.shown_to(request.user, req):
        return ""
    return _later(request, req, url_name="analysis:precedents", heading="Similar earlier requests",
                  link="Show the earlier requests most like this one")


def improvements_panel(request: SignedInRequest, req: FeasibilityRequest) -> str:
    """What Operations does about the constraints that blocked this request: actions under way, or
    done since it was answered (then Sales may file it again)."""
    if req.status == Status.DRAFT:
        return ""
    actions = improvements.actions_for_request(req, _assessments(request, req))
    if not actions:
        return ""
    context = {
        "req": req, "actions": actions, "file_again": permissions.allowed(request.user, "s2o.copy_request", req),
        "see_actions": permissions.allowed(request.user, "s2o.view_improvements"),
    }
    return render_to_string("analysis/_improvements_panel.html", context, request=request)


def forecast_panel(request: SignedInRequest, req: FeasibilityRequest) -> str:
    """When to expect the acknowledgement and the answer, for the author of a draft if filed now;
    loaded after the page, as the precedents are."""
    if not forecasts.shown_to(request.user, req):
        return ""
    return _later(request, req, url_name="analysis:forecast", heading="When to expect an answer",
                  link="Show when to expect an answer if filed now")
