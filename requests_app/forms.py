"""Forms check shape and convert; the services in `requests_app.services` do the writing."""

from __future__ import annotations

import zoneinfo
from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from requests_app import lifecycle, pickers
from requests_app.models import FeasibilityRequest, Outcome, Profile
from requests_app.pickers import PickerField
from requests_app.services import MAX_FILES_PER_REQUEST, REASON_NEEDED, REQUEST_FIELDS

MAX_FILES = MAX_FILES_PER_REQUEST

# Leading bytes each binary type must start with: a renamed .exe is not a PDF.
MAGIC = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "xlsx": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}
TEXT_TYPES = {"txt", "csv", "step", "stp", "dxf"}


def check_upload(upload: UploadedFile) -> str | None:
    """Why this file may not be attached, or None: extension, size and content."""
    name = upload.name or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = [e.lower() for e in settings.S2O_ATTACHMENT_EXTENSIONS]
    if ext not in allowed:
        return f"“{name}”: files of this type cannot be attached (allowed: {', '.join(allowed)})."
    if (upload.size or 0) > settings.S2O_ATTACHMENT_MAX_BYTES:
        return f"“{name}” is {filesizeformat(upload.size)}; the limit is {filesizeformat(settings.S2O_ATTACHMENT_MAX_BYTES)}."
    if not upload.size:
        return f"“{name}” is empty."
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if ext in MAGIC and not head.startswith(MAGIC[ext]):
        return f"“{name}” does not look like a .{ext} file."
    if ext in TEXT_TYPES and b"\x00" in head:
        return f"“{name}” does not look like a text (.{ext}) file."
    return None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class RequestForm(forms.ModelForm):
    """Filing and editing a request. `token` is the one-time form token (a double submit files
    once); `version` guards edits against lost updates."""

    customer = PickerField(
        source=pickers.CUSTOMERS, required=False, help_text="Search by name or ERP code…"
    )
    product = PickerField(
        source=pickers.PRODUCTS, required=False, label="Product", help_text="Search by part number or name."
    )
    new_customer = forms.CharField(
        label="…or a new customer", max_length=200, required=False, help_text="Type the name to create it."
    )
    attachments = MultipleFileField(
        required=False,
        help_text=(
            f"Up to {MAX_FILES} files, {filesizeformat(settings.S2O_ATTACHMENT_MAX_BYTES)} each: "
            f"{', '.join(settings.S2O_ATTACHMENT_EXTENSIONS)}."
        ),
    )
    keep_staged = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Still attached", choices=()
    )
    token = forms.UUIDField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = FeasibilityRequest
        fields = ["customer", *REQUEST_FIELDS]  # the order on the page is the helper's layout
        widgets = {
            "requested_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, staged=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quantity"].widget.attrs["min"] = "0.001"
        self.fields["target_price"].label = "Target unit price"
        self.fields["target_price"].help_text = "What the customer would pay for one unit."
        self.fields["deal_value"].help_text = "The whole order."
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)
            self.initial.setdefault("customer", self.instance.customer_id)
            self.initial.setdefault("product", self.instance.product_id)
            if self.instance.status != "draft":
                self.fields["priority"].disabled = True
                self.fields["priority"].help_text = "Fixed once submitted: the answer times were promised for it."
        self.set_staged(staged, keep_all=not self.is_bound)

    def set_staged(self, staged, *, keep_all: bool) -> None:
        """Show files kept from an earlier invalid submit as ticked "still attached" boxes."""
        self.staged = list(staged)
        self.fields["keep_staged"].choices = [(f.key, f"{f.name} ({filesizeformat(f.size)})") for f in self.staged]
        keys = [f.key for f in self.staged]
        if keep_all and self.is_bound:
            self.data = self.data.copy()
            self.data.setlist("keep_staged", keys)
        elif keep_all:
            self.initial["keep_staged"] = keys
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> carries the token
        self.helper.layout = Layout(
            "title",
            Row(Column("customer", css_class="col-md-6"), Column("new_customer", css_class="col-md-6")),
            Row(Column("product", css_class="col-md-6"), Column("part_description", css_class="col-md-6")),
            Row(
                Column("quantity", css_class="col-md-3"),
                Column("unit", css_class="col-md-2"),
                Column("requested_date", css_class="col-md-3"),
                Column("priority", css_class="col-md-4"),
            ),
            Row(
                Column("target_price", css_class="col-md-4"),
                Column("deal_value", css_class="col-md-4"),
                Column("currency", css_class="col-md-4"),
            ),
            "description",
            *(["keep_staged"] if self.staged else []),
            Field("attachments"),
            "token",
            "version",
        )

    def clean_requested_date(self) -> date:
        value = self.cleaned_data["requested_date"]
        if value < timezone.localdate() and (not self.instance.pk or value != self.instance.requested_date):
            raise forms.ValidationError("The requested delivery date is in the past.")
        return value

    def clean_target_price(self):
        value = self.cleaned_data.get("target_price")
        if value is not None and value < 0:
            raise forms.ValidationError("A price cannot be negative.")
        return value

    def clean_deal_value(self):
        value = self.cleaned_data.get("deal_value")
        if value is not None and value < 0:
            raise forms.ValidationError("A deal value cannot be negative.")
        return value

    def clean_attachments(self) -> list[UploadedFile]:
        files = self.cleaned_data.get("attachments") or []
        errors = [problem for f in files if (problem := check_upload(f))]
        if errors:
            raise forms.ValidationError(errors)
        return files

    def clean(self):
        data = super().clean()
        customer, new_customer = data.get("customer"), (data.get("new_customer") or "").strip()
        if customer and new_customer:
            self.add_error("new_customer", "Pick an existing customer or type a new one, not both.")
        elif not customer and not new_customer and "customer" not in self.errors:
            self.add_error("customer", "Pick the customer, or type the name of a new one.")
        if not data.get("product") and not (data.get("part_description") or "").strip():
            self.add_error("part_description", "Pick a catalogue part or describe the part.")
        kept = len(data.get("keep_staged") or [])
        if kept + len(data.get("attachments") or []) > MAX_FILES:
            self.add_error("attachments", f"At most {MAX_FILES} files per request.")
        return data

    def staged_to_keep(self):
        keep = set(self.cleaned_data.get("keep_staged") or []) if hasattr(self, "cleaned_data") else set()
        return [f for f in self.staged if f.key in keep]


# Django's CharField already refuses NUL characters (PostgreSQL cannot store them); say so plainly.
TEXT_ERRORS = {
    "null_characters_not_allowed": "The text contains a NUL character (an invisible control character, often pasted "
                                   "from another program), which cannot be stored. Remove it and send again.",
}


def text_field(label: str, *, max_length: int, rows: int = 3, required: bool = True, help_text: str = "") -> forms.CharField:
    """A free-text box with a length limit the browser also knows, and the NUL message above."""
    return forms.CharField(
        label=label, widget=forms.Textarea(attrs={"rows": rows}), max_length=max_length, required=required,
        help_text=help_text, error_messages=TEXT_ERRORS,
    )


class CommentForm(forms.Form):
    body = text_field("Comment", max_length=5000)


class ClarificationReplyForm(forms.Form):
    body = text_field("Your reply", max_length=5000)


class WithdrawForm(forms.Form):
    reason = text_field("Withdraw (optional reason)", max_length=2000, rows=2, required=False)


# What each outcome Sales records directly means (DESIGN.md "Outcome"), on the form itself.
OUTCOME_MEANINGS = {
    Outcome.LOST: "Lost — the customer went elsewhere",
    Outcome.EVAPORATED: "Evaporated — the opportunity disappeared",
}


class CloseForm(forms.Form):
    """Record an outcome: nothing is chosen at first, only the outcomes the request's state allows
    are offered (`lifecycle.recordable_outcomes`), and the reason is required where the rule says
    (`lifecycle.outcome_needs_reason`). Accepting the answer or an alternative, declining and
    withdrawing have their own buttons."""

    outcome = forms.ChoiceField(
        choices=(), error_messages={"required": "Pick an outcome.",
                                    "invalid_choice": "Pick an outcome from the list: that one cannot be recorded now."},
    )
    reason = text_field("What happened?", max_length=2000, rows=2, required=False)

    def __init__(self, *args, status: str, outcomes: list[Outcome], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status = status
        self.fields["outcome"].choices = [("", "Choose an outcome…")] + [(o.value, OUTCOME_MEANINGS[o]) for o in outcomes]
        if any(lifecycle.outcome_needs_reason(status, o) for o in outcomes):
            self.fields["reason"].label = "What happened? (required: Operations has not answered yet)"

    def clean(self) -> dict:
        data = super().clean()
        outcome = data.get("outcome")
        if outcome and lifecycle.outcome_needs_reason(self.status, outcome) and not (data.get("reason") or "").strip():
            self.add_error("reason", REASON_NEEDED[Outcome(outcome)])
        return data


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", f"Site default ({settings.TIME_ZONE})")] + [(z, z) for z in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices, required=False)

    class Meta:
        model = Profile
        fields = ["time_zone", "reminder_emails", "morning_digest"]
        labels = {"reminder_emails": "Send me reminder e-mails", "morning_digest": "Send me a morning digest"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
