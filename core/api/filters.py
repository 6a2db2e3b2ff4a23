"""Query-string filters shared by the API's lists."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .fields import AwareDateTimeField


class AwareDateTimeFormField(forms.Field):
    """A query-string instant read exactly as a body's: an offset required, UTC out, within the dates we accept."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return AwareDateTimeField().to_internal_value(value)
        except serializers.ValidationError as error:
            raise forms.ValidationError(error.detail[0]) from None


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeFilter(filters.Filter):
    """Filter by an instant given with an offset; it reaches the database in UTC.

    django-filter's own IsoDateTimeFilter passed the offset through, and
    PostgreSQL refuses offsets beyond ±15:59 (`-23:59` was a 500); a time
    that leaves the calendar when moved to UTC was one too.
    """

    field_class = AwareDateTimeFormField
