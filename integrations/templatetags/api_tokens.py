"""The API tokens section of the Preferences page."""

from __future__ import annotations

from typing import Any

from django import template

from integrations.forms import ApiTokenForm
from integrations.selectors import tokens_of

register = template.Library()


@register.inclusion_tag("integrations/_api_tokens.html", takes_context=True)
def api_tokens_panel(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    return {"tokens": list(tokens_of(user)), "form": ApiTokenForm(), "csrf_token": context.get("csrf_token")}
