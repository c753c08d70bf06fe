"""Forms check shape and convert; `integrations.services` validates destinations and writes."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms

from integrations.models import WebhookEvent


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will use it, e.g. “CRM sync”.",
        error_messages={"max_length": "At most 100 characters (this name has %(show_value)d)."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label="URL", max_length=500, assume_scheme="https",
        help_text="Receives a signed POST per event. Only public http(s) addresses.",
    )
    description = forms.CharField(max_length=200, required=False, help_text="Who runs it, what it feeds.")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(
        max_length=100, required=False, label="Signing secret",
        help_text="Leave empty and S2O generates one; it is shown once.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Send deliveries")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["secret"]
        else:
            del self.fields["is_active"]
        self.helper = _helper()
