"""Reads for reminders: who is told about a session, and what a reminder shows.

Whom planning reminds and whom a cancellation tells are answered here, in
one place, so the web UI can say "who will be emailed" with the rule the
dispatcher follows.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from readings.enums import NoteVisibility, QuestionState
from readings.models import DiscussionQuestion, Note, ReadingAssignment
from readings.selectors import in_threads_for, notes_visible_to, questions_for, readings_of
from sessions_app.enums import RSVPStatus, SessionStatus
from sessions_app.models import RSVP, Membership, Session, User

from .enums import PREFERENCE_FIELD, ReminderKind
from .models import Notification


def _reachable(prefix: str = "") -> Q:
    """People an email can reach: an active account with an address."""
    return Q(**{f"{prefix}is_active": True}) & ~Q(**{f"{prefix}email": ""})


def switched_on(kind: str, prefix: str = "") -> Q:
    """The kind's email switch is on (no preference row means the defaults: all on)."""
    field = PREFERENCE_FIELD[kind]
    return Q(**{f"{prefix}notification_preference__isnull": True}) | Q(
        **{f"{prefix}notification_preference__{field}": True}
    )


def recipient_memberships(group_ids: Iterable[int], user_ids: Iterable[int] | None = None) -> QuerySet[Membership]:
    """Memberships whose person can be emailed, in `group_ids` (and, if given, only `user_ids`)."""
    memberships = Membership.objects.filter(_reachable("user__"), group_id__in=list(group_ids))
    if user_ids is not None:
        memberships = memberships.filter(user_id__in=list(user_ids))
    return memberships


def declined_pairs(session_ids: Iterable[int], user_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """(session id, user id) of everyone who declined one of these sessions."""
    rsvps = RSVP.objects.filter(session_id__in=list(session_ids), status=RSVPStatus.DECLINED)
    if user_ids is not None:
        rsvps = rsvps.filter(user_id__in=list(user_ids))
    return set(rsvps.values_list("session_id", "user_id"))


def cancellation_recipients(session: Session, *, now: datetime | None = None) -> QuerySet[User]:
    """Who is emailed when `session` is cancelled (or was just cancelled).

    Every member of the group who has not declined the session, can be
    emailed and has `cancelled` notices switched on. Nobody for a draft
    (members never saw it) or for a session that has already started.
    The caller has already checked that the asking user may see the session.
    """
    now = now or timezone.now()
    if session.status not in (SessionStatus.SCHEDULED, SessionStatus.CANCELLED) or session.starts_at <= now:
        return User.objects.none()
    declined = RSVP.objects.filter(session=session, status=RSVPStatus.DECLINED).values("user_id")
    return (
        User.objects.filter(_reachable(), switched_on(ReminderKind.CANCELLED), memberships__group_id=session.group_id)
        .exclude(pk__in=declined)
        .order_by("username", "id")
    )


def reading_assignments(session: Session) -> list[ReadingAssignment]:
    return list(readings_of(session))


def accepted_questions(session: Session, reader: User) -> list[DiscussionQuestion]:
    """The session's accepted questions, as any member sees them (never facilitator notes or proposals)."""
    return list(questions_for(reader, session, sees_all=False).filter(state=QuestionState.ACCEPTED))


# --- Notifications ---------------------------------------------------------------------------------


def _withheld_notes(user: User) -> QuerySet[Note]:
    """Notes the peek rule alone keeps from `user`: undeleted, unhidden `group` threads in one of their groups.

    Every member of a group sees its `group` threads, so a note of this kind
    that `notes_visible_to` leaves out is held back by "post before you peek":
    a notification about it may say that there is one, but not what it says.
    """
    return Note.objects.filter(
        in_threads_for(NoteVisibility.GROUP),
        deleted_at__isnull=True,
        hidden_root__isnull=True,
        passage__text__group__memberships__user=user,
    )


def notifications_shown(user: User) -> QuerySet[Notification]:
    """The user's notifications that still tell something, newest first, each marked `shows_note` or not.

    Read with the user's rights now: one about a note they may see shows it
    (`shows_note`); one that post-before-you-peek holds back says there is a
    note without its words; one about a note since deleted, hidden, made
    private or out of their groups is left out. Constant query count.
    """
    memberships = list(Membership.objects.filter(user=user))
    visible = notes_visible_to(user, memberships=memberships).filter(pk=OuterRef("note_id"), deleted_at__isnull=True)
    withheld = _withheld_notes(user).filter(pk=OuterRef("note_id"))
    return (
        Notification.objects.filter(recipient=user, group_id__in=[m.group_id for m in memberships])
        .annotate(shows_note=Exists(visible), note_withheld=Exists(withheld))
        .filter(Q(note__isnull=True) | Q(shows_note=True) | Q(note_withheld=True))
        .order_by("-created_at", "-id")
    )


def unread_notification_count(user: User) -> int:
    return notifications_shown(user).filter(read_at__isnull=True).count()


def note_links(notes: Iterable[Note], *, now: datetime | None = None) -> dict[int, str]:
    """Where each note is read (a path): the reader of the next session that assigns its passage, else of
    the latest one, else the text's own page at the passage. One query for any number of notes."""
    now = now or timezone.now()
    notes = list(notes)
    text_ids = {note.passage.text_id for note in notes}
    assignments = list(
        ReadingAssignment.objects.filter(text_id__in=text_ids)
        .exclude(session__status__in=[SessionStatus.DRAFT, SessionStatus.CANCELLED])
        .values_list("text_id", "start_passage__position", "end_passage__position", "session_id", "session__starts_at")
    )
    links = {}
    for note in notes:
        passage = note.passage
        sessions = [
            (starts, session_id)
            for text_id, first, last, session_id, starts in assignments
            if text_id == passage.text_id and first <= passage.position <= last
        ]
        upcoming = sorted(one for one in sessions if one[0] >= now)
        if upcoming or sessions:
            session_id = upcoming[0][1] if upcoming else max(sessions)[1]
            links[note.pk] = reverse("session-read", args=[session_id]) + f"#note-{note.pk}"
        else:
            links[note.pk] = reverse("text-detail", args=[passage.text_id]) + f"#p-{passage.position}"
    return links


def notification_views(user: User, notifications: Sequence[Notification]) -> dict[int, bool]:
    """For the emails: notification id → True (its note shows) or False (the peek rule holds it back);
    notifications that tell nothing any more are left out. Two queries for any number."""
    note_ids = {one.note_id for one in notifications if one.note_id}
    memberships = list(Membership.objects.filter(user=user))
    visible = set(
        notes_visible_to(user, memberships=memberships)
        .filter(pk__in=note_ids, deleted_at__isnull=True)
        .values_list("pk", flat=True)
    )
    withheld = set(_withheld_notes(user).filter(pk__in=note_ids - visible).values_list("pk", flat=True))
    groups = {m.group_id for m in memberships}
    views = {}
    for one in notifications:
        if one.group_id not in groups:
            continue
        if one.note_id is None or one.note_id in visible:
            views[one.pk] = True
        elif one.note_id in withheld:
            views[one.pk] = False
    return views
