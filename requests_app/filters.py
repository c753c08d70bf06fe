"""The "My requests" filter: the same FilterSet drives the page and its CSV export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from requests_app import dates, paging, pickers, roles, search
from requests_app.models import FeasibilityRequest, Priority, Status
from requests_app.pickers import PickerField
from requests_app.selectors import AWAITING_OPERATIONS, AWAITING_SALES

# Whitelisted sort keys: (query value, ORM ordering, label). Anything else falls back to the default.
# Each ordering is an index's order (models.FeasibilityRequest.Meta.indexes), so a page of the list
# stops after its rows at any table size. Customer, priority and status are filters, not sorts:
# sorting by a joined name or a four-value column would sort the whole visible set on every view.
SORTS = [
    ("-submitted", ("-submitted_at", "-id"), "Newest first"),
    ("submitted", ("submitted_at", "id"), "Oldest first"),
    ("answer_due", ("answer_due", "id"), "Answer due (soonest)"),
    ("-answer_due", ("-answer_due", "-id"), "Answer due (latest)"),
    ("reference", ("reference",), "Reference"),
    ("-deal_value", ("-deal_value", "-id"), "Deal value (largest)"),
]
SORT_ORDER = {key: order for key, order, _ in SORTS}


class PickerFilter(django_filters.Filter):
    """A filter on a row picked by search (`pickers`): no <select> of every customer."""

    field_class = PickerField


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Reference, title, customer, part, words…"})
    )
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, widget=forms.SelectMultiple(attrs={"size": 3}))
    customer = PickerFilter(field_name="customer", source=pickers.CUSTOMERS, label="Customer")
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    # Days in the viewer's zone, compared as a range of instants (an index range), not `submitted_at::date`.
    submitted_from = django_filters.DateFilter(
        method="submitted_since", label="Submitted from", widget=forms.DateInput(attrs={"type": "date"}),
        validators=[dates.within_range],
    )
    submitted_to = django_filters.DateFilter(
        method="submitted_until", label="Submitted to", widget=forms.DateInput(attrs={"type": "date"}),
        validators=[dates.within_range],
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if not roles.is_sales(user):  # "mine / my team's" means something to Sales only
            del self.filters["scope"]

    def filter_scope(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        user = self.request.user
        if value == "mine":
            return queryset.filter(requested_by=user)
        if value == "team":
            return queryset.filter(sales_team__in=user.sales_teams.values("pk")).exclude(requested_by=user)
        return queryset

    def filter_waiting_on(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value == "sales":
            return queryset.filter(status__in=AWAITING_SALES)
        if value == "operations":
            return queryset.filter(status__in=AWAITING_OPERATIONS)
        return queryset

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Every filter and the sort, then the search, keeping the list as it was before the search
        (`unsearched`: `search.recent_matches` reads its first rows)."""
        data = self.form.cleaned_data
        for name, value in data.items():
            if name != "q":
                queryset = self.filters[name].filter(queryset, value)
        self.unsearched = queryset
        return self.filters["q"].filter(queryset, data.get("q"))

    def search(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """Full-text search (`requests_app.search`): what the user may read of the requests they see."""
        self.search_condition = search.search_q(value, user=getattr(self.request, "user", None))
        return queryset if self.search_condition is None else queryset.filter(self.search_condition)

    def first_matches(self) -> Callable[[int], paging.Head | None] | None:
        """How the list's first page of a search may be read cheaply (`paging.paginate`'s `head`), or None."""
        searched = self.qs  # filters (and sets what is read below) once
        condition = getattr(self, "search_condition", None)
        unsearched = getattr(self, "unsearched", None)
        if condition is None or unsearched is None:
            return None
        return search.recent_matches(unsearched, searched, condition)

    def submitted_since(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(submitted_at__gte=_start_of(value))

    def submitted_until(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(submitted_at__lt=_start_of(value + timedelta(days=1)))

    def sort_by(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.order_by(*SORT_ORDER.get(value, ("-submitted_at", "-id")))


def _start_of(day: date) -> datetime:
    """Midnight of `day` in the current (the viewer's) zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
