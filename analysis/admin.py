"""Admin for Operations' records. Departments and teams are registered by requests_app; SLA policies and
calendars by admin_sla."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from analysis import admin_sla  # noqa: F401  (SLA policies and calendars)
from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, ReminderLedger


@admin.register(ConstraintCategory)
class ConstraintCategoryAdmin(admin.ModelAdmin):
    """Labels and order are editable; codes are what metrics group by, so they stay fixed."""

    list_display = ["label", "code", "sort_order"]
    list_editable = ["sort_order"]
    ordering = ["sort_order", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []


@admin.register(Assessment)
class AssessmentAdmin(SimpleHistoryAdmin):
    list_display = ["request", "department", "verdict", "due_at", "assessed_at", "met"]
    list_filter = ["department", "verdict", "met"]
    search_fields = ["request__reference", "request__title"]
    raw_id_fields = ["request", "owner", "assessed_by"]
    filter_horizontal = ["constraints"]
    list_select_related = ["request", "department"]


class AlternativeInline(admin.TabularInline):
    model = Alternative
    extra = 0
    raw_id_fields = ["accepted_by"]
    fields = ["position", "quantity", "delivery_date", "price", "cost_delta", "currency", "conditions", "works_around",
              "recommended", "accepted_at", "accepted_by"]


@admin.register(Answer)
class AnswerAdmin(SimpleHistoryAdmin):
    list_display = ["request", "number", "decision", "published_at", "superseded_at"]
    list_filter = ["decision"]
    search_fields = ["request__reference", "request__title"]
    raw_id_fields = ["request", "composed_by", "published_by"]
    inlines = [AlternativeInline]
    list_select_related = ["request"]


@admin.register(ReminderLedger)
class ReminderLedgerAdmin(admin.ModelAdmin):
    """The exactly-once record of reminders and escalations: read-only evidence."""

    list_display = ["due_at", "request", "clock", "scope", "kind", "seq", "sent_at", "attempts"]
    list_filter = ["clock", "kind"]
    search_fields = ["request__reference", "scope"]
    list_select_related = ["request"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
