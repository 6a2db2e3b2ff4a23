import json

from rest_framework.renderers import BaseRenderer


class CalendarRenderer(BaseRenderer):
    """text/calendar. Views hand it finished .ics bytes; error bodies come out as JSON text."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()
