"""The learning loop's pages: similar earlier requests (precedents) while filing and analysing, and
improvement actions on the constraints of the Pareto."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from analysis import forecasts, improvements, metrics, precedents
from analysis.forms_learning import ActionForm, MoveForm
from analysis.metrics.figures import ParetoRow
from analysis.models import ConstraintCategory, ImprovementAction
from analysis.views import SERVICE_ERRORS, form_error
from requests_app import permissions
from requests_app.models import Customer, FeasibilityRequest, Priority, Product
from requests_app.roles import SignedInRequest
from requests_app.selectors import get_request_for


class PrecedentQueryForm(forms.Form):
    """What the filing form knows so far (every field optional; a draft may have little)."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.all(), required=False)
    product = forms.ModelChoiceField(queryset=Product.objects.all(), required=False)
    part_description = forms.CharField(max_length=200, required=False)
    quantity = forms.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(max_length=2000, required=False)
    # Or an existing request, as its page shows it (the other fields are then ignored).
    request = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)

    def draft(self) -> precedents.Draft:
        d = self.cleaned_data
        product = d["product"]
        part = f"{product.sku} {product.name} " if product else ""
        return precedents.Draft(
            customer_id=d["customer"].pk if d["customer"] else None, product_id=product.pk if product else None,
            part=part + d["part_description"], quantity=d["quantity"], wording=f"{d['title']} {d['description']}",
        )


def precedent_json(p: precedents.Precedent) -> dict:
    """One precedent as the JSON endpoint gives it: only what the reader may read of it."""
    r = p.request
    return {
        "reference": r.reference, "url": r.get_absolute_url(), "title": r.title,
        "customer": r.customer.name if r.customer else "",
        "part": r.product.sku if r.product is not None else r.part_description, "quantity": str(r.quantity), "unit": r.unit,
        "answered_at": r.answered_at.isoformat() if r.answered_at else None, "score": p.score, "reasons": p.reasons,
        "decision": p.answer.decision if p.answer else None, "summary": p.answer.summary if p.answer else "",
        "alternatives": [
            {
                "quantity": str(alt.quantity), "delivery_date": alt.delivery_date.isoformat(),
                "price": None if alt.price is None else str(alt.price), "currency": alt.currency,
                "conditions": alt.conditions, "works_around": alt.works_around.label if alt.works_around else None,
                "accepted": alt.accepted_at is not None,
                **({"cost_delta": None if alt.cost_delta is None else str(alt.cost_delta),
                    "cost_basis": alt.cost_basis, "cost_currency": alt.cost_currency} if p.internals else {}),
            }
            for alt in p.alternatives
        ],
        "constraints": p.constraints,
        "departments": [
            {
                "department": a.department.name, "verdict": a.verdict,
                **({"notes": a.notes, "cost_impact": None if a.cost_impact is None else str(a.cost_impact)}
                   if p.internals else {}),
            }
            for a in p.assessments
        ],
        "outcome": r.outcome or None,
    }


@login_required
def precedents_lookup(request: SignedInRequest) -> HttpResponse:
    """Similar earlier requests for what the filing form holds so far: JSON, or the panel's HTML
    (`format=html`, what the form shows as the rep types)."""
    permissions.require(request.user, "s2o.view_precedents")
    form = PrecedentQueryForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    req = None
    if form.cleaned_data["request"]:
        req = get_request_for(request.user, form.cleaned_data["request"])
        if not precedents.shown_to(request.user, req):
            raise permissions.NotAllowed("Similar earlier requests are shown while a request is drafted or analysed.")
        draft = precedents.Draft.of(req)
    else:
        draft = form.draft()
    found = precedents.precedents_for(user=request.user, draft=draft, now=timezone.now())
    context = {"precedents": found, "asked": not draft.is_empty}
    if request.GET.get("format") == "html":
        return render(request, "analysis/_precedents.html", context)
    if request.GET.get("format") == "page" and req is not None:
        return _panel_page(request, req, "analysis/_precedents.html", "Similar earlier requests", context)
    return JsonResponse({"precedents": [precedent_json(p) for p in found]})


def _panel_page(request: HttpRequest, req: FeasibilityRequest, panel: str, heading: str, context: dict) -> HttpResponse:
    """A request page's panel on a page of its own (what its link shows without script)."""
    return render(request, "analysis/panel_page.html", {**context, "req": req, "panel": panel, "heading": heading})


class ForecastQueryForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices, required=False)
    product = forms.ModelChoiceField(queryset=Product.objects.all(), required=False)
    # Or an existing draft, as its page shows it (the other fields are then ignored).
    request = forms.IntegerField(min_value=1, max_value=2**31 - 1, required=False)


@login_required
def forecast_lookup(request: SignedInRequest) -> HttpResponse:
    """When to expect the acknowledgement and the answer for what the filing form holds, if filed now."""
    permissions.require(request.user, "s2o.view_precedents")
    form = ForecastQueryForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    req = None
    if form.cleaned_data["request"]:
        req = draft = get_request_for(request.user, form.cleaned_data["request"])
        if not forecasts.shown_to(request.user, req):
            raise permissions.NotAllowed("The forecast is shown to the author of a draft.")
    else:
        product = form.cleaned_data["product"]
        draft = FeasibilityRequest(priority=form.cleaned_data["priority"] or Priority.NORMAL,
                                   product_id=product.pk if product else None)
    context = {"forecast": forecasts.forecast_for_request(draft, now=timezone.now()), "filed_now": True}
    if request.GET.get("format") == "page" and req is not None:
        return _panel_page(request, req, "analysis/_forecast.html", "When to expect an answer", context)
    return render(request, "analysis/_forecast.html", context)


# ---------------------------------------------------------------------------------------------
# Improvement actions


@login_required
def improvements_page(request: HttpRequest) -> HttpResponse:
    """The Pareto of the last 90 days with each constraint's open actions, then every action."""
    permissions.require(request.user, "s2o.view_improvements")
    rows = metrics.pareto(metrics.DashboardFilter.default(today=timezone.localdate()))
    open_by = improvements.open_actions_by_constraint()
    listed = {row.code for row in rows}
    extra = ConstraintCategory.objects.filter(code__in=set(open_by) - listed)
    constraints: list[tuple[str, str, ParetoRow | None, list[ImprovementAction]]] = [
        (row.code, row.label, row, open_by.get(row.code, [])) for row in rows
    ]
    constraints += [(c.code, c.label, None, open_by[c.code]) for c in extra]
    actions = ImprovementAction.objects.select_related("constraint", "owner")[:200]
    context = {"constraints": constraints, "actions": actions,
               "can_manage": permissions.allowed(request.user, "s2o.manage_improvements")}
    return render(request, "analysis/improvements.html", context)


@login_required
def improvement_new(request: SignedInRequest) -> HttpResponse:
    permissions.require(request.user, "s2o.manage_improvements")
    if not request.GET.get("constraint"):
        messages.info(request, "Pick the constraint the action is about: each row of the Pareto has its own button.")
        return redirect("analysis:improvements")
    constraint = get_object_or_404(ConstraintCategory, code=request.GET["constraint"])
    now = timezone.now()
    since = now - timedelta(days=improvements.WINDOW_DAYS)
    suggested = improvements.requests_citing(constraint, since=since)
    initial = {
        "title": f"Reduce {constraint.label.lower()} blocks", "target_date": timezone.localdate(now) + timedelta(days=90),
        "departments": improvements.departments_citing(constraint, since=since), "requests": suggested,
        "owner": request.user.pk,
    }
    form = ActionForm(request.POST or None, initial=initial, suggested=suggested)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            action = improvements.action_open(
                actor=request.user, constraint=constraint, title=d["title"], owner=d["owner"],
                target_date=d["target_date"], expected_effect=d["expected_effect"], departments=list(d["departments"]),
                request_ids=[r.pk for r in d["requests"]], now=now,
            )
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Action opened on {constraint.label.lower()}.")
            return redirect(action.get_absolute_url())
    return render(request, "analysis/improvement_form.html", {"form": form, "constraint": constraint,
                                                              "suggested": len(suggested)})


@login_required
def improvement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require(request.user, "s2o.view_improvements")
    action = get_object_or_404(ImprovementAction.objects.select_related("constraint", "owner", "created_by"), pk=pk)
    return _detail(request, action, MoveForm(initial={"version": action.version}))


def _detail(request: HttpRequest, action: ImprovementAction, form: MoveForm, status: int = 200) -> HttpResponse:
    context = {
        "action": action, "form": form, "moves": sorted(improvements.MOVES[action.status]),
        "events": action.events.select_related("actor"),
        "linked": action.requests.select_related("customer").order_by("-submitted_at"),
        "departments": action.departments.order_by("name"),
        "effect": improvements.effect(action, now=timezone.now()), "min_count": improvements.MIN_COUNT,
        "can_manage": permissions.allowed(request.user, "s2o.manage_improvements"),
    }
    return render(request, "analysis/improvement_detail.html", context, status=status)


@login_required
@require_POST
def improvement_move(request: SignedInRequest, pk: int) -> HttpResponse:
    permissions.require(request.user, "s2o.manage_improvements")
    action = get_object_or_404(ImprovementAction.objects.select_related("constraint", "owner", "created_by"), pk=pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            moved = improvements.action_move(action_id=action.pk, actor=request.user, to=d["to"], note=d["note"],
                                             expected_version=d["version"])
        except SERVICE_ERRORS as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"The action is now {moved.get_status_display().lower()}.")
            return redirect(moved.get_absolute_url())
    action.refresh_from_db()
    return _detail(request, action, form, status=400)
