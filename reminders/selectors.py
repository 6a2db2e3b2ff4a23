"""Reads for reminders: who is told about a session, and what a reminder shows.

Whom planning reminds and whom a cancellation tells are answered here, in
one place, so the web UI can say "who will be emailed" with the rule the
dispatcher follows.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from readings.enums import QuestionState
from readings.models import DiscussionQuestion, ReadingAssignment
from readings.selectors import questions_for, readings_of
from sessions_app.enums import RSVPStatus, SessionStatus
from sessions_app.models import RSVP, Membership, Session, User

from .enums import PREFERENCE_FIELD, ReminderKind


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
