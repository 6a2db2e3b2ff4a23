"""Serializer fields shared by every app's API."""

from datetime import UTC, datetime

from django.conf import settings
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..forms import is_id
from ..validators import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    known_timezones,
    validate_multiline_text,
    validate_single_line,
)

_OUT_OF_RANGE = f"“{{input}}” is outside the dates we accept: give one from {EARLIEST_YEAR} to {LATEST_YEAR}."


def _parse(field: serializers.Field, value) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        field.fail("invalid", input=value)
    return parsed


def _in_range(moment: datetime) -> bool:
    return EARLIEST_YEAR <= moment.year <= LATEST_YEAR


class AwareDateTimeField(serializers.DateTimeField):
    """An instant: input must carry an offset (or Z); output is always UTC with Z."""

    default_error_messages = {
        "invalid": "“{input}” is not a date and time; use ISO 8601 with an offset, e.g. 2026-11-05T19:00:00-05:00.",
        "naive": "“{input}” has no offset; add one (e.g. -05:00 or Z) so the time is unambiguous.",
        "out_of_range": _OUT_OF_RANGE,
    }

    def to_internal_value(self, value):
        parsed = _parse(self, value)
        if parsed.tzinfo is None:
            self.fail("naive", input=value)
        try:
            moment = parsed.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:00:00-14:00 is in the year 10000 in UTC
            self.fail("out_of_range", input=value)
        if not _in_range(moment) or not _in_range(parsed):
            self.fail("out_of_range", input=value)
        return moment

    def fail(self, key, **kwargs):
        kwargs.setdefault("input", "")
        super().fail(key, **kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@extend_schema_field(OpenApiTypes.STR)
class LocalDateTimeField(serializers.Field):
    """Wall-clock time in some timezone, written without an offset: 2026-10-22T19:00:00."""

    default_error_messages = {
        "invalid": "“{input}” is not a date and time; use e.g. 2026-10-22T19:00:00.",
        "aware": "“{input}” carries an offset; give local wall-clock time in the series' timezone, "
        "e.g. 2026-10-22T19:00:00.",
        "out_of_range": _OUT_OF_RANGE,
    }

    def to_internal_value(self, value):
        parsed = _parse(self, value)
        if parsed.tzinfo is not None:
            self.fail("aware", input=value)
        if not _in_range(parsed):
            self.fail("out_of_range", input=value)
        return parsed

    def to_representation(self, value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S")


class TimezoneField(serializers.CharField):
    default_error_messages = {
        "unknown": "“{input}” is not a known IANA timezone; use a name such as “Europe/London” or “America/New_York”."
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in known_timezones():
            self.fail("unknown", input=value)
        return value


class SingleLineField(serializers.CharField):
    """A title, name or place: one line, no control characters (a 400 naming the field otherwise)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_single_line)


class MultiLineField(serializers.CharField):
    """Text that may span lines (a description, a note): line breaks and tabs, but no other control characters."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_multiline_text)


class DescriptionField(MultiLineField):
    """A description, instructions or notes: several lines, at most DESCRIPTION_MAX_CHARS characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", settings.DESCRIPTION_MAX_CHARS)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdField(serializers.Field):
    """A row's id, as a JSON whole number (5) or a string of ASCII digits ("5").

    DRF's IntegerField would also take " 5", "+5", "5.0", 5.0 or "٥" and turn them into 5; an id
    is refused unless it is written as one (`core.forms.is_id`, as the pages' forms check).
    """

    default_error_messages = {"invalid": "“{input}” is not an id: give each one as a whole number, such as 5."}

    def to_internal_value(self, data) -> int:
        if isinstance(data, int) and not isinstance(data, bool) and data > 0:
            return data
        if isinstance(data, str) and is_id(data) and int(data) > 0:
            return int(data)
        self.fail("invalid", input=str(data)[:40])

    def to_representation(self, value) -> int:
        return int(value)
