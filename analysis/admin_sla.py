"""Admin for SLA policies, business calendars and company closures, with the same validation as
the managers' screens (analysis.forms_sla). Imported by analysis/admin.py."""

from __future__ import annotations

from django.contrib import admin

from analysis.forms_sla import BusinessCalendarForm, ClosureForm, SlaPolicyForm
from requests_app.models import BusinessCalendar, CompanyClosure, SlaPolicy


class ClosureInline(admin.TabularInline):
    model = CompanyClosure
    form = ClosureForm
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ["name", "time_zone", "holiday_country", "holiday_subdivision", "is_default"]
    inlines = [ClosureInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = ["priority", "acknowledge_hours", "answer_hours", "max_answer_hours", "reminder_thresholds",
                    "escalation_interval_hours", "department_share"]

    def has_add_permission(self, request) -> bool:
        return False  # one policy per priority, seeded by post_migrate

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
