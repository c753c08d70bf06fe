"""The "now" lists: requests breached now and those due in the next 24 business hours."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, CharField, DateTimeField, F, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from analysis.metrics.figures import ListedRequest
from analysis.metrics.filters import DashboardFilter, requests_in
from requests_app.models import FeasibilityRequest, Status

LIST_LIMIT = 50


def breached_and_at_risk(
    f: DashboardFilter, *, now: datetime, soon: datetime
) -> tuple[list[ListedRequest], list[ListedRequest]]:
    """Both lists in one query: the first LIST_LIMIT of each, most overdue / soonest due first.

    The rows are picked by id in a subquery that the small partial index `req_running_clock_idx`
    answers alone (status and due times included), and only those rows are read with their titles
    and customers: read together, the period's running requests (~7k at a million) were each
    fetched from the table to be ranked."""
    running_due = Case(
        When(status=Status.SUBMITTED, then=F("acknowledge_due")),
        When(status=Status.IN_ANALYSIS, then=F("answer_due")),
        output_field=DateTimeField(),
    )
    kind = Case(When(running_due__lt=now, then=Value("breached")), default=Value("at_risk"), output_field=CharField())
    picked = (
        requests_in(f, f.start, f.end)
        .filter(status__in=[Status.SUBMITTED, Status.IN_ANALYSIS])
        .alias(running_due=running_due)
        .filter(running_due__lte=soon)
        .annotate(due=running_due, kind=kind)
        .annotate(rank=Window(RowNumber(), partition_by=[F("kind")], order_by=[F("due").asc(), F("id").asc()]))
        .filter(rank__lte=LIST_LIMIT)
        .values("id")
    )
    qs = (
        FeasibilityRequest.objects.filter(pk__in=picked).order_by()
        .alias(running_due=running_due)
        .annotate(due=running_due, kind=kind)
        .values("id", "reference", "title", "customer__name", "status", "priority", "due", "kind")
    )
    breached: list[ListedRequest] = []
    at_risk: list[ListedRequest] = []
    labels = dict(Status.choices)
    for r in sorted(qs, key=lambda r: (r["due"], r["id"])):
        item = ListedRequest(
            pk=r["id"], reference=r["reference"] or "", title=r["title"], customer=r["customer__name"],
            status=labels.get(r["status"], r["status"]), priority=r["priority"],
            clock="acknowledge" if r["status"] == Status.SUBMITTED else "answer", due=r["due"],
            url=reverse("requests_app:detail", args=[r["id"]]),  # no model instance per row
        )
        (breached if r["kind"] == "breached" else at_risk).append(item)
    return breached, at_risk
