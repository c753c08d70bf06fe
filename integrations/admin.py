"""Admin for the integrations: tokens are revoked here or by their owner, never shown; deliveries
and inbound e-mails are records to read, not to edit."""

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from integrations.models import ApiToken, InboundEmail, WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are made by their owner, who alone sees them once

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "events", "is_active", "created_by", "created_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]
    readonly_fields = ["created_by", "created_at"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status_code", "error", "response_excerpt", "duration_ms"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event", "request", "state", "attempts", "last_status_code", "last_error"]
    list_filter = ["state", "event"]
    search_fields = ["request__reference", "endpoint__url", "last_error"]
    raw_id_fields = ["endpoint", "request", "resend_of"]
    readonly_fields = ["event_id", "payload", "attempts", "claimed_at", "next_attempt_at", "last_status_code", "last_error",
                       "delivered_at"]
    inlines = [WebhookAttemptInline]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "outcome", "reason", "request", "bounce_sent_at"]
    list_filter = ["outcome"]
    search_fields = ["sender", "subject", "request__reference"]
    raw_id_fields = ["user", "request", "comment"]
    readonly_fields = [f.name for f in InboundEmail._meta.fields]
