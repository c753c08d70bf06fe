"""Admin for SLA policies, business calendars and company closures. Policies and the change log are
read-only here (the managers' SLA pages write them through `requests_app.services_sla`);
calendars use the validation of the managers' screens (analysis.forms_sla). Imported by
analysis/admin.py."""

from __future__ import annotations

from django.contrib import admin

from analysis.forms_sla import BusinessCalendarForm, ClosureForm
from requests_app.models import BusinessCalendar, CompanyClosure, SlaChange, SlaPolicy


class ClosureInline(admin.TabularInline):
    model = CompanyClosure
    form = ClosureForm
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ["name", "time_zone", "holiday_country", "holiday_subdivision", "is_default"]
    inlines = [ClosureInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here: every change goes through `requests_app.services_sla` (the
    managers' SLA pages), which checks the rulebook and records who changed what."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyAdmin):
    list_display = ["priority", "version", "acknowledge_hours", "answer_hours", "max_answer_hours", "reminder_thresholds",
                    "escalation_interval_hours", "department_share", "created_at", "created_by", "retired_at"]
    list_filter = ["priority"]


@admin.register(SlaChange)
class SlaChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "subject", "summary"]
    list_filter = ["subject"]
    list_select_related = ["actor"]
