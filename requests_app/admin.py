from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX
from simple_history.admin import SimpleHistoryAdmin

from requests_app import exchange_rates

# SLA policies and business calendars are registered in analysis/admin_sla.py, with the validation
# of the managers' screens.
from requests_app.models import (
    Attachment,
    ClockEvent,
    Comment,
    Customer,
    Department,
    ExchangeRate,
    FeasibilityRequest,
    Notification,
    Pause,
    Product,
    Profile,
    ReferenceCounter,
    RequestEvent,
    SalesTeam,
)
from requests_app.resources import CustomerResource, ProductResource, SalesTeamResource


class ReadOnlyInline(admin.TabularInline):
    """History is written by the services only: shown here, never edited."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ["at", "kind", "actor", "from_status", "to_status", "message"]
    readonly_fields = fields  # type: ignore[assignment]  # the same names; the stubs type the two lists apart


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ["created_at", "author", "kind", "body"]
    readonly_fields = fields  # type: ignore[assignment]  # the same names; the stubs type the two lists apart


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["uploaded_at", "original_name", "content_type", "size", "uploaded_by"]
    readonly_fields = fields  # type: ignore[assignment]  # the same names; the stubs type the two lists apart


class PauseInline(ReadOnlyInline):
    model = Pause
    fields = ["started_at", "ended_at", "business_seconds"]
    readonly_fields = fields  # type: ignore[assignment]  # the same names; the stubs type the two lists apart


@admin.register(FeasibilityRequest)
class FeasibilityRequestAdmin(admin.ModelAdmin):
    """Status, milestones and clocks change only through the lifecycle: read-only here."""

    list_display = ["reference", "title", "customer", "status", "outcome", "priority", "requested_by", "submitted_at"]
    list_filter = ["status", "outcome", "priority", "currency", "sales_team"]
    search_fields = ["reference", "title", "customer__name", "product__sku", "product__name", "requested_by__username"]
    list_select_related = ["customer", "requested_by"]
    date_hierarchy = "submitted_at"
    raw_id_fields = ["customer", "product", "requested_by"]
    readonly_fields = [
        "reference", "status", "outcome", "outcome_reason", "created_at", "submitted_at", "acknowledge_due", "acknowledged_at",
        "answer_due", "answer_due_policy", "answered_at", "closed_at", "paused_since", "paused_seconds", "acknowledge_seconds",
        "answer_seconds", "acknowledge_met", "answer_met", "next_reminder_at", "version", "submit_token", "updated_at",
    ]
    inlines = [EventInline, CommentInline, AttachmentInline, PauseInline]


@admin.register(RequestEvent)
class RequestEventAdmin(admin.ModelAdmin):
    list_display = ["request", "kind", "from_status", "to_status", "actor", "at"]
    list_filter = ["kind"]
    search_fields = ["request__reference", "message"]
    list_select_related = ["request", "actor"]
    raw_id_fields = ["request", "actor"]


@admin.register(ClockEvent)
class ClockEventAdmin(admin.ModelAdmin):
    list_display = ["request", "clock", "department", "action", "at", "due"]
    list_filter = ["clock", "action"]
    search_fields = ["request__reference"]
    raw_id_fields = ["request"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["request", "kind", "author", "created_at"]
    list_filter = ["kind"]
    search_fields = ["request__reference", "body"]
    raw_id_fields = ["request", "author"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "request", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["original_name", "request__reference"]
    raw_id_fields = ["request", "uploaded_by"]


class MasterDataImport(ImportMixin):
    """Import from the ERP's CSV or Excel export, with a dry-run preview and row-level errors."""

    import_formats = [CSV, XLSX]


@admin.register(Customer)
class CustomerAdmin(MasterDataImport, admin.ModelAdmin):
    resource_classes = [CustomerResource]
    list_display = ["name", "code", "created_at"]
    search_fields = ["name", "code"]


@admin.register(Product)
class ProductAdmin(MasterDataImport, admin.ModelAdmin):
    resource_classes = [ProductResource]
    list_display = ["sku", "name", "unit"]
    search_fields = ["sku", "name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "calendar"]
    filter_horizontal = ["members"]


@admin.register(SalesTeam)
class SalesTeamAdmin(MasterDataImport, admin.ModelAdmin):
    resource_classes = [SalesTeamResource]
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "time_zone", "reminder_emails", "morning_digest"]
    search_fields = ["user__username"]


class EmailStateFilter(admin.SimpleListFilter):
    """Where the e-mail copy stands, so an admin finds the ones that keep failing."""

    title = "e-mail"
    parameter_name = "email"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("sent", "Sent"), ("retrying", "Failing, will retry"), ("failed", "Given up"), ("pending", "Pending"),
                ("none", "No e-mail")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        owed = queryset.exclude(email_template="").filter(email_sent_at__isnull=True)
        return {
            "sent": queryset.filter(email_sent_at__isnull=False),
            "retrying": owed.filter(email_failed_at__isnull=True, email_attempts__gt=0),
            "failed": owed.filter(email_failed_at__isnull=False),
            "pending": owed.filter(email_failed_at__isnull=True, email_attempts=0),
            "none": queryset.filter(email_template=""),
        }.get(self.value() or "", queryset)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "message", "created_at", "read_at", "email_state", "email_attempts", "email_last_error"]
    list_filter = [EmailStateFilter, "kind"]
    search_fields = ["user__username", "message", "email_last_error"]
    raw_id_fields = ["user", "request"]
    readonly_fields = ["email_claimed_at", "email_sent_at", "email_attempts", "email_last_error", "email_next_attempt_at",
                       "email_failed_at"]

    @admin.display(description="e-mail")
    def email_state(self, obj: Notification) -> str:
        if not obj.email_template:
            return "—"
        if obj.email_sent_at:
            return "sent"
        if obj.email_failed_at:
            return f"given up after {obj.email_attempts} attempts"
        if obj.email_attempts:
            return "failing, next try " + (f"{obj.email_next_attempt_at:%Y-%m-%d %H:%M}" if obj.email_next_attempt_at else "soon")
        return "pending"


@admin.register(Pause)
class PauseAdmin(admin.ModelAdmin):
    list_display = ["request", "started_at", "ended_at", "business_seconds"]
    raw_id_fields = ["request"]


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(admin.ModelAdmin):
    list_display = ["year", "last"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(SimpleHistoryAdmin):
    """Managers also keep rates on the dashboard's "Exchange rates" page (CSV upload)."""

    list_display = ["currency", "valid_from", "rate", "reporting_currency", "updated_by", "updated_at"]
    list_filter = ["currency", "reporting_currency"]
    date_hierarchy = "valid_from"
    fields = ["currency", "valid_from", "rate", "reporting_currency", "updated_by", "updated_at"]
    readonly_fields = ["reporting_currency", "updated_by", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.reporting_currency = exchange_rates.reporting_currency()
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
