"""The learning loop's pages: similar earlier requests (precedents) while filing and analysing."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from analysis import precedents
from requests_app import permissions
from requests_app.models import Customer, Product


class PrecedentQueryForm(forms.Form):
    """What the filing form knows so far (every field optional; a draft may have little)."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.all(), required=False)
    product = forms.ModelChoiceField(queryset=Product.objects.all(), required=False)
    part_description = forms.CharField(max_length=200, required=False)
    quantity = forms.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(max_length=2000, required=False)

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
        "reference": r.reference, "url": r.get_absolute_url(), "title": r.title, "customer": r.customer.name,
        "part": r.product.sku if r.product_id else r.part_description, "quantity": str(r.quantity), "unit": r.unit,
        "answered_at": r.answered_at.isoformat() if r.answered_at else None, "score": p.score, "reasons": p.reasons,
        "decision": p.answer.decision if p.answer else None, "summary": p.answer.summary if p.answer else "",
        "alternatives": [
            {
                "quantity": str(alt.quantity), "delivery_date": alt.delivery_date.isoformat(),
                "price": None if alt.price is None else str(alt.price), "currency": alt.currency,
                "conditions": alt.conditions, "works_around": alt.works_around.label if alt.works_around else None,
                "accepted": alt.accepted_at is not None,
                **({"cost_delta": None if alt.cost_delta is None else str(alt.cost_delta)} if p.internals else {}),
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
def precedents_lookup(request: HttpRequest) -> HttpResponse:
    """Similar earlier requests for what the filing form holds so far: JSON, or the panel's HTML
    (`format=html`, what the form shows as the rep types)."""
    permissions.require(request.user, "s2o.view_precedents")
    form = PrecedentQueryForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    draft = form.draft()
    found = precedents.precedents_for(user=request.user, draft=draft, now=timezone.now())
    if request.GET.get("format") == "html":
        return render(request, "analysis/_precedents.html", {"precedents": found, "asked": not draft.is_empty})
    return JsonResponse({"precedents": [precedent_json(p) for p in found]})
