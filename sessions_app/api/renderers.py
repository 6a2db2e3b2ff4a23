import json

from rest_framework.renderers import BaseRenderer, JSONRenderer


class CalendarRenderer(BaseRenderer):
    """text/calendar. Views hand it finished .ics bytes; error bodies come out as JSON text."""

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
