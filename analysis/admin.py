"""Admin for Operations' records. Departments and teams are registered by requests_app; SLA policies and
calendars by admin_sla."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from analysis import (
    admin_sla,  # noqa: F401  (SLA policies and calendars)
    rollups,
)
from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, ReminderLedger

if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin  # mixed into model admins only
else:
    _AdminBase = object


@admin.register(ConstraintCategory)
class ConstraintCategoryAdmin(admin.ModelAdmin):
    """Labels and order are editable; codes are what metrics group by, so they stay fixed."""

    list_display = ["label", "code", "sort_order"]
    list_editable = ["sort_order"]
    ordering = ["sort_order", "code"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return ["code"] if obj is not None else []


class RefreshesConstraintHits(_AdminBase):
    """Admin edits bypass the services, so they refresh the Pareto's rollup themselves
    (analysis.rollups), in the admin's transaction: after the related objects (constraints,
    alternatives) are saved, and for every request touched by a deletion or a change of request."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Moved to another request (raw id field): the old request loses these hits. Kept on the
        # object, not on this admin, which every thread shares.
        obj._hits_also_refresh = form.initial.get("request") if change and "request" in form.changed_data else None
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        rollups.refresh_constraint_hits([pk for pk in (obj.request_id, getattr(obj, "_hits_also_refresh", None)) if pk])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        request_id = obj.request_id
        super().delete_model(request, obj)
        rollups.refresh_constraint_hits([request_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        request_ids = list(queryset.values_list("request_id", flat=True))
        super().delete_queryset(request, queryset)
        rollups.refresh_constraint_hits(request_ids)


@admin.register(Assessment)
class AssessmentAdmin(RefreshesConstraintHits, SimpleHistoryAdmin):
    list_display = ["request", "department", "verdict", "due_at", "assessed_at", "met"]
    list_filter = ["department", "verdict", "met"]
    search_fields = ["request__reference", "request__title"]
    raw_id_fields = ["request", "owner", "assessed_by"]
    filter_horizontal = ["constraints"]
    list_select_related = ["request", "department"]

    # What the clocks and the dashboard derive (routing, due time, completion, met): set by the
    # services only, shown here read-only.
    derived_fields = ["routed_at", "due_at", "sla_policy", "assessed_by", "assessed_at", "assessment_seconds", "met",
                      "next_reminder_at", "version"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # An assessment belongs to the request it was routed for (its clock and the dashboard's copy
        # of the request's submission time depend on it); only a new one picks its request.
        return ["request", *self.derived_fields] if obj is not None else self.derived_fields


class AlternativeInline(admin.TabularInline):
    model = Alternative
    extra = 0
    raw_id_fields = ["accepted_by"]
    fields = ["position", "quantity", "delivery_date", "price", "currency", "cost_delta", "cost_basis", "cost_currency",
              "conditions", "works_around", "recommended", "accepted_at", "accepted_by"]
    readonly_fields = ["accepted_at", "accepted_by"]  # Sales' decision, recorded by the decision services


@admin.register(Answer)
class AnswerAdmin(RefreshesConstraintHits, SimpleHistoryAdmin):
    list_display = ["request", "number", "decision", "published_at", "superseded_at"]
    list_filter = ["decision"]
    search_fields = ["request__reference", "request__title"]
    raw_id_fields = ["request", "composed_by"]
    # Publication feeds the answer clock and the dashboard: set by `answer_publish` only.
    readonly_fields = ["number", "published_by", "published_at", "superseded_at", "version"]
    inlines = [AlternativeInline]
    list_select_related = ["request"]


@admin.register(ReminderLedger)
class ReminderLedgerAdmin(admin.ModelAdmin):
    """The exactly-once record of reminders and escalations: read-only evidence."""

    list_display = ["due_at", "request", "clock", "scope", "kind", "seq", "sent_at", "attempts", "next_attempt_at",
                    "failed_at", "last_error"]
    list_filter = ["clock", "kind", ("failed_at", admin.EmptyFieldListFilter), ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["request__reference", "scope", "last_error"]
    list_select_related = ["request"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
