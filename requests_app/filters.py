"""The "My requests" filter: the same FilterSet drives the page and its CSV export."""

from __future__ import annotations

import django_filters
from django import forms

from requests_app import roles, search
from requests_app.models import Customer, FeasibilityRequest, Priority, Status
from requests_app.selectors import AWAITING_OPERATIONS, AWAITING_SALES

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
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Reference, title, customer, part, words…"})
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
    scope = django_filters.ChoiceFilter(
        choices=[("mine", "Mine"), ("team", "My teammates'")], method="filter_scope", label="Whose",
        empty_label="Mine and my team's",
    )
    waiting_on = django_filters.ChoiceFilter(
        choices=[("sales", "Sales (a question or an answer)"), ("operations", "Operations")], method="filter_waiting_on",
        label="Waiting on", empty_label="Anyone",
    )
    sort = django_filters.ChoiceFilter(choices=[(key, label) for key, _, label in SORTS], method="sort_by", label="Sort")

    class Meta:
        model = FeasibilityRequest
        fields = ["q", "status", "customer", "priority", "submitted_from", "submitted_to", "scope", "waiting_on", "sort"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if not roles.is_sales(user):  # "mine / my team's" means something to Sales only
            del self.filters["scope"]

    def filter_scope(self, queryset, name, value):
        user = self.request.user
        if value == "mine":
            return queryset.filter(requested_by=user)
        if value == "team":
            return queryset.filter(sales_team__in=user.sales_teams.values("pk")).exclude(requested_by=user)
        return queryset

    def filter_waiting_on(self, queryset, name, value):
        if value == "sales":
            return queryset.filter(status__in=AWAITING_SALES)
        if value == "operations":
            return queryset.filter(status__in=AWAITING_OPERATIONS)
        return queryset

    def search(self, queryset, name, value):
        """Full-text search (`requests_app.search`): what the user may read of the requests they see."""
        user = getattr(self.request, "user", None)
        return search.search_requests(queryset, value, user=user)

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORT_ORDER.get(value, ("-submitted_at", "-id")))
