"""Sales' decisions on a published answer: accept it (the yes), decline it with every alternative,
ask for a revision, or accept one alternative. They live here with `analysis.decisions`; their URLs
stay under the request's own (`/requests/<pk>/decide/…`, namespace `decisions`), where Sales and
their e-mails have always found them."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from analysis import decisions, selectors
from analysis.forms import DecisionForm
from analysis.models import Alternative
from requests_app import permissions
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import FeasibilityRequest
from requests_app.roles import SignedInRequest
from requests_app.selectors import get_request_for

DECIDE: dict[str, tuple[Callable[..., FeasibilityRequest], str]] = {
    "accept": (decisions.answer_accept, "Accepted — marked as won."),
    "decline": (decisions.answer_decline, "Declined."),
    "revise": (decisions.revision_request, "Revision requested — Operations re-opens the analysis."),
}


@login_required
@require_POST
def decide(request: SignedInRequest, pk: int, action: str) -> HttpResponse:
    """accept (the YES) · decline (all, with reason) · revise (with new information). Bad input
    (no reason, too long, a NUL character) re-renders the decision with what was typed; nothing is saved."""
    if action not in DECIDE:
        raise Http404
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.decide_answer", req)
    form = DecisionForm(request.POST, action=action)
    service, success = DECIDE[action]
    if form.is_valid():
        try:
            service(request_id=req.pk, actor=request.user, reason=form.cleaned_data["reason"])
        except (TransitionError, ConflictError) as exc:
            messages.error(request, str(exc))
            return redirect(req)
        except ValueError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.success(request, success)
            return redirect(req)
    context = {"req": req, "form": form, "action": action, "answer": decisions.current_answer(req),
               "answers": selectors.published_answers(req)}
    return render(request, "analysis/decide.html", context, status=400)


@login_required
@require_POST
def alternative_accept(request: SignedInRequest, pk: int, alternative_pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.accept_alternative", req)
    get_object_or_404(Alternative, pk=alternative_pk, answer__request=req)
    try:
        decisions.alternative_accept(alternative_id=alternative_pk, actor=request.user)
    except (TransitionError, ConflictError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Alternative accepted; the request is closed.")
    return redirect(req)
