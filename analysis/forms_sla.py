"""Forms for the managers' SLA screens (and the admin): they check shape and convert.

A bad policy or calendar is refused when saved, with a message in words, rather than discovered
when the sweep tries to compute a due time from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import time
from decimal import Decimal
from typing import Any

import holidays
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError

from requests_app import services_sla
from requests_app.businesstime import WorkCalendar
from requests_app.models import BusinessCalendar, CompanyClosure, SlaPolicy

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"), (6, "Sunday")]
PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("save", label))
    return helper


def parse_thresholds(text: str) -> list[float]:
    """ "0.5, 0.8" → [0.5, 0.8]; fractions strictly between 0 and 1 (three decimals at most),
    ascending, no repeats."""
    parts = [p for p in re.split(r"[,\s;]+", (text or "").strip()) if p]
    try:
        exact = [Decimal(p) for p in parts]
        values = [float(v) for v in exact]
    except Exception:
        raise ValidationError("Write the thresholds as fractions separated by commas, e.g. 0.5, 0.8.") from None
    if any(not 0 < v < 1 for v in values):
        raise ValidationError("Each threshold is a fraction of the window strictly between 0 and 1 (e.g. 0.5 for half-way).")
    if any(v != v.quantize(services_sla.THRESHOLD_STEP) for v in exact):
        raise ValidationError("Give each threshold with at most three decimals, e.g. 0.333.")
    if values != sorted(set(values)):
        raise ValidationError("Thresholds must be in increasing order without repeats, e.g. 0.5, 0.8.")
    return values


def parse_periods(text: str) -> list[list[str]]:
    """ "08:00-12:00, 13:00-17:00" → [["08:00", "12:00"], ["13:00", "17:00"]] (24:00 or 00:00 = midnight)."""
    chunks = [c for c in re.split(r"[,;\n]+", text or "") if c.strip()]
    if not chunks:
        raise ValidationError("Enter at least one working period, e.g. 08:00-12:00, 13:00-17:00.")
    periods = []
    for chunk in chunks:
        match = PERIOD.match(chunk)
        if not match:
            raise ValidationError(f"“{chunk.strip()}” is not a period like 08:00-12:00.")
        start, end = (_hhmm(v) for v in match.groups())
        periods.append([start, end])
    return periods


def _hhmm(value: str) -> str:
    if value in ("24:00",):
        return "00:00"
    try:
        return time.fromisoformat(value.zfill(5)).strftime("%H:%M")
    except ValueError:
        raise ValidationError(f"“{value}” is not a time of day (HH:MM).") from None


def format_periods(periods: Iterable[Sequence[str]]) -> str:
    return ", ".join(f"{a}-{'24:00' if b == '00:00' else b}" for a, b in (periods or []))


class SlaPolicyForm(forms.ModelForm):
    reminder_thresholds = forms.CharField(
        help_text="Fractions of each window (in business time) at which the clock holders are reminded, e.g. 0.5, 0.8.",
    )

    class Meta:
        model = SlaPolicy
        fields = ["acknowledge_hours", "answer_hours", "min_answer_hours", "max_answer_hours", "max_horizon_days",
                  "reminder_thresholds", "escalation_interval_hours", "department_share"]
        labels = {
            "acknowledge_hours": "Acknowledge within (business hours)",
            "answer_hours": "Answer within (business hours)",
            "max_answer_hours": "Longest answer-by without a reason (business hours)",
            "escalation_interval_hours": "Repeat escalations every (business hours)",
            "department_share": "Department assessments due at this share of the answer window",
            "min_answer_hours": "Shortest answer-by (business hours from the promise)",
            "max_horizon_days": "Furthest answer-by (calendar days ahead, even with a reason)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk:
            self.initial["reminder_thresholds"] = ", ".join(f"{v:g}" for v in self.instance.reminder_thresholds or [])
        self.helper = _helper("Save policy")

    def clean_reminder_thresholds(self) -> list[float]:
        return parse_thresholds(self.cleaned_data["reminder_thresholds"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors:
            try:  # the policy's rules as a whole, as the service will apply them
                services_sla.policy_validate({name: data.get(name) for name in services_sla.POLICY_FIELDS})
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    self.add_error(name if name in self.fields else None, messages)
        return data


class BusinessCalendarForm(forms.ModelForm):
    working_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, help_text="Days on which the clocks run."
    )
    periods = forms.CharField(
        label="Working hours", help_text="One or more periods, e.g. 08:00-12:00, 13:00-17:00 (24:00 = midnight)."
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "working_days", "periods", "holiday_country", "holiday_subdivision"]
        help_texts = {"time_zone": "An IANA time zone, e.g. Europe/Berlin or America/New_York."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk:
            self.initial["periods"] = format_periods(self.instance.periods)
        self.helper = _helper("Save calendar")

    def clean_periods(self) -> list[list[str]]:
        return parse_periods(self.cleaned_data["periods"])

    def clean_holiday_country(self) -> str:
        country = self.cleaned_data["holiday_country"].strip().upper()
        if country and country not in holidays.list_supported_countries():
            raise ValidationError(f"“{country}” is not a country the holidays library knows (use an ISO code such as DE, US).")
        return country

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        country, subdivision = data.get("holiday_country", ""), (data.get("holiday_subdivision") or "").strip().upper()
        supported = holidays.list_supported_countries()
        if subdivision and subdivision not in (supported.get(country) or []):
            self.add_error("holiday_subdivision", f"“{subdivision}” is not a region of {country or 'the chosen country'}.")
            return data
        data["holiday_subdivision"] = subdivision
        data["time_zone"] = zone = data["time_zone"].strip()
        try:
            WorkCalendar(
                time_zone=zone,
                working_days=frozenset(data["working_days"]),
                periods=tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in data["periods"]),
                holiday_country=country,
                holiday_subdivision=subdivision,
            ).validate()
        except ValueError as exc:
            message = str(exc)
            field = "time_zone" if "time zone" in message else "periods" if "period" in message else None
            self.add_error(field, message[0].upper() + message[1:] + ".")
        return data


class ClosureForm(forms.ModelForm):
    class Meta:
        model = CompanyClosure
        fields = ["start_date", "end_date", "reason"]
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"}), "end_date": forms.DateInput(attrs={"type": "date"})}
        labels = {"start_date": "First day", "end_date": "Last day"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Add closure")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The last day cannot be before the first day.")
        return data
