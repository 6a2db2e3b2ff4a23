"""Tell the pages which timezone the viewer reads times in."""

from reminders.models import NotificationPreference


class ViewerTimezoneMiddleware:
    """Sets `request.viewer_timezone` to the signed-in user's chosen timezone ("" if none).

    The pages' time tags (`pages/templatetags/studycircle.py`) read it. API
    requests skip the lookup, and the user's: the API speaks UTC.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.viewer_timezone = ""
        if not request.path.startswith("/api/") and request.user.is_authenticated:
            chosen = NotificationPreference.objects.filter(user=request.user).values_list("timezone", flat=True).first()
            request.viewer_timezone = chosen or ""
        return self.get_response(request)
