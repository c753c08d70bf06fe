"""The filing form's live aids registered by other apps (`requests_app.pages.register_filing_aid`)."""

from __future__ import annotations

from django import template

from requests_app import pages

register = template.Library()


@register.simple_tag(takes_context=True)
def filing_aids(context: template.Context) -> list[dict[str, str]]:
    request = context.get("request")
    return pages.filing_aids_for(request.user) if request is not None else []


