"""Addresses of a session's pages and files, on SITE_URL (they leave the request: emails, feeds, API)."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

PACK_FORMATS = ("md", "html", "pdf", "epub")
# Formats a worker renders: a person gets them through a page that waits for the file.
PACK_FILE_FORMATS = ("pdf", "epub")


def session_url(session_id: int) -> str:
    return f"{settings.SITE_URL}/sessions/{session_id}/"


def pack_urls(session_id: int, *, base: str | None = None) -> dict[str, str]:
    """The pack in each format, and the session's calendar entry: on SITE_URL, or `base` ("" for a page's own links)."""
    base = settings.SITE_URL if base is None else base
    pack_path, calendar_path = _session_paths(get_script_prefix(), get_urlconf())
    pack = base + pack_path.format(int(session_id))
    urls = {"json": pack, **{fmt: f"{pack}?format={fmt}" for fmt in PACK_FORMATS}}
    urls["ics"] = base + calendar_path.format(int(session_id))
    return urls


@functools.lru_cache(maxsize=16)
def _session_paths(script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    """The pack's and the calendar entry's paths with `{}` for the session id, reversed once, not per session.

    By URL name: the pack lives in `readings`, which this app may not import.
    """
    marker = 918273645546372819  # an id no path holds otherwise
    pack = reverse("session-pack", kwargs={"session_pk": marker})
    calendar = reverse("session-calendar", kwargs={"pk": marker})
    return tuple(path.replace("{", "{{").replace("}", "}}").replace(str(marker), "{}") for path in (pack, calendar))


def pack_download_url(session_id: int, fmt: str, *, base: str | None = None) -> str:
    """The page that prepares and downloads a PDF or EPUB pack (what buttons and emails link to)."""
    base = settings.SITE_URL if base is None else base
    return base + reverse("session-pack-download", kwargs={"session_id": session_id, "fmt": fmt})
