"""Nudges: before a session, one short email to each member who has read too little of its reading.

Who needs a nudge depends on what they have read by then, so nudges are
planned when their moment comes, not when the session is made: each dispatch
pass (`reminders_dispatch_due`) first plans the nudges of every scheduled
session starting within `NUDGE_LEAD_MINUTES`, for the members who are going
or have not answered, can be emailed, have nudges on, and have read less
than `NUDGE_BELOW_PERCENT` of its required reading. The row's dedupe key
(kind, session, person, start) makes it one nudge per person and start
however many passes run; the dispatcher sends it like any reminder (lease,
retries, Message-ID, unsubscribe) and checks again before sending.
"""

from datetime import datetime, timedelta

from django.conf import settings

from readings.models import ReadingAssignment
from readings.progress import percent_of, required_words_read
from sessions_app.enums import RSVPStatus, SessionStatus
from sessions_app.models import RSVP, Session

from ..enums import ReminderKind
from ..models import Reminder
from ..selectors import recipient_memberships, switched_on
from .planning import session_email


def nudge_wanted(*, read_words: int, required_words: int) -> bool:
    """Whether someone who read `read_words` of `required_words` is nudged."""
    percent = percent_of(read_words, required_words)
    return percent is not None and percent < settings.NUDGE_BELOW_PERCENT


def reminders_plan_nudges(*, now: datetime) -> int:
    """Plan the nudges now due (see the module); returns how many are wanted (new rows or already planned).

    Idempotent, and safe in several workers at once: the rows go in with one INSERT that skips taken
    keys. Cost: one query for the sessions, then a fixed number per session starting soon (its
    members, answers and progress), whatever the number of members.
    """
    sessions = list(
        Session.objects.filter(
            status=SessionStatus.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(minutes=settings.NUDGE_LEAD_MINUTES),
            pk__in=ReadingAssignment.objects.filter(required=True).values("session_id"),
        ).order_by("starts_at", "pk")
    )
    rows = []
    for session in sessions:
        people = list(
            recipient_memberships([session.group_id])
            .filter(switched_on(ReminderKind.NUDGE, prefix="user__"))
            .exclude(
                user_id__in=RSVP.objects.filter(
                    session=session, status__in=[RSVPStatus.DECLINED, RSVPStatus.MAYBE]
                ).values("user_id")
            )
            .values_list("user_id", flat=True)
        )
        required_words, read = required_words_read(session, people)
        rows += [
            session_email(
                session_id=session.pk,
                recipient_id=user_id,
                kind=ReminderKind.NUDGE,
                starts_at=session.starts_at,
                due_at=now,
            )
            for user_id in people
            if nudge_wanted(read_words=read.get(user_id, 0), required_words=required_words)
        ]
    # A nudge already planned (or sent) for this person and start keeps its row: the key is taken.
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
