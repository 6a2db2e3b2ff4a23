"""Absolute addresses, for links that leave the request (emails, calendar feeds, API answers)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    """A path of this site ("/sessions/7/read/#note-3") as an address on SITE_URL."""
    return settings.SITE_URL + path


def absolute_url(name: str, *args, query: str = "", **kwargs) -> str:
    """The URL named `name` on SITE_URL: `absolute_url("session-detail", session_id=7)`.

    Pass positional or keyword URL arguments as for `reverse()`; `query` is
    appended as is (`"format=pdf"` becomes `?format=pdf`).
    """
    url = absolute(reverse(name, args=args or None, kwargs=kwargs or None))
    return f"{url}?{query}" if query else url


def site_host(default: str = "studycircle") -> str:
    """SITE_URL's host name, for identifiers that must be unique to this site (Message-ID, iCalendar UID)."""
    return urlsplit(settings.SITE_URL).hostname or default
