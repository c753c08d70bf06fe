"""Admin for SLA policies, business calendars and company closures: shown, never written here.
Every change goes through `requests_app.services_sla` (the managers' SLA pages), which validates
a calendar as a whole with its closures, records who changed what, and lets the caches that hold
reference data know. Imported by analysis/admin.py."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from requests_app.models import BusinessCalendar, CompanyClosure, SlaChange, SlaPolicy


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here: every change goes through `requests_app.services_sla` (the
    managers' SLA pages), which checks the rulebook and records who changed what."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ClosureInline(admin.TabularInline):
    model = CompanyClosure
    fields = ["start_date", "end_date", "reason"]
    readonly_fields = fields  # type: ignore[assignment]  # the same names; the stubs type the two lists apart
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ReadOnlyAdmin):
    list_display = ["name", "time_zone", "holiday_country", "holiday_subdivision", "is_default"]
    inlines = [ClosureInline]


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
