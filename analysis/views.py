"""Operations' pages: triage, department queue, acknowledge/route/extend, assessment, answer.

Each view: fetch with permission (404 out of scope, 403 with the rulebook's reason when in scope but
not allowed), validate with a form, call one service, redirect or re-render with the input kept.
The services ask the rulebook again; their `NotAllowed` is never caught here (it is a 403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from analysis import forms, selectors, services
from analysis.filters import DepartmentQueueFilter, QueueFilter
from analysis.forms import BaseAlternativeFormSet
from analysis.models import Answer, Assessment, Decision
from requests_app import clocks, permissions
from requests_app import services as request_services
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import FeasibilityRequest
from requests_app.roles import SignedInRequest
from requests_app.selectors import get_request_for

SERVICE_ERRORS = (ValidationError, ConflictError, TransitionError, ValueError)


def wrong_state(request: SignedInRequest, req: FeasibilityRequest, perm: str, what: str) -> HttpResponse | None:
    """A page for an action the request's state does not allow (`permissions.WHEN`, the state rule
    its service applies): back to the request, saying why."""
    if permissions.WHEN[perm](req):
        return None
    messages.info(request, f"{req.reference} is {req.get_status_display().lower()}: {what} is not possible now.")
    return redirect(req.get_absolute_url())


def request_version(req: FeasibilityRequest) -> Callable[[], int]:
    return lambda: FeasibilityRequest.objects.values_list("version", flat=True).get(pk=req.pk)


def assessment_version(assessment: Assessment) -> Callable[[], int]:
    return lambda: Assessment.objects.values_list("version", flat=True).get(pk=assessment.pk)


def form_error(form: BaseForm, exc: Exception, *, current_version: Callable[[], int | None] | None = None) -> None:
    """Put a service's refusal on the form, next to the field it concerns where there is one.

    On a conflict the input is kept and the hidden version becomes the one just shown to the user
    (`current_version()`), so saving the kept input again is checked against what they now saw."""
    if isinstance(exc, ConflictError) and current_version is not None:
        data = cast(QueryDict, form.data).copy()
        version = current_version()
        data["version"] = "" if version is None else str(version)
        form.data = data
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))


def _query_without(params: QueryDict, *names: str) -> str:
    """The page's GET parameters without `names` (a section's page links keep the other's page)."""
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _triage_page(
    request: SignedInRequest, params: QueryDict, *, bulk_form: BaseForm | None = None, status: int = 200,
) -> HttpResponse:
    filterset = QueueFilter(params or None, queryset=FeasibilityRequest.objects.all(), request=request)
    queue = selectors.triage_queue(
        now=timezone.now(), requests=filterset.qs, sort=filterset.sort_key,
        ack_page=params.get("ack_page"), page=params.get("page"),
    )
    can_act = permissions.allowed(request.user, "s2o.acknowledge_request")
    if can_act and bulk_form is None:
        bulk_form = forms.BulkAcknowledgeForm(auto_id="bulk_%s")
    context = {
        "queue": queue, "can_act": can_act, "filter": filterset, "bulk_form": bulk_form,
        "filters_query": params.urlencode(), "ack_query": _query_without(params, "ack_page"),
        "query": _query_without(params, "page"),
        "ticked": (
            set(cast(QueryDict, bulk_form.data).getlist("requests")) if bulk_form is not None and bulk_form.is_bound else set()
        ),
    }
    return render(request, "analysis/triage.html", context, status=status)


@login_required
def triage(request: SignedInRequest) -> HttpResponse:
    permissions.require(request.user, "s2o.view_triage")
    return _triage_page(request, request.GET)


@login_required
@require_POST
def triage_acknowledge(request: SignedInRequest) -> HttpResponse:
    """Acknowledge the ticked requests with one routing and answer-by; each says how it went.
    Bad input shows triage again with the form as filled in (400), nothing acknowledged."""
    permissions.require(request.user, "s2o.acknowledge_request")
    params = QueryDict(request.POST.get("query", ""))
    form = forms.BulkAcknowledgeForm(request.POST, auto_id="bulk_%s")
    if not form.is_valid():
        return _triage_page(request, params, bulk_form=form, status=400)
    data = form.cleaned_data
    try:
        outcomes = services.requests_acknowledge_bulk(
            request_ids=data["requests"], actor=request.user, departments=data["departments"],
            answer_due=data["answer_due"], reason=data["reason"], versions=form.versions(),
        )
    except ValidationError as exc:
        form_error(form, exc)
        return _triage_page(request, params, bulk_form=form, status=400)
    done = [o.reference for o in outcomes if o.acknowledged]
    if done:
        messages.success(
            request, f"Acknowledged and routed ({len(done)}): {', '.join(done)}. The reps have been told the answer-by."
        )
    for outcome in outcomes:
        if not outcome.acknowledged:
            messages.error(request, f"{outcome.reference or 'A request'} was not acknowledged: {outcome.error}")
    return redirect(f"{reverse('analysis:triage')}?{params.urlencode()}")


@login_required
def department_queue(request: SignedInRequest) -> HttpResponse:
    permissions.require(request.user, "s2o.view_department_queue")
    filterset = DepartmentQueueFilter(
        request.GET or None, queryset=selectors.department_assessments(request.user), request=request
    )
    queue = selectors.department_queue(
        user=request.user, now=timezone.now(), assessments=filterset.qs, sort=filterset.sort_key,
        page=request.GET.get("page"), done_page=request.GET.get("done_page"),
    )
    context = {
        "queue": queue, "filter": filterset,
        "query": _query_without(request.GET, "page"), "done_query": _query_without(request.GET, "done_page"),
    }
    return render(request, "analysis/department_queue.html", context)


@login_required
def acknowledge(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.acknowledge_request", req)
    if (back := wrong_state(request, req, "s2o.acknowledge_request", "acknowledging")) is not None:
        return back
    default_due, max_due = clocks.default_answer_due(req), clocks.max_answer_due(req)
    form = forms.AcknowledgeForm(request.POST or None, req=req, default_due=default_due, max_due=max_due)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        posted = data["answer_due"]
        unchanged = posted is not None and abs((posted - default_due).total_seconds()) < 60
        try:
            services.request_acknowledge(
                request_id=req.pk, actor=request.user, departments=data["departments"], owners=form.owners(),
                answer_due=None if unchanged else posted, reason=data["reason"], expected_version=data["version"],
            )
        except SERVICE_ERRORS as exc:
            form_error(form, exc, current_version=request_version(req))
            form.offer(getattr(exc, "proposal", None))
        else:
            messages.success(request, f"{req.reference} acknowledged and routed; the rep has been told the answer-by.")
            return redirect("analysis:triage")
    context = {"req": req, "form": form, "default_due": default_due, "max_due": max_due}
    return render(request, "analysis/acknowledge.html", context)


@login_required
def route(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.route_request", req)
    if (back := wrong_state(request, req, "s2o.route_request", "adding departments")) is not None:
        return back
    form = forms.RouteForm(request.POST or None, req=req)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_route(
                request_id=req.pk, actor=request.user, departments=form.cleaned_data["departments"],
                owners=form.owners(), expected_version=form.cleaned_data["version"],
            )
        except SERVICE_ERRORS as exc:
            form_error(form, exc, current_version=request_version(req))
        else:
            messages.success(request, "Departments added; they have been told.")
            return redirect(req.get_absolute_url())
    return render(request, "analysis/route.html", {"req": req, "form": form})


@login_required
def extend_answer_by(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.extend_answer_by", req)
    if (back := wrong_state(request, req, "s2o.extend_answer_by", "moving the answer-by")) is not None:
        return back
    form = forms.ExtendAnswerByForm(request.POST or None, req=req)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.answer_by_extend(
                request_id=req.pk, actor=request.user, answer_due=data["answer_due"], reason=data["reason"],
                expected_version=data["version"],
            )
        except SERVICE_ERRORS as exc:
            form_error(form, exc, current_version=request_version(req))
            form.offer(getattr(exc, "proposal", None))
        else:
            messages.success(request, "Answer-by moved; the rep has been told.")
            return redirect(req.get_absolute_url())
    return render(request, "analysis/extend_answer_by.html", {"req": req, "form": form})


@login_required
def assessment_edit(request: SignedInRequest, pk: int, code: str) -> HttpResponse:
    assessment = selectors.get_assessment_for(request.user, pk, code)
    permissions.require(request.user, "s2o.assess_department", assessment)
    req = assessment.request
    form = forms.AssessmentForm(request.POST or None, assessment=assessment)
    editable = req.in_analysis
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.assessment_save(
                assessment_id=assessment.pk, actor=request.user, data=data, constraints=list(data["constraints"]),
                expected_version=data["version"] or 0,
            )
        except SERVICE_ERRORS as exc:
            form_error(form, exc, current_version=assessment_version(assessment))
        else:
            messages.success(request, f"{assessment.department.name}'s assessment saved.")
            return redirect("analysis:department_queue")
    context = {"req": req, "assessment": assessment, "form": form, "editable": editable}
    return render(request, "analysis/assessment_form.html", context)


@login_required
def answer_compose(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.answer_request", req)
    draft = selectors.draft_answer(req)
    assessments = selectors.assessments_of(req)
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    form = forms.AnswerForm(request.POST or None, initial=_answer_initial(draft))
    formset = forms.alternative_formset(req, request.POST if action in ("save", "publish", "add") else None,
                                        initial=forms.alternative_initial(draft, req.currency))
    if action == "prefill":
        form, formset = _prefilled(request, req, assessments)
    elif action == "add":
        formset = forms.alternative_formset_plus_one(req, formset)
    elif action and form.is_valid() and formset.is_valid() and (
        response := _answer_save(request, req, form, formset, publish=action == "publish")
    ):
        return response
    context = {"req": req, "form": form, "formset": formset, "draft": draft, "assessments": assessments,
               "answers": selectors.published_answers(req), "editable": req.in_analysis,
               "pending_count": sum(1 for a in assessments if not a.is_done)}
    return render(request, "analysis/answer_compose.html", context)


def _answer_initial(draft: Answer | None) -> dict:
    if draft is None:
        return {}
    return {"decision": draft.decision, "summary": draft.summary, "justification": draft.justification, "version": draft.version}


def _prefilled(request: SignedInRequest, req: FeasibilityRequest, assessments: list[Assessment]) -> Any:
    """Keep what the lead typed, replace the alternatives with the ones suggested by the assessments."""
    decision, alternatives = selectors.alternatives_from_assessments(req, assessments)
    post = request.POST
    data = {k: post.get(k, "") for k in ("summary", "justification", "version")}
    data["decision"] = post.get("decision") or decision
    costed = [a for a in assessments if a.is_done and a.cost_impact is not None]
    if len(costed) > 1 and selectors.suggested_cost(costed) is None:
        messages.warning(request, "The departments' cost impacts are of different kinds (per unit or for the whole "
                                  "quantity, or in different currencies), so they were not added up: enter each "
                                  "alternative's cost delta yourself.")
    return forms.AnswerForm(initial=data), forms.alternative_formset(req, None, initial=alternatives)


def _answer_save(
    request: SignedInRequest, req: FeasibilityRequest, form: BaseForm, formset: BaseAlternativeFormSet, *, publish: bool,
) -> HttpResponse | None:
    data = form.cleaned_data
    kwargs = dict(
        request_id=req.pk, actor=request.user, decision=data["decision"], summary=data["summary"],
        justification=data["justification"], alternatives=formset.alternatives(), expected_version=data["version"],
    )
    try:
        answer = services.answer_publish(**kwargs) if publish else services.answer_save_draft(**kwargs)
    except SERVICE_ERRORS as exc:
        form_error(form, exc, current_version=lambda: getattr(selectors.draft_answer(req), "version", None))
        return None
    if publish:
        messages.success(request, f"Answer {answer.number} ({Decision(answer.decision).label}) published; the rep has been told.")
        return redirect(req.get_absolute_url())
    messages.success(request, "Draft saved. Sales does not see it until you publish.")
    return redirect("analysis:answer_compose", pk=req.pk)


@login_required
def clarification_ask(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.ask_clarification", req)
    if (back := wrong_state(request, req, "s2o.ask_clarification", "asking Sales")) is not None:
        return back
    form = forms.ClarificationForm(request.POST or None, req=req)
    if request.method == "POST" and form.is_valid():
        try:
            request_services.clarification_ask(
                request_id=req.pk, actor=request.user, question=form.cleaned_data["question"],
                expected_version=form.cleaned_data["version"],
            )
        except SERVICE_ERRORS as exc:
            form_error(form, exc, current_version=request_version(req))
        else:
            messages.success(request, "Question sent to Sales; the answer clock is paused until they reply.")
            return redirect(req.get_absolute_url())
    return render(request, "analysis/clarification_form.html", {"req": req, "form": form})
