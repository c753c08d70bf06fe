"""Managers' SLA screens: policies per priority, business calendars and their closures.

Managers only (403 for everyone else, DESIGN.md "Manager: edit SLA policies and calendars").
Changes apply to clocks started afterwards; running clocks keep the due times they were given.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from analysis.forms_sla import BusinessCalendarForm, ClosureForm, SlaPolicyForm
from requests_app import roles
from requests_app.models import BusinessCalendar, CompanyClosure, SlaPolicy


def manager_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.is_manager(request.user):
            raise PermissionDenied("SLA policies and calendars are edited by managers.")
        return view(request, *args, **kwargs)

    return wrapper


@manager_required
def sla_policies(request):
    context = {
        "policies": SlaPolicy.objects.all(),
        "calendars": BusinessCalendar.objects.prefetch_related("closures"),
    }
    return render(request, "analysis/sla_policies.html", context)


@manager_required
def sla_policy_edit(request, pk: int):
    policy = get_object_or_404(SlaPolicy, pk=pk)
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{policy} saved. It applies to clocks started from now on.")
        return redirect("analysis:sla_policies")
    return render(request, "analysis/sla_policy_form.html", {"form": form, "policy": policy})


@manager_required
def sla_calendar_edit(request, pk: int | None = None):
    calendar = get_object_or_404(BusinessCalendar, pk=pk) if pk else BusinessCalendar()
    form = BusinessCalendarForm(request.POST or None, instance=calendar)
    if request.method == "POST" and form.is_valid():
        calendar = form.save()
        messages.success(request, f"Calendar “{calendar}” saved.")
        return redirect("analysis:sla_calendar_edit", pk=calendar.pk)
    closure_form = ClosureForm() if calendar.pk else None
    return render(
        request, "analysis/sla_calendar_form.html", {"form": form, "calendar": calendar, "closure_form": closure_form}
    )


@manager_required
def sla_closure_add(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    closure_form = ClosureForm(request.POST or None, instance=CompanyClosure(calendar=calendar))
    if request.method == "POST" and closure_form.is_valid():
        closure_form.save()
        messages.success(request, "Closure added: clocks will not count those days.")
        return redirect("analysis:sla_calendar_edit", pk=calendar.pk)
    form = BusinessCalendarForm(instance=calendar)
    return render(
        request, "analysis/sla_calendar_form.html", {"form": form, "calendar": calendar, "closure_form": closure_form}
    )


@manager_required
@require_POST
def sla_closure_delete(request, pk: int, closure_pk: int):
    with transaction.atomic():
        deleted, _ = CompanyClosure.objects.filter(pk=closure_pk, calendar_id=pk).delete()
    if deleted:
        messages.success(request, "Closure removed.")
    return redirect("analysis:sla_calendar_edit", pk=pk)
