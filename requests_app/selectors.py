"""Reads: who may see which request, and the queries pages are built from."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from requests_app import roles
from requests_app.models import FeasibilityRequest, Status


def request_scope_q(user) -> Q:
    """The one scoping rule for requests (shared/RELIABILITY.md rule 8).

    - leads and managers: every submitted request;
    - sales: their own (drafts included) and their teams' submitted requests;
    - operations members: submitted requests routed to one of their departments.
    A user with no role sees nothing.
    """
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    submitted = ~Q(status=Status.DRAFT)
    scope = Q(requested_by=user)
    if roles.sees_everything(user):
        scope |= submitted
    if roles.is_sales(user):
        scope |= submitted & Q(sales_team__members=user)
    if roles.is_ops(user):
        routed_ids = FeasibilityRequest.objects.filter(assessments__department__members=user).values("pk")
        scope |= submitted & Q(pk__in=routed_ids)
    return scope


def visible_requests(user):
    return FeasibilityRequest.objects.visible_to(user)


def get_request_for(user, pk: int) -> FeasibilityRequest:
    """Fetch one request the user may see, or 404 (never 403: ids must not leak)."""
    try:
        return visible_requests(user).select_related("customer", "product", "requested_by", "sales_team").get(pk=pk)
    except (FeasibilityRequest.DoesNotExist, ValueError, TypeError):
        raise Http404("No such request.") from None


def unread_notification_count(user) -> int:
    from requests_app.models import Notification

    return Notification.objects.filter(user=user, read_at__isnull=True).count()
