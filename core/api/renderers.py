import json

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class CalendarRenderer(BaseRenderer):
    """text/calendar: views hand it finished .ics bytes. Their errors go out as JSON (`JSONErrorsMixin`)."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class OptionsInJSONMixin:
    """OPTIONS describes an endpoint in JSON, even where the endpoint itself renders a calendar or a PDF.

    The metadata went through the view's own renderer: a PDF or EPUB renderer
    raised on it (a 500), the calendar one labelled JSON as text/calendar.
    """

    def options(self, request, *args, **kwargs):
        response = super().options(request, *args, **kwargs)
        if getattr(request.accepted_renderer, "format", None) not in ("json", "api"):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return response


class JSONErrorsMixin:
    """Errors go out as JSON (`{"detail", ...}`), whatever format the view renders when all goes well.

    A calendar file cannot say “not found”; the schema promises the JSON error body on every error.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.exception:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
