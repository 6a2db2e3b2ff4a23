"""Sessions and series: scheduling, editing, cancelling, RSVP and attendance."""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone as dj_timezone

from core.services import UNSET, given, model_update
from core.validators import validate_timezone

from ..enums import RSVPStatus, SessionStatus
from ..models import RSVP, Attendance, Membership, Series, Session, StudyGroup, User
from ..recurrence import RecurrenceError, expand, normalise_rrule, occurrence_end
from ..signals import attendance_marked, rsvp_changed, session_cancelled, session_saved
from ..versions import Audience, following_versions_bump, group_versions_bump, session_versions_bump

# Changes to these fields are what a calendar or a reminder needs to hear about.
CALENDAR_FIELDS = ("title", "description", "starts_at", "ends_at", "timezone", "location", "online_url", "status")
REMINDER_FIELDS = ("reading_lead_minutes", "starting_lead_minutes")
# What the next session's pack shows of a session in its summary, and what decides which session that is.
SUMMARY_FIELDS = {"title", "starts_at", "ends_at", "timezone", "status"}
MAX_READING_LEAD_MINUTES = 14 * 24 * 60
MAX_STARTING_LEAD_MINUTES = 2 * 24 * 60


def check_leads(reading: int | None, starting: int | None) -> None:
    """Reminder leads: reading 1 hour to 14 days, starting 5 minutes to 2 days before."""
    if reading is not None and not 60 <= reading <= MAX_READING_LEAD_MINUTES:
        raise ValidationError({"reading_lead_minutes": "Choose between 60 minutes and 14 days (20160 minutes)."})
    if starting is not None and not 5 <= starting <= MAX_STARTING_LEAD_MINUTES:
        raise ValidationError({"starting_lead_minutes": "Choose between 5 minutes and 2 days (2880 minutes)."})


def _check_timezone(value: str) -> None:
    try:
        validate_timezone(value)
    except ValidationError as error:
        raise ValidationError({"timezone": error.messages}) from None


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if dj_timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "Give the time with an offset, e.g. 2026-11-05T19:00:00-05:00."})
    if dj_timezone.is_naive(ends_at):
        raise ValidationError({"ends_at": "Give the time with an offset, e.g. 2026-11-05T21:00:00-05:00."})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The session must end after it starts."})


def _facilitator_users(group: StudyGroup, facilitators: Iterable[User | int]) -> list[User]:
    ids = {user if isinstance(user, int) else user.pk for user in facilitators}
    members = list(User.objects.filter(pk__in=ids, memberships__group=group))
    if missing := ids - {user.pk for user in members}:
        raise ValidationError({"facilitators": f"Not members of this group: {sorted(missing)}."})
    return members


@transaction.atomic
def session_create(
    *,
    group: StudyGroup,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str = "",
    description: str = "",
    location: str = "",
    online_url: str = "",
    status: str = SessionStatus.SCHEDULED,
    facilitators: Iterable[User | int] = (),
    post_before_peek: bool = False,
    series: Series | None = None,
    occurrence_index: int | None = None,
) -> Session:
    """Schedule one session. Times must be aware; the timezone defaults to the group's."""
    timezone = timezone or group.timezone
    _check_timezone(timezone)
    _check_times(starts_at, ends_at)
    if not title.strip():
        raise ValidationError({"title": "Give the session a title."})
    if status == SessionStatus.CANCELLED:
        raise ValidationError({"status": "A new session cannot start out cancelled."})
    session = Session.objects.create(
        group=group,
        series=series,
        occurrence_index=occurrence_index,
        title=title.strip(),
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        location=location,
        online_url=online_url,
        status=status,
        post_before_peek=post_before_peek,
    )
    if facilitators:
        session.facilitators.set(_facilitator_users(group, facilitators))
    # The session after this one now shows this one's summary (`previous_session`).
    following_versions_bump(group_id=group.pk, after=starts_at)
    session_saved.send(sender=Session, session=session, created=True, previous_starts_at=None)
    return session


def _apply_session_changes(session: Session, changes: dict) -> Session:
    """Write `changes` to `session`, bump SEQUENCE when a calendar would notice, and tell listeners."""
    facilitators = changes.pop("facilitators", None)
    previous_starts_at = session.starts_at
    previous_status = session.status
    changed = model_update(instance=session, data=changes, save=False)
    calendar_changed = [key for key in changed if key in CALENDAR_FIELDS]
    leads_changed = [key for key in changed if key in REMINDER_FIELDS]
    check_leads(session.reading_lead_minutes, session.starting_lead_minutes)
    if "timezone" in changed:
        _check_timezone(session.timezone)
    _check_times(session.starts_at, session.ends_at)
    if session.status == SessionStatus.CANCELLED and previous_status != SessionStatus.CANCELLED:
        raise ValidationError({"status": "Use the cancel action to cancel a session; it tells the members."})
    if calendar_changed:
        session.sequence += 1
    if changed:
        session.save()
    if SUMMARY_FIELDS & set(changed):
        # What the next session's pack shows of this one (its summary), or which one that is.
        following_versions_bump(group_id=session.group_id, after=min(previous_starts_at, session.starts_at))
    facilitators_changed = False
    if facilitators is not None:
        before = set(session.facilitators.values_list("pk", flat=True))
        session.facilitators.set(_facilitator_users(session.group, facilitators))
        if before != set(session.facilitators.values_list("pk", flat=True)):
            session_versions_bump(sessions=[session.pk], audience=Audience.EVERYONE)
            facilitators_changed = True  # the facilitator's brief goes to whoever leads it now
    if "post_before_peek" in changed:
        # "Post before you peek" guards the session's passages in every pack of the group.
        group_versions_bump(group_ids=[session.group_id])
    if calendar_changed or leads_changed or facilitators_changed:
        moved = session.starts_at != previous_starts_at or previous_status == SessionStatus.CANCELLED
        session_saved.send(
            sender=Session,
            session=session,
            created=False,
            previous_starts_at=previous_starts_at if moved else None,
        )
    return session


@transaction.atomic
def session_update(
    *,
    session: Session,
    title: str = UNSET,
    description: str = UNSET,
    starts_at: datetime = UNSET,
    ends_at: datetime = UNSET,
    timezone: str = UNSET,
    location: str = UNSET,
    online_url: str = UNSET,
    status: str = UNSET,
    reading_lead_minutes: int | None = UNSET,
    starting_lead_minutes: int | None = UNSET,
    facilitators: list[int] = UNSET,
    post_before_peek: bool = UNSET,
) -> Session:
    """Edit one session. A session of a series becomes its own occurrence: later series edits leave it be."""
    changes = given(
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        location=location,
        online_url=online_url,
        status=status,
        reading_lead_minutes=reading_lead_minutes,
        starting_lead_minutes=starting_lead_minutes,
        facilitators=facilitators,
        post_before_peek=post_before_peek,
    )
    session = Session.objects.select_for_update().select_related("group").get(pk=session.pk)
    if session.status == SessionStatus.CANCELLED and changes.get("status") in (None, SessionStatus.CANCELLED):
        raise ValidationError({"status": "This session is cancelled; set its status to “scheduled” to reinstate it."})
    if session.series_id is not None and any(
        getattr(session, key) != value for key, value in changes.items() if key in CALENDAR_FIELDS
    ):
        session.detached = True
    return _apply_session_changes(session, changes)


@transaction.atomic
def session_cancel(*, session: Session, by_series: bool = False) -> Session:
    """Cancel one session (one occurrence, for a series). Idempotent.

    Cancelled on its own, an occurrence is detached from its series; cancelled
    because the series was shortened (`by_series`), it stays attached, so
    lengthening the series again brings it back.
    """
    session = Session.objects.select_for_update().select_related("group").get(pk=session.pk)
    if session.status == SessionStatus.CANCELLED:
        return session
    previous_status = session.status
    session.status = SessionStatus.CANCELLED
    session.sequence += 1
    if session.series_id is not None and not by_series:
        session.detached = True
    session.save()
    following_versions_bump(group_id=session.group_id, after=session.starts_at)
    session_cancelled.send(sender=Session, session=session, previous_status=previous_status)
    return session


@transaction.atomic
def session_reading_minutes_set(*, session_id: int, minutes: int) -> None:
    """Record how long the session's reading takes: its preparation time, shown with the session.

    The readings layer computes the number (the sum of the session's assignments' minutes) and calls
    this whenever it changes; the session keeps it so a list of sessions shows it without a join.
    Nothing else about the session changes: no SEQUENCE, no version (the pack counts its own minutes).
    """
    if minutes < 0:
        raise ValueError("A session's reading time cannot be negative.")
    Session.objects.filter(pk=session_id).update(reading_minutes=minutes)


def _expand_series(series: Series) -> list[datetime]:
    try:
        return expand(series.rrule, series.first_starts_at, series.timezone)
    except RecurrenceError as error:
        raise ValidationError({"rrule": str(error)}) from None


def _validate_series(series: Series) -> list[datetime]:
    if not series.title.strip():
        raise ValidationError({"title": "Give the series a title."})
    _check_timezone(series.timezone)
    if series.duration_minutes < 1:
        raise ValidationError({"duration_minutes": "A session lasts at least one minute."})
    if series.rrule:
        try:
            series.rrule = normalise_rrule(series.rrule)
        except RecurrenceError as error:
            raise ValidationError({"rrule": str(error)}) from None
    return _expand_series(series)


@transaction.atomic
def series_create(
    *,
    group: StudyGroup,
    title: str,
    timezone: str,
    first_starts_at: datetime,
    duration_minutes: int = 90,
    rrule: str = "",
    description: str = "",
    location: str = "",
    online_url: str = "",
    facilitators: Iterable[User | int] = (),
) -> Series:
    """Create a series and every session its rule generates (at most 200), at a fixed local time."""
    if first_starts_at.tzinfo is not None:
        raise ValidationError(
            {"first_starts_at": "Give local wall-clock time without an offset, e.g. 2026-10-22T19:00:00."}
        )
    series = Series(
        group=group,
        title=title.strip(),
        timezone=timezone,
        first_starts_on=first_starts_at.date(),
        local_start_time=first_starts_at.time(),
        duration_minutes=duration_minutes,
        rrule=rrule.strip(),
        description=description,
        location=location,
        online_url=online_url,
    )
    starts = _validate_series(series)
    series.save()
    facilitators = list(facilitators)
    for index, start in enumerate(starts):
        session_create(
            group=group,
            series=series,
            occurrence_index=index,
            title=series.title,
            description=description,
            starts_at=start,
            ends_at=occurrence_end(start, duration_minutes),
            timezone=timezone,
            location=location,
            online_url=online_url,
            facilitators=facilitators,
        )
    return series


@transaction.atomic
def series_update(
    *,
    series: Series,
    now: datetime | None = None,
    title: str = UNSET,
    description: str = UNSET,
    timezone: str = UNSET,
    first_starts_at: datetime = UNSET,
    duration_minutes: int = UNSET,
    rrule: str = UNSET,
    location: str = UNSET,
    online_url: str = UNSET,
) -> Series:
    """Edit a series and carry the change to its future sessions.

    Sessions that have started keep their history; sessions edited or
    cancelled on their own keep their own details. Occurrences the new rule
    no longer produces are cancelled (members are told); new ones are created.
    """
    changes = given(
        title=title,
        description=description,
        timezone=timezone,
        first_starts_at=first_starts_at,
        duration_minutes=duration_minutes,
        rrule=rrule,
        location=location,
        online_url=online_url,
    )
    now = now or dj_timezone.now()
    series = Series.objects.select_for_update().get(pk=series.pk)
    first = changes.pop("first_starts_at", None)
    if first is not None:
        if first.tzinfo is not None:
            raise ValidationError(
                {"first_starts_at": "Give local wall-clock time without an offset, e.g. 2026-10-22T19:00:00."}
            )
        series.first_starts_on, series.local_start_time = first.date(), first.time()
    changes.update({key: changes[key].strip() for key in ("title", "rrule") if key in changes})
    model_update(instance=series, data=changes, save=False)
    starts = _validate_series(series)
    series.save()

    existing = {session.occurrence_index: session for session in series.sessions.select_related("group")}
    for index, start in enumerate(starts):
        session = existing.pop(index, None)
        if session is None:
            if start > now:
                session_create(
                    group=series.group,
                    series=series,
                    occurrence_index=index,
                    title=series.title,
                    description=series.description,
                    starts_at=start,
                    ends_at=occurrence_end(start, series.duration_minutes),
                    timezone=series.timezone,
                    location=series.location,
                    online_url=series.online_url,
                )
            continue
        if session.starts_at <= now or session.detached:
            continue
        _apply_session_changes(
            session,
            {
                # An occurrence the series itself cancelled (it was shortened) comes back.
                "status": SessionStatus.SCHEDULED if session.status == SessionStatus.CANCELLED else session.status,
                "title": series.title,
                "description": series.description,
                "starts_at": start,
                "ends_at": occurrence_end(start, series.duration_minutes),
                "timezone": series.timezone,
                "location": series.location,
                "online_url": series.online_url,
            },
        )
    for session in existing.values():
        if session.starts_at > now and not session.detached:
            session_cancel(session=session, by_series=True)
    return series


@transaction.atomic
def rsvp_set(*, session: Session, user: User, status: str | None) -> RSVP | None:
    """Record (or with `None`, withdraw) a member's answer for an upcoming session."""
    if status is not None and status not in RSVPStatus.values:
        raise ValidationError({"status": f"“{status}” is not an answer; choose one of {', '.join(RSVPStatus.values)}."})
    if not Membership.objects.filter(group_id=session.group_id, user=user).exists():
        raise ValidationError({"session": "Only members of the group can answer."})
    if session.status != SessionStatus.SCHEDULED:
        raise ValidationError({"status": f"This session is {session.status}; RSVPs are closed."})
    if session.starts_at <= dj_timezone.now():
        raise ValidationError({"status": "This session has already started; RSVPs are closed."})
    if status is None:
        RSVP.objects.filter(session=session, user=user).delete()
        rsvp = None
    else:
        rsvp, _ = RSVP.objects.update_or_create(session=session, user=user, defaults={"status": status})
    rsvp_changed.send(sender=RSVP, session=session, user=user, status=status)
    return rsvp


@transaction.atomic
def attendance_set(*, session: Session, marked_by: User, present: Iterable[int]) -> list[int]:
    """Replace the set of members marked present at `session`; returns their ids in order.

    In the same transaction: the packs of the sessions after it (which show who came) get new
    versions, and `attendance_marked` lets reminders plan the after-session summary.
    """
    present = set(present)
    members = set(
        Membership.objects.filter(group_id=session.group_id, user_id__in=present).values_list("user_id", flat=True)
    )
    if missing := present - members:
        raise ValidationError({"present": f"Not members of this group: {sorted(missing)}."})
    if present and session.starts_at > dj_timezone.now():
        raise ValidationError({"present": "Attendance can be marked once the session has started."})
    Attendance.objects.filter(session=session).exclude(user_id__in=present).delete()
    already = set(Attendance.objects.filter(session=session).values_list("user_id", flat=True))
    Attendance.objects.bulk_create(
        [Attendance(session=session, user_id=user_id, marked_by=marked_by) for user_id in sorted(present - already)]
    )
    following_versions_bump(group_id=session.group_id, after=session.starts_at)
    if present:
        attendance_marked.send(sender=Attendance, session=session, marked_by=marked_by)
    return sorted(present)
