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


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, passed over when the query string names none of the view's filters.

    Its FilterSet then answers the queryset unchanged (every filter skips an empty value),
    after building and validating a form of every filter: a sixth of a plain list's cost.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not _names_a_filter(request.query_params, filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


def names_a_filter(request, view) -> bool:
    """Whether `view.filter_queryset` could change a list for this request: the query string names one of the
    view's filters, or the view has a filter backend other than ours. A list that answers False may read its
    rows without building the queryset the backends would be given (`sessions_app`'s session list)."""
    for backend_class in view.filter_backends:
        if not issubclass(backend_class, FilterBackend):
            return True
        filterset_class = backend_class().get_filterset_class(view, None)
        # Without a queryset, django-filter makes no FilterSet of `filterset_fields`: their names then.
        names = filterset_class.base_filters if filterset_class else getattr(view, "filterset_fields", None) or ()
        if _names_a_filter(request.query_params, names):
            return True
    return False


def _names_a_filter(params, names) -> bool:
    # A filter of several fields (a range) reads `<name>_<suffix>`: any parameter starting with a name counts.
    return any(param == name or param.startswith(f"{name}_") for param in params for name in names)
