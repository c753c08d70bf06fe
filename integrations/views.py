"""Pages for API tokens (each user, in Preferences) and webhook endpoints (managers).

Views parse, fetch with permission (404 for what is not the user's), call one service, and
redirect or render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations import selectors, services
from integrations.forms import ApiTokenForm, WebhookEndpointForm
from integrations.models import ApiToken, WebhookDelivery, WebhookEndpoint
from requests_app import paging, permissions
from requests_app.roles import SignedInRequest

PAGE_SIZE = 25


def _errors_to_form(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's refusal next to the input it concerns; the user's input stays in the form."""
    pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in pairs:
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


# --------------------------------------------------------------------------------------------------
# API tokens


@never_cache
@login_required
@require_POST
def token_create(request: SignedInRequest) -> HttpResponse:
    """Create a token and show it this once (never stored, never shown again, never cached)."""
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.token_create(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            return render(request, "integrations/token_created.html", {"token": token, "raw": raw})
    return render(request, "integrations/token_form.html", {"form": form}, status=400)


@login_required
@require_POST
def token_revoke(request: SignedInRequest, pk: int) -> HttpResponse:
    try:
        token = services.token_revoke(actor=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
    messages.success(request, f"Token “{token.name}” revoked: it no longer opens the API.")
    return redirect("requests_app:preferences")


# --------------------------------------------------------------------------------------------------
# Webhooks (managers)


def webhooks_managed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        permissions.require(request.user, "s2o.manage_webhooks")
        return view(request, *args, **kwargs)

    return wrapper


@webhooks_managed
def webhook_list(request: HttpRequest) -> HttpResponse:
    return render(request, "integrations/webhook_list.html", {"endpoints": selectors.endpoints_with_counts()})


@never_cache
@webhooks_managed
def webhook_create(request: SignedInRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            return render(request, "integrations/webhook_created.html", {"endpoint": endpoint})
    return render(request, "integrations/webhook_form.html", {"form": form}, status=400 if form.errors else 200)


@webhooks_managed
def webhook_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
               "is_active": endpoint.is_active}
    form = WebhookEndpointForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(actor=request.user, endpoint_id=endpoint.pk, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect(endpoint)
    page = paging.paginate(selectors.deliveries_of(endpoint), request.GET.get("page"), per_page=PAGE_SIZE)
    context = {"endpoint": endpoint, "form": form, "page": page}
    return render(request, "integrations/webhook_detail.html", context, status=400 if form.errors else 200)


@webhooks_managed
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(selectors.deliveries(), pk=pk)
    context = {"delivery": delivery, "attempts": delivery.attempt_log.all(), "payload": selectors.pretty_json(delivery.payload)}
    return render(request, "integrations/delivery_detail.html", context)


@webhooks_managed
@require_POST
def delivery_resend(request: SignedInRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        copy = services.delivery_resend(actor=request.user, delivery_id=delivery.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(delivery)
    messages.success(request, "Sent again: the new delivery is below; its result shows here once the receiver answers.")
    return redirect(copy)


# --------------------------------------------------------------------------------------------------
# Inbound e-mail (the ESP's webhook; anymail checks its signature and sends the `inbound` signal)


@csrf_exempt
def mailgun_inbound(request: HttpRequest) -> HttpResponse:
    """Mailgun's inbound route posts here; without a signing key configured there is nothing here."""
    from anymail.webhooks.mailgun import MailgunInboundWebhookView

    if not settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        raise Http404("Replies by e-mail are not set up.")
    return MailgunInboundWebhookView.as_view()(request)
