"""The "My requests" filter: the same FilterSet drives the page and its CSV export."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from requests_app.models import Customer, FeasibilityRequest, Priority, Status

# Whitelisted sort keys: (query value, ORM ordering, label). Anything else falls back to the default.
SORTS = [
    ("-submitted", ("-submitted_at", "-id"), "Newest first"),
    ("submitted", ("submitted_at", "id"), "Oldest first"),
    ("answer_due", ("answer_due", "id"), "Answer due (soonest)"),
    ("-answer_due", ("-answer_due", "-id"), "Answer due (latest)"),
    ("reference", ("reference", "id"), "Reference"),
    ("customer", ("customer__name", "id"), "Customer"),
    ("priority", ("priority", "id"), "Priority"),
    ("status", ("status", "id"), "Status"),
    ("-deal_value", ("-deal_value", "-id"), "Deal value (largest)"),
]
SORT_ORDER = {key: order for key, order, _ in SORTS}


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Reference, title, customer, part…"})
    )
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, widget=forms.SelectMultiple(attrs={"size": 3}))
    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.all())
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    submitted_from = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", label="Submitted from", widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", label="Submitted to", widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = django_filters.ChoiceFilter(choices=[(key, label) for key, _, label in SORTS], method="sort_by", label="Sort")

    class Meta:
        model = FeasibilityRequest
        fields = ["q", "status", "customer", "priority", "submitted_from", "submitted_to", "sort"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(product__sku__icontains=value)
            | Q(product__name__icontains=value)
            | Q(part_description__icontains=value)
        )

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORT_ORDER.get(value, ("-submitted_at", "-id")))
