"""Addresses of a session's pages and files, absolute (they leave the request: emails, feeds, API) or relative."""

import functools
from collections.abc import Callable

from django.urls import get_script_prefix, get_urlconf, reverse

from core.links import absolute, absolute_url

PACK_FORMATS = ("md", "html", "pdf", "epub")
# Formats a worker renders: a person gets them through a page that waits for the file.
PACK_FILE_FORMATS = ("pdf", "epub")


def session_url(session_id: int) -> str:
    return absolute_url("session-detail", session_id=session_id)


def pack_urls(session_id: int, *, absolute_urls: bool = True) -> dict[str, str]:
    """The pack in each format, and the session's calendar entry (relative paths for a page's own links)."""
    return pack_urls_of(absolute_urls=absolute_urls)(session_id)


def pack_urls_of(*, absolute_urls: bool = True) -> Callable[[int], dict[str, str]]:
    """`pack_urls` for many sessions (a list's): the addresses reversed and made absolute once, then per
    session only its id written into them."""
    pack_path, calendar_path = _session_paths(get_script_prefix(), get_urlconf())
    if absolute_urls:
        site = absolute("").replace("{", "{{").replace("}", "}}")
        pack_path, calendar_path = site + pack_path, site + calendar_path
    formats = [(fmt, f"?format={fmt}") for fmt in PACK_FORMATS]
    pack_of, calendar_of = pack_path.format, calendar_path.format

    def urls(session_id: int) -> dict[str, str]:
        session_id = int(session_id)
        pack = pack_of(session_id)
        answer = {"json": pack}
        for fmt, query in formats:
            answer[fmt] = pack + query
        answer["ics"] = calendar_of(session_id)
        return answer

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


def pack_download_url(session_id: int, fmt: str, *, absolute_urls: bool = True) -> str:
    """The page that prepares and downloads a PDF or EPUB pack (what buttons and emails link to)."""
    if absolute_urls:
        return absolute_url("session-pack-download", session_id=session_id, fmt=fmt)
    return reverse("session-pack-download", kwargs={"session_id": session_id, "fmt": fmt})
