"""Managers' exchange rates page: what is in force, and a CSV upload checked before it is saved.

Two steps: "Check" reads the file and shows every row as understood, with its errors; nothing is
saved. "Save" sends the same file back (carried in the form, not kept on the server) and stores it
in one transaction, only if it still has no error at all.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from requests_app import exchange_rates, permissions
from requests_app.roles import SignedInRequest


class RatesUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Columns currency,valid_from,rate; one rate per line.")


def _decode_carried(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        return None


@login_required
def exchange_rates_page(request: SignedInRequest) -> HttpResponse:
    permissions.require(request.user, "s2o.manage_exchange_rates")
    today = timezone.localdate()
    form = RatesUploadForm()
    result, carried = None, ""
    if request.method == "POST":
        if request.POST.get("action") == "save":
            data = _decode_carried(request.POST.get("content", ""))
            if data is None:
                messages.error(request, "The checked file did not come back intact: upload it again.")
                return redirect("analysis:exchange_rates")
        else:
            form = RatesUploadForm(request.POST, request.FILES)
            if not form.is_valid():
                return _render(request, form, None, "", today, status=400)
            data = form.cleaned_data["file"].read(exchange_rates.MAX_BYTES + 1)
        save = request.POST.get("action") == "save"
        result = exchange_rates.exchange_rates_import(actor=request.user, data=data, today=today, save=save)
        if result.saved:
            messages.success(request, f"{len(result.rows)} exchange rate{'s' if len(result.rows) != 1 else ''} saved.")
            return redirect("analysis:exchange_rates")
        carried = base64.b64encode(data).decode("ascii") if result.ok else ""
    return _render(request, form, result, carried, today, status=400 if result and not result.ok else 200)


def _render(request: HttpRequest, form: RatesUploadForm, result: exchange_rates.RateImport | None, carried: str,
            today: date, status: int = 200) -> HttpResponse:
    return render(request, "analysis/exchange_rates.html", {
        "form": form, "result": result, "carried": carried,
        "reporting_currency": exchange_rates.reporting_currency(),
        "current": exchange_rates.current_rates(today),
        "recent": exchange_rates.recent_rates(),
    }, status=status)
