"""After-session summaries: one email per member once a session has been held.

Planned in the transaction that marks attendance (`attendance_marked`, from
`sessions_app.services.schedule.attendance_set`), or, when nobody marks it,
by the dispatch pass `SUMMARY_HOURS_AFTER_END` hours after the session's end
(`reminders_plan_summaries`). One row per member who can be emailed and has
summaries on, named by its dedupe key (kind, session, person, start), so
marking attendance twice, or a pass after the marking, plans nothing more.

What an email says is built for its recipient when it is sent
(`readings.summary.session_summary`, with their rights then). A summary not
sent within `SUMMARY_EXPIRES_DAYS` of the session's end is skipped with the
reason instead of going out late (`summary_skip_reason`). Unlike the
reminders before a session, it is not skipped because the session started.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef

from sessions_app.enums import SUMMARY_STATUSES
from sessions_app.models import Membership, Session

from ..enums import ReminderKind
from ..models import Reminder
from ..selectors import recipient_memberships, switched_on
from .planning import session_email
from .preferences import email_switched_on


def summary_expires_at(session: Session) -> datetime:
    """After this moment a summary of `session` is no longer sent."""
    return session.ends_at + timedelta(days=settings.SUMMARY_EXPIRES_DAYS)


def summaries_plan_for_session(*, session: Session, now: datetime) -> int:
    """Plan the summary of `session` for every member who can be emailed and has summaries on; returns how many.

    Due at the session's end (at once if that has passed). Idempotent and safe concurrently: the rows
    go in with one INSERT that skips taken keys, so a person gets one summary per session and start.
    Nothing for a draft or cancelled session, nor once the summary would have expired. Two queries.
    """
    if session.status not in SUMMARY_STATUSES or now >= summary_expires_at(session):
        return 0
    people = (
        recipient_memberships([session.group_id])
        .filter(switched_on(ReminderKind.SUMMARY, prefix="user__"))
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    due_at = max(now, session.ends_at)
    rows = [
        session_email(
            session_id=session.pk,
            recipient_id=user_id,
            kind=ReminderKind.SUMMARY,
            starts_at=session.starts_at,
            due_at=due_at,
        )
        for user_id in people
    ]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def reminders_plan_summaries(*, now: datetime) -> int:
    """Plan the summaries of sessions that ended `SUMMARY_HOURS_AFTER_END` ago without attendance being marked.

    Only sessions with no summary planned yet, still within the expiry window. Run by each dispatch
    pass; idempotent. One query for the sessions, then two per session found.
    """
    ended_before = now - timedelta(hours=settings.SUMMARY_HOURS_AFTER_END)
    sessions = Session.objects.filter(
        status__in=SUMMARY_STATUSES,
        ends_at__lte=ended_before,
        ends_at__gt=now - timedelta(days=settings.SUMMARY_EXPIRES_DAYS),
    ).filter(~Exists(Reminder.objects.filter(session_id=OuterRef("pk"), kind=ReminderKind.SUMMARY)))
    return sum(summaries_plan_for_session(session=session, now=now) for session in sessions.order_by("ends_at", "pk"))


def summary_skip_reason(reminder: Reminder, *, now: datetime, membership: Membership | None) -> str | None:
    """Why this summary must not be sent now (it becomes `skipped`), or None to send it."""
    session, user = reminder.session, reminder.recipient
    if now >= summary_expires_at(session):
        return f"Expired: not sent within {settings.SUMMARY_EXPIRES_DAYS} days of the session's end."
    if session.status not in SUMMARY_STATUSES:
        return f"The session is {session.status}."
    if reminder.for_starts_at != session.starts_at:
        return "The session moved; its summary follows the new time."
    if membership is None:
        return "The recipient is no longer a member of the group."
    if not user.is_active or not user.email:
        return "The recipient has no active account with an email address."
    if not email_switched_on(getattr(user, "notification_preference", None), reminder.kind):
        return f"The recipient switched off “{ReminderKind(reminder.kind).label}” emails."
    return None


def summary_memberships(reminders: list[Reminder]) -> dict[tuple[int, int], Membership]:
    """The recipients' memberships in the sessions' groups, by (group id, user id); one query."""
    rows = [reminder for reminder in reminders if reminder.kind == ReminderKind.SUMMARY]
    if not rows:
        return {}
    memberships = Membership.objects.filter(
        group_id__in={reminder.session.group_id for reminder in rows},
        user_id__in={reminder.recipient_id for reminder in rows},
    ).select_related("group")
    return {(membership.group_id, membership.user_id): membership for membership in memberships}
