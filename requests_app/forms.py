"""Forms check shape and convert; the services in `requests_app.services` do the writing."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxLengthValidator
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from requests_app import dates, lifecycle, pickers
from requests_app.models import FeasibilityRequest, Outcome, Profile
from requests_app.pickers import PickerField
from requests_app.services import MAX_FILES_PER_REQUEST, REASON_NEEDED, REQUEST_FIELDS, StagedFile

if TYPE_CHECKING:
    FormMixinBase = forms.BaseForm  # the mixins below are only ever mixed into forms
else:
    FormMixinBase = object

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
        size, limit = filesizeformat(upload.size or 0), filesizeformat(settings.S2O_ATTACHMENT_MAX_BYTES)
        return f"“{name}” is {size}; the limit is {limit}."
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


# Free text with no limit of its own (a description, notes) is refused beyond this many characters.
LONG_TEXT_LIMIT = 20_000
LIMIT_MESSAGES = {
    "max_length": "This is %(show_value)d characters long; the limit is %(limit_value)d. Shorten it and send again.",
    "max_digits": "This number is too long: at most %(max)s digits in all.",
    "max_whole_digits": "This number is too large: at most %(max)s digits before the decimal point.",
    "max_decimal_places": "At most %(max)s digits after the decimal point.",
}


class Limits(FormMixinBase):
    """Limits said, never applied silently: a browser `maxlength` cuts a pasted title at 200
    characters without a word, so the form refuses what is too long instead, with a message that
    says how long it is and what fits, and keeps the input. Free text without a limit gets
    `LONG_TEXT_LIMIT`; numbers too big for their column get a plain message, not a database error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and not field.widget.is_hidden:
                if field.max_length is None and isinstance(field.widget, forms.Textarea):
                    field.max_length = LONG_TEXT_LIMIT
                    field.validators.append(MaxLengthValidator(LONG_TEXT_LIMIT))
                field.widget.attrs.pop("maxlength", None)
            if isinstance(field, forms.CharField):
                field.error_messages["max_length"] = LIMIT_MESSAGES["max_length"]
            if isinstance(field, forms.DecimalField):
                field.error_messages.update({k: v for k, v in LIMIT_MESSAGES.items() if k != "max_length"})
            if isinstance(field, forms.DecimalField | forms.IntegerField):
                field.error_messages["min_value"] = "This must be at least %(limit_value)s."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class RequestForm(Limits, forms.ModelForm):
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

    def __init__(self, *args: Any, staged: Iterable[StagedFile] = (), draft: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A draft needs only its title ("Save as draft" parks a half-written request); submitting,
        # or editing a submitted request, needs the rest.
        self.draft = draft
        for name in ("quantity", "requested_date"):
            self.fields[name].required = not draft
        self.fields["quantity"].widget.attrs["min"] = "0.001"
        self.fields["quantity"].error_messages["min_value"] = "The quantity must be more than zero."
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

    def set_staged(self, staged: Iterable[StagedFile], *, keep_all: bool) -> None:
        """Show files kept from an earlier invalid submit as ticked "still attached" boxes."""
        self.staged = list(staged)
        keep = cast(forms.MultipleChoiceField, self.fields["keep_staged"])
        keep.choices = [(f.key, f"{f.name} ({filesizeformat(f.size)})") for f in self.staged]
        keys = [f.key for f in self.staged]
        if keep_all and self.is_bound:
            self.data = cast(QueryDict, self.data).copy()
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

    def clean_requested_date(self) -> date | None:
        value = self.cleaned_data["requested_date"]
        if value is not None and value < timezone.localdate() and (not self.instance.pk or value != self.instance.requested_date):
            raise forms.ValidationError("The requested delivery date is in the past.")
        if value is not None and (far := dates.too_far(value, timezone.localdate())):
            raise forms.ValidationError(far)
        return value

    def clean_target_price(self) -> Decimal | None:
        value = self.cleaned_data.get("target_price")
        if value is not None and value < 0:
            raise forms.ValidationError("A price cannot be negative.")
        return value

    def clean_deal_value(self) -> Decimal | None:
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

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        customer, new_customer = data.get("customer"), (data.get("new_customer") or "").strip()
        if customer and new_customer:
            self.add_error("new_customer", "Pick an existing customer or type a new one, not both.")
        elif not customer and not new_customer and "customer" not in self.errors and not self.draft:
            self.add_error("customer", "Pick the customer, or type the name of a new one.")
        if not data.get("product") and not (data.get("part_description") or "").strip() and not self.draft:
            self.add_error("part_description", "Pick a catalogue part or describe the part.")
        kept = len(data.get("keep_staged") or [])
        attached = self.instance.attachments.count() if self.instance.pk else 0
        if attached + kept + len(data.get("attachments") or []) > MAX_FILES:
            self.add_error("attachments", f"At most {MAX_FILES} files per request"
                           + (f": this one has {attached}." if attached else "."))
        return data

    def staged_to_keep(self) -> list[StagedFile]:
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


class OnceForm(Limits, forms.Form):
    """A form that carries a one-time token: the same form sent twice is stored once."""

    token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())


class CommentForm(OnceForm):
    body = text_field("Comment", max_length=5000)


class ClarificationReplyForm(OnceForm):
    body = text_field("Your reply", max_length=5000)


class WithdrawForm(Limits, forms.Form):
    reason = text_field("Withdraw (optional reason)", max_length=2000, rows=2, required=False)


# What each outcome Sales records directly means (DESIGN.md "Outcome"), on the form itself.
OUTCOME_MEANINGS = {
    Outcome.LOST: "Lost — the customer went elsewhere",
    Outcome.EVAPORATED: "Evaporated — the opportunity disappeared",
}


class CloseForm(Limits, forms.Form):
    """Record an outcome: nothing is chosen at first, only the outcomes the request's state allows
    are offered (`lifecycle.recordable_outcomes`), and the reason is required where the rule says
    (`lifecycle.outcome_needs_reason`). Accepting the answer or an alternative, declining and
    withdrawing have their own buttons."""

    outcome = forms.ChoiceField(
        choices=(), error_messages={"required": "Pick an outcome.",
                                    "invalid_choice": "Pick an outcome from the list: that one cannot be recorded now."},
    )
    reason = text_field("What happened?", max_length=2000, rows=2, required=False)

    def __init__(self, *args: Any, status: str, outcomes: list[Outcome], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status = status
        outcome = cast(forms.ChoiceField, self.fields["outcome"])
        outcome.choices = [("", "Choose an outcome…")] + [(o.value, OUTCOME_MEANINGS[o]) for o in outcomes]
        if any(lifecycle.outcome_needs_reason(status, o) for o in outcomes):
            self.fields["reason"].label = "What happened? (required: Operations has not answered yet)"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        outcome = data.get("outcome")
        if outcome and lifecycle.outcome_needs_reason(self.status, outcome) and not (data.get("reason") or "").strip():
            self.add_error("reason", REASON_NEEDED[Outcome(outcome)])
        return data


# The zones people pick from, by region, each with the places it is named for: one per distinct
# civil time where our customers and sites are, not the ~600 raw tz database names ("W-SU", "Zulu").
TIME_ZONES: dict[str, list[tuple[str, str]]] = {
    "Europe": [
        ("Europe/London", "London, Dublin, Lisbon"), ("Europe/Berlin", "Berlin, Frankfurt, Munich, Vienna, Zurich"),
        ("Europe/Paris", "Paris, Brussels, Amsterdam, Luxembourg"), ("Europe/Madrid", "Madrid, Barcelona"),
        ("Europe/Rome", "Rome, Milan"), ("Europe/Stockholm", "Stockholm, Oslo, Copenhagen"),
        ("Europe/Warsaw", "Warsaw, Prague, Budapest, Bratislava"), ("Europe/Helsinki", "Helsinki, Tallinn, Riga, Vilnius"),
        ("Europe/Athens", "Athens, Bucharest, Sofia"), ("Europe/Kyiv", "Kyiv"), ("Europe/Istanbul", "Istanbul"),
        ("Europe/Moscow", "Moscow"),
    ],
    "Americas": [
        ("America/New_York", "New York, Toronto, Eastern time"), ("America/Chicago", "Chicago, Mexico City, Central time"),
        ("America/Denver", "Denver, Mountain time"), ("America/Phoenix", "Phoenix (no daylight saving)"),
        ("America/Los_Angeles", "Los Angeles, Vancouver, Pacific time"), ("America/Anchorage", "Anchorage"),
        ("America/Halifax", "Halifax, Atlantic time"), ("America/Bogota", "Bogotá, Lima"),
        ("America/Santiago", "Santiago"), ("America/Sao_Paulo", "São Paulo, Rio de Janeiro"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
    ],
    "Africa and Middle East": [
        ("Africa/Casablanca", "Casablanca"), ("Africa/Lagos", "Lagos, Algiers, Tunis"), ("Africa/Cairo", "Cairo"),
        ("Africa/Johannesburg", "Johannesburg, Harare"), ("Africa/Nairobi", "Nairobi, Addis Ababa"),
        ("Asia/Jerusalem", "Jerusalem, Tel Aviv"), ("Asia/Riyadh", "Riyadh, Kuwait, Doha"), ("Asia/Dubai", "Dubai, Abu Dhabi"),
        ("Asia/Tehran", "Tehran"),
    ],
    "Asia and Pacific": [
        ("Asia/Karachi", "Karachi"), ("Asia/Kolkata", "Mumbai, Delhi, Bengaluru"), ("Asia/Dhaka", "Dhaka"),
        ("Asia/Bangkok", "Bangkok, Hanoi, Jakarta"), ("Asia/Singapore", "Singapore, Kuala Lumpur"),
        ("Asia/Shanghai", "Beijing, Shanghai, Shenzhen"), ("Asia/Hong_Kong", "Hong Kong"), ("Asia/Taipei", "Taipei"),
        ("Asia/Manila", "Manila"), ("Asia/Seoul", "Seoul"), ("Asia/Tokyo", "Tokyo, Osaka"), ("Australia/Perth", "Perth"),
        ("Australia/Adelaide", "Adelaide"), ("Australia/Brisbane", "Brisbane (no daylight saving)"),
        ("Australia/Sydney", "Sydney, Melbourne, Canberra"), ("Pacific/Auckland", "Auckland, Wellington"),
    ],
    "Universal": [("UTC", "Coordinated Universal Time")],
}


def _offset(zone: str) -> str:
    """`UTC+01:00` today (daylight saving included)."""
    delta = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta else 0
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_zone_choices(current: str = "") -> list:
    """The site default, then the curated zones by region ("Berlin, Frankfurt, … (UTC+01:00)"), and the
    zone the person already has when it is not among them, so saving other preferences keeps it."""
    choices: list = [("", f"Site default ({settings.TIME_ZONE})")]
    known = {zone for zones in TIME_ZONES.values() for zone, _ in zones}
    if current and current not in known and current in zoneinfo.available_timezones():
        choices.append((current, f"{current} ({_offset(current)})"))
    for region, zones in TIME_ZONES.items():
        choices.append((region, [(zone, f"{places} ({_offset(zone)})") for zone, places in zones]))
    return choices


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=(), required=False, label="Time zone",
                                  help_text="Times on every page and in your e-mails are shown in this zone.")

    class Meta:
        model = Profile
        fields = ["time_zone", "reminder_emails", "morning_digest"]
        labels = {"reminder_emails": "Send me reminder e-mails", "morning_digest": "Send me a morning digest"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = cast(forms.ChoiceField, self.fields["time_zone"])
        zone.choices = time_zone_choices(self.instance.time_zone if self.instance else "")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
