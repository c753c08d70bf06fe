"""Serializer fields with the bounds every input needs: a huge id, a far date or a megabyte of text
is a 400 naming the field, never a database error. (NUL characters are refused by DRF's CharField;
NaN and Infinity by its JSON parser and DecimalField.)"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from requests_app import dates

MAX_ID = 2**31 - 1  # PostgreSQL's integer: a larger id cannot exist, and must not reach the query
FAR_FUTURE_YEARS = dates.FAR_FUTURE_YEARS  # how far ahead a date may lie, as on the pages (`requests_app.dates`)


class RelatedId(serializers.PrimaryKeyRelatedField):
    """A related row by id, refused in the field's own words when out of range or missing."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "There is no {model} with id {pk_value}.",
        "incorrect_type": "Give the id as a whole number.",
    }

    def __init__(self, *, model_name: str, **kwargs: Any) -> None:
        self.model_name = model_name
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        pk = data
        if not 1 <= pk <= MAX_ID:
            self.fail("does_not_exist", model=self.model_name, pk_value=pk)
        queryset = cast(QuerySet, self.get_queryset())  # a writable related field always has one
        try:
            return queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", model=self.model_name, pk_value=pk)


class RelatedCode(serializers.SlugRelatedField):
    """A related row by its code (a department, a constraint category), refused by name when unknown."""

    default_error_messages = {
        **serializers.SlugRelatedField.default_error_messages,
        "does_not_exist": "Unknown {slug_name} “{value}”.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or len(data) > 64 or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class BoundedDate(serializers.DateField):
    """A date between `past_days` ago (0: today) and FAR_FUTURE_YEARS ahead, in the site's zone."""

    def __init__(self, *, past_days: int | None = 0, **kwargs: Any) -> None:
        self.past_days = past_days
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        today = timezone.localdate()
        latest = dates.latest(today)
        if self.past_days is not None and day < today - timedelta(days=self.past_days):
            raise serializers.ValidationError("This date is in the past." if self.past_days == 0
                                              else f"Choose a date after {today - timedelta(days=self.past_days)}.")
        if day > latest:
            raise serializers.ValidationError(
                f"Choose a date on or before {latest.isoformat()} ({FAR_FUTURE_YEARS} years ahead)."
            )
        return day


# JSON types are taken as the schema says: DRF would read 5 as "5" for text, "5" as 5 for a number
# and "yes" as true, so a client's type error would pass unnoticed (and the schema would lie).


class Text(serializers.CharField):
    """Text, and only text (DRF's CharField also refuses NUL characters)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class Boolean(serializers.BooleanField):
    default_error_messages = {"invalid": "Give true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictDecimal(serializers.DecimalField):
    """A decimal as a string ("12.50", exact) or a JSON number (12.5); never NaN or infinite."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"anyOf": [{"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}, {"type": "number"}]})
class DecimalInput(StrictDecimal):
    pass


def text(max_length: int, **kwargs: Any) -> Text:
    """Free text with a limit, optional (blank) unless said otherwise."""
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("required", False)
    if not kwargs["required"]:
        kwargs.setdefault("default", "")
    return Text(max_length=max_length, **kwargs)


def version_field(**kwargs: Any) -> Integer:
    kwargs.setdefault("help_text", "The `version` you read: a write on a version someone changed since is refused with 409.")
    return Integer(min_value=0, max_value=MAX_ID, **kwargs)
