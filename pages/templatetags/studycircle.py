"""Template helpers of the pages: times in the viewer's timezone (set by `pages.middleware`), form error ids."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import dateformat
from django.utils.safestring import SafeString, mark_safe

from pages.times import request_timezone, time_in_zone
from readings.mentions import html_with_mention_names, mention_names, text_with_mention_names

register = template.Library()


def viewer_timezone(context, fallback: str | None) -> ZoneInfo:
    return request_timezone(context.get("request"), fallback)


@register.simple_tag(takes_context=True)
def local_time(context, moment: datetime | None, fallback_tz: str | None = None, fmt: str = "D j M Y, H:i") -> str:
    """`moment` in the viewer's timezone (or the session's), with its abbreviation: "Thu 22 Oct 2026, 19:00 EDT"."""
    if moment is None:
        return ""
    return time_in_zone(moment, viewer_timezone(context, fallback_tz), fmt)


@register.simple_tag(takes_context=True)
def local_iso(context, moment: datetime | None, fallback_tz: str | None = None) -> str:
    """For <time datetime="...">: the same instant, in ISO 8601 with its offset."""
    if moment is None:
        return ""
    return moment.astimezone(viewer_timezone(context, fallback_tz)).isoformat()


@register.filter
def field_error_id(field) -> str:
    # The id Django's widgets name in aria-describedby when the field has errors.
    return f"{field.auto_id}_error"


@register.simple_tag(takes_context=True)
def local_format(context, moment: datetime | None, fallback_tz: str | None = None, fmt: str = "j") -> str:
    """Just a part of `moment` in the viewer's timezone (e.g. the day of the month), without the zone."""
    if moment is None:
        return ""
    return dateformat.format(moment.astimezone(viewer_timezone(context, fallback_tz)), fmt)


@register.simple_tag
def zone_time(moment: datetime | None, tz_name: str, fmt: str = "H:i") -> str:
    """`moment` in one given timezone, whatever the viewer chose: "19:00 EST"."""
    if moment is None:
        return ""
    return time_in_zone(moment, ZoneInfo(tz_name), fmt)


@register.simple_tag
def group_members_json(group, element_id: str):
    """The group's members as a JSON data island for the @mention picker: username, current name, and whether
    they may read `facilitators` notes. One query. Members only: the page is only shown to members."""
    from django.utils.html import json_script

    from sessions_app.models import Membership, Role

    rows = (
        Membership.objects.filter(group=group)
        .select_related("user")
        .only("role", "user__username", "user__display_name", "user__first_name", "user__last_name")
    )
    members = [
        {
            "username": row.user.username,
            "name": row.user.name,
            "facilitator": row.role in (Role.ORGANIZER, Role.FACILITATOR),
        }
        for row in rows
    ]
    members.sort(key=lambda member: (member["name"].casefold(), member["username"]))
    return json_script(members, element_id)


@register.filter
def note_html(note) -> SafeString:
    """The note's sanitised HTML with its mentions shown by each member's current name (prefetch `mentions`)."""
    return mark_safe(html_with_mention_names(note.body_html, mention_names(note)))  # noqa: S308 -- sanitised HTML; names escaped


@register.filter
def note_text(note) -> str:
    """The note's source text with its mentions written as each member's current name (auto-escaped)."""
    return text_with_mention_names(note.body, mention_names(note))
