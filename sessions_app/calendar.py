"""RFC 5545 calendars of sessions: one session's .ics, and a user's subscription feed.

Every event carries a stable UID, a SEQUENCE that rises with each change,
its local start with TZID and a matching VTIMEZONE, and STATUS (cancelled
sessions stay in feeds as STATUS:CANCELLED so calendars remove them).
Single-line properties (names, title, place) are cleaned of control
characters as they are written, so a row stored before validation refused
them still makes a valid file.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vText

from core.links import site_host
from core.validators import single_line

from . import links
from .enums import SessionStatus
from .models import Session

PRODID = "-//Studycircle//Sessions//EN"
_STATUS = {
    SessionStatus.SCHEDULED: "CONFIRMED",
    SessionStatus.COMPLETED: "CONFIRMED",
    SessionStatus.DRAFT: "TENTATIVE",
    SessionStatus.CANCELLED: "CANCELLED",
}


def session_uid(session: Session) -> str:
    """Stable for the life of the session, unique to this site."""
    return f"session-{session.pk}@{site_host()}"


def session_url(session: Session) -> str:
    return links.session_url(session.pk)


def session_event(session: Session, *, alarm_minutes: int | None = None) -> Event:
    """One VEVENT; `alarm_minutes` adds a VALARM that many minutes before the start."""
    tz = ZoneInfo(session.timezone)
    event = Event()
    event.add("uid", session_uid(session))
    event.add("sequence", session.sequence)
    event.add("dtstamp", session.updated_at.astimezone(UTC) if session.updated_at else datetime.now(UTC))
    event.add("dtstart", session.starts_at.astimezone(tz))
    event.add("dtend", session.ends_at.astimezone(tz))
    title = single_line(session.title)
    event.add("summary", f"{title} · {single_line(session.group.name)}")
    description = [session.description.strip()] if session.description.strip() else []
    if session.online_url:
        description.append(f"Join online: {session.online_url}")
    description.append(f"Session page: {session_url(session)}")
    event.add("description", "\n\n".join(description))
    if session.location:
        event.add("location", vText(single_line(session.location)))
    event.add("url", session_url(session))
    event.add("status", _STATUS[session.status])
    if alarm_minutes and session.status != SessionStatus.CANCELLED:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{title} starts soon")
        alarm.add("trigger", timedelta(minutes=-alarm_minutes))
        event.add_component(alarm)
    return event


def calendar_bytes(
    sessions: Iterable[Session],
    *,
    name: str,
    alarms: bool = True,
    refresh_minutes: int | None = None,
) -> bytes:
    """A METHOD:PUBLISH calendar of `sessions` (group loaded), with the VTIMEZONEs they use.

    Alarms sit at each session's starting-reminder lead time. A feed passes
    `refresh_minutes` so subscribing apps know how often to poll.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", single_line(name))
    if refresh_minutes:
        calendar.add("refresh-interval", timedelta(minutes=refresh_minutes), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", timedelta(minutes=refresh_minutes))
    for session in sessions:
        lead = session.effective_starting_lead_minutes if alarms else None
        calendar.add_component(session_event(session, alarm_minutes=lead))
    calendar.add_missing_timezones()
    return calendar.to_ical()
