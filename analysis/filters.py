"""Operations' queue filters (django-filter): triage and the department queue share one FilterSet.

The queues stay constant-cost however many requests are open: each filter is an indexed column
or a subquery on one (no join that multiplies rows), the due state is the clock state's own SQL
(`requests_app.selectors.clock_status_q`), and pages never count the whole set (`paging`)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from analysis.models import Assessment
from analysis.selectors import assessment_status_q
from requests_app import pickers
from requests_app import search as request_search
from requests_app.filters import PickerFilter
from requests_app.models import Department, FeasibilityRequest, Priority
from requests_app.roles import SignedInRequest
from requests_app.selectors import DUE_STATES, clock_status_q

SORTS = [("due", "Due soonest first"), ("-due", "Due latest first"), ("-submitted", "Newest first")]


class QueueFilter(django_filters.FilterSet):
    """Filters over requests. The view applies them to the queue's own base set and orders each
    section by `sort` (`analysis.selectors.queue_order`)."""

    q = django_filters.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Reference, title, customer, part, words…"})
    )
    priority = django_filters.ChoiceFilter(choices=Priority.choices, empty_label="Any priority")
    # Searched as the user types (`requests_app.pickers`): no <select> of every customer.
    customer = PickerFilter(field_name="customer", source=pickers.CUSTOMERS, label="Customer")
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name"), method="routed_to", label="Department", empty_label="Any department"
    )
    due = django_filters.ChoiceFilter(choices=DUE_STATES, method="due_state", label="Due state", empty_label="Any")
    sort = django_filters.ChoiceFilter(choices=SORTS, method="keep", label="Sort", empty_label=None)

    class Meta:
        model = FeasibilityRequest
        fields = ["q", "priority", "customer", "department", "due", "sort"]

    def search(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """Full-text search (`requests_app.search`), with the department notes for Operations."""
        return request_search.search_requests(queryset, value, user=getattr(self.request, "user", None))

    def routed_to(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(pk__in=Assessment.objects.filter(department=value).values("request_id"))

    def due_state(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(clock_status_q(value, now=timezone.now()))

    def keep(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset  # ordering is per section: see `sort_key`

    @property
    def sort_key(self) -> str:
        form = self.form
        value = form.cleaned_data.get("sort") if form.is_valid() else ""
        return value or "due"


def _my_departments(request: SignedInRequest | None) -> QuerySet[Department]:
    return Department.objects.filter(members=request.user).order_by("name") if request else Department.objects.none()


class DepartmentQueueFilter(django_filters.FilterSet):
    """The department queue's filters, over assessments: the same search, priority and customer as
    triage; the department among the user's own; the due state of the department's clock
    (`analysis.selectors.assessment_status_q`)."""

    q = django_filters.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Reference, title, customer, part, words…"})
    )
    priority = django_filters.ChoiceFilter(field_name="request__priority", choices=Priority.choices, empty_label="Any priority")
    customer = PickerFilter(field_name="request__customer", source=pickers.CUSTOMERS, label="Customer")
    department = django_filters.ModelChoiceFilter(queryset=_my_departments, empty_label="All my departments")
    due = django_filters.ChoiceFilter(choices=DUE_STATES, method="due_state", label="Due state", empty_label="Any")
    sort = django_filters.ChoiceFilter(choices=SORTS, method="keep", label="Sort", empty_label=None)

    class Meta:
        model = Assessment
        fields = ["q", "priority", "customer", "department", "due", "sort"]

    def search(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """The same full-text search as triage, over the assessments' requests."""
        condition = request_search.search_q(value, user=getattr(self.request, "user", None))
        if condition is None:
            return queryset
        return queryset.filter(request__in=FeasibilityRequest.objects.filter(condition).values("pk"))

    def due_state(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(assessment_status_q(value, now=timezone.now()))

    def keep(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset

    @property
    def sort_key(self) -> str:
        form = self.form
        value = form.cleaned_data.get("sort") if form.is_valid() else ""
        return value or "due"
