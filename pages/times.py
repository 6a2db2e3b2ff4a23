"""Times as the pages show them: in the viewer's timezone (set on the request by `pages.middleware`), with the
zone's abbreviation. The template tags (`pages.templatetags.studycircle`) and the views both use these."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat


def request_timezone(request, fallback: str | None) -> ZoneInfo:
    """The viewer's own timezone if they chose one (set on the request by middleware), else `fallback`."""
    chosen = getattr(request, "viewer_timezone", "") if request is not None else ""
    return ZoneInfo(chosen or fallback or "UTC")


def time_in_zone(moment: datetime, zone: ZoneInfo, fmt: str) -> str:
    """`moment` in `zone` as `fmt`, with the zone's abbreviation: "Thu 22 Oct 2026, 19:00 EDT"."""
    local = moment.astimezone(zone)
    return f"{dateformat.format(local, fmt)} {local.tzname()}"
