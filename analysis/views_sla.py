"""Managers' SLA screens: policies per priority, business calendars and their closures.

Managers only (403 for everyone else, DESIGN.md "Manager: edit SLA policies and calendars").
Every change goes through `requests_app.services_sla` and is listed on the policies page. A policy
edit creates a new version for clocks started afterwards; running clocks keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from analysis.forms_sla import BusinessCalendarForm, ClosureForm, SlaPolicyForm
from requests_app import permissions, services_sla
from requests_app.lifecycle import ConflictError
from requests_app.models import BusinessCalendar, CompanyClosure, SlaChange, SlaPolicy
from requests_app.roles import SignedInRequest

CHANGES_SHOWN = 50


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: SignedInRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        permissions.require(request.user, "s2o.manage_sla")
        return view(request, *args, **kwargs)

    return wrapper


@manager_required
def sla_policies(request: SignedInRequest) -> HttpResponse:
    context = {
        "policies": SlaPolicy.objects.current(),
        "calendars": BusinessCalendar.objects.prefetch_related("closures"),
        "changes": SlaChange.objects.select_related("actor")[:CHANGES_SHOWN],
    }
    return render(request, "analysis/sla_policies.html", context)


def _refusal_on_form(form: forms.BaseForm, exc: Exception) -> None:
    """A service's refusal next to the field it concerns (or at the top), the input kept."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))


@manager_required
def sla_policy_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk)
    if policy.retired_at is not None and request.method != "POST":
        return redirect("analysis:sla_policy_edit", pk=SlaPolicy.objects.current().get(priority=policy.priority).pk)
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services_sla.sla_policy_update(actor=request.user, policy_id=policy.pk, values=form.cleaned_data)
        except (ValidationError, ConflictError) as exc:
            _refusal_on_form(form, exc)
        else:
            if saved.pk == policy.pk:
                messages.info(request, f"{policy.get_priority_display()} policy unchanged.")
            else:
                messages.success(request, f"{saved} saved. It applies to clocks started from now on; running clocks keep "
                                          f"version {policy.version}.")
            return redirect("analysis:sla_policies")
    history = SlaPolicy.objects.filter(priority=policy.priority).select_related("created_by")
    return render(request, "analysis/sla_policy_form.html", {"form": form, "policy": policy, "versions": history})


@manager_required
def sla_calendar_edit(request: SignedInRequest, pk: int | None = None) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk) if pk else BusinessCalendar()
    form = BusinessCalendarForm(request.POST or None, instance=calendar)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = services_sla.calendar_save(actor=request.user, calendar_id=pk, values=form.cleaned_data)
        except ValidationError as exc:
            _refusal_on_form(form, exc)
        else:
            messages.success(request, f"Calendar “{calendar}” saved.")
            return redirect("analysis:sla_calendar_edit", pk=calendar.pk)
    closure_form = ClosureForm() if calendar.pk else None
    return render(
        request, "analysis/sla_calendar_form.html", {"form": form, "calendar": calendar, "closure_form": closure_form}
    )


@manager_required
def sla_closure_add(request: SignedInRequest, pk: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    closure_form = ClosureForm(request.POST or None, instance=CompanyClosure(calendar=calendar))
    if request.method == "POST" and closure_form.is_valid():
        data = closure_form.cleaned_data
        try:
            services_sla.closure_add(
                actor=request.user, calendar_id=calendar.pk, start_date=data["start_date"], end_date=data["end_date"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            _refusal_on_form(closure_form, exc)
        else:
            messages.success(request, "Closure added: clocks will not count those days.")
            return redirect("analysis:sla_calendar_edit", pk=calendar.pk)
    form = BusinessCalendarForm(instance=calendar)
    return render(
        request, "analysis/sla_calendar_form.html", {"form": form, "calendar": calendar, "closure_form": closure_form}
    )


@manager_required
@require_POST
def sla_closure_delete(request: SignedInRequest, pk: int, closure_pk: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    if services_sla.closure_delete(actor=request.user, calendar_id=calendar.pk, closure_id=closure_pk):
        messages.success(request, "Closure removed.")
    return redirect("analysis:sla_calendar_edit", pk=pk)
