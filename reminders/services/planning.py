"""Planning: which reminder rows should exist, written in the transaction of the change that moved them.

Every entry point reconciles the outbox with the world as it now is (who is
a member, who declined, each person's switches and reading lead, the
session's time and status) and touches only rows that have not been taken
by a dispatcher: `pending` rows are created, moved or dropped; `sending`,
`sent`, `failed` and `skipped` rows are history and stay as they are.

Query cost does not grow with the number of members or rows: one read of
the members (with their preferences), one of the declines, one of the
existing rows (locked), then at most one bulk insert, one delete, and one
update per distinct new due time (at most nine a session).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from sessions_app.enums import Role, SessionStatus
from sessions_app.models import Session, StudyGroup, User

from ..enums import SCHEDULED_KINDS, ReminderKind, ReminderState
from ..keys import session_email_key
from ..models import Reminder
from ..selectors import cancellation_recipients, declined_pairs, recipient_memberships


@dataclass(frozen=True)
class PlanResult:
    """What a planning call changed in the outbox."""

    created: int = 0
    moved: int = 0
    dropped: int = 0
    notices: int = 0

    def __add__(self, other: "PlanResult") -> "PlanResult":
        return PlanResult(
            self.created + other.created,
            self.moved + other.moved,
            self.dropped + other.dropped,
            self.notices + other.notices,
        )


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    reading_lead_minutes: int | None
    email_reading: bool
    email_starting: bool
    email_changed: bool
    email_brief: bool = True
    role: str = Role.MEMBER


def _recipients_by_group(group_ids: Iterable[int], user_ids: Iterable[int] | None) -> dict[int, list[_Recipient]]:
    """Everyone who can be emailed in these groups, with the preferences planning needs (one query)."""
    rows = (
        recipient_memberships(group_ids, user_ids)
        .order_by()
        .values_list(
            "group_id",
            "user_id",
            "user__notification_preference__reading_lead_minutes",
            "user__notification_preference__email_reading",
            "user__notification_preference__email_starting",
            "user__notification_preference__email_changed",
            "user__notification_preference__email_brief",
            "role",
        )
    )
    by_group: dict[int, list[_Recipient]] = defaultdict(list)
    for group_id, user_id, lead_minutes, reading, starting, changed, brief, role in rows:
        # No preference row (LEFT JOIN gives NULLs): the defaults, every switch on.
        by_group[group_id].append(
            _Recipient(
                user_id,
                lead_minutes,
                reading is not False,
                starting is not False,
                changed is not False,
                brief is not False,
                role,
            )
        )
    return by_group


@dataclass(frozen=True)
class _Audience:
    """Who may hear about a set of sessions: reachable members by group, and who declined which session."""

    recipients: dict[int, list[_Recipient]]
    declined: set[tuple[int, int]]
    # Session id → the ids of the facilitators it lists (for the brief).
    leads: dict[int, set[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, sessions: Sequence[Session], user_ids: Iterable[int] | None) -> "_Audience":
        live = [session for session in sessions if session.status == SessionStatus.SCHEDULED]
        if not live:
            return cls({}, set())
        leads: dict[int, set[int]] = defaultdict(set)
        for session_id, user_id in Session.facilitators.through.objects.filter(
            session_id__in=[session.pk for session in live]
        ).values_list("session_id", "user_id"):
            leads[session_id].add(user_id)
        return cls(
            _recipients_by_group({session.group_id for session in live}, user_ids),
            declined_pairs([session.pk for session in live], user_ids),
            dict(leads),
        )

    def brief_recipients(self, session: Session) -> list[_Recipient]:
        """Who gets the session's brief: the facilitators it lists, else the group's organizers."""
        people = self.of_session(session)
        if leads := self.leads.get(session.pk):
            return [person for person in people if person.user_id in leads]
        return [person for person in people if person.role == Role.ORGANIZER]

    def of_session(self, session: Session) -> list[_Recipient]:
        return [
            person
            for person in self.recipients.get(session.group_id, ())
            if (session.pk, person.user_id) not in self.declined
        ]


def session_email(
    *, session_id: int, recipient_id: int, kind: str, starts_at: datetime, due_at: datetime, **fields
) -> Reminder:
    """An (unsaved) outbox row about one session at one start time, named by its dedupe key."""
    return Reminder(
        session_id=session_id,
        recipient_id=recipient_id,
        kind=kind,
        dedupe_key=session_email_key(kind=kind, session_id=session_id, recipient_id=recipient_id, starts_at=starts_at),
        for_starts_at=starts_at,
        due_at=due_at,
        next_attempt_at=due_at,
        **fields,
    )


def _session_key_expression(starts_at: datetime):
    """`session_email_key` as SQL, for rows moved to `starts_at` in one UPDATE (kind, session and person per row)."""
    stamp = session_email_key(kind="", session_id=0, recipient_id=0, starts_at=starts_at).rsplit(":", 1)[1]
    text = CharField()
    return Concat(
        F("kind"),
        Value(":session-"),
        Cast("session_id", text),
        Value(":user-"),
        Cast("recipient_id", text),
        Value(f":{stamp}"),
        output_field=text,
    )


def reminder_due_at(*, session: Session, kind: str, reading_lead_minutes: int | None = None) -> datetime:
    """When a `reading`, `starting` or `brief` email of `session` is due; a personal reading lead beats the defaults."""
    if kind == ReminderKind.BRIEF:
        return session.starts_at - timedelta(hours=settings.BRIEF_HOURS_BEFORE)
    if kind == ReminderKind.READING:
        minutes = reading_lead_minutes if reading_lead_minutes else session.effective_reading_lead_minutes
        lead = timedelta(minutes=minutes)
    else:
        lead = timedelta(minutes=session.effective_starting_lead_minutes)
    return session.starts_at - lead


def _desired_rows(sessions: Sequence[Session], audience: _Audience) -> dict[tuple[int, int, str], datetime]:
    """(session id, user id, kind) → due time, for every reminder that should exist.

    `reading` and `starting` for every member who has not declined; `brief` for the facilitators the
    session lists (its group's organizers when it lists none) who have not declined.
    """
    desired: dict[tuple[int, int, str], datetime] = {}
    for session in sessions:
        if session.status != SessionStatus.SCHEDULED:
            continue
        starting_due = reminder_due_at(session=session, kind=ReminderKind.STARTING)
        for person in audience.of_session(session):
            if person.email_reading:
                desired[(session.pk, person.user_id, ReminderKind.READING)] = reminder_due_at(
                    session=session, kind=ReminderKind.READING, reading_lead_minutes=person.reading_lead_minutes
                )
            if person.email_starting:
                desired[(session.pk, person.user_id, ReminderKind.STARTING)] = starting_due
        brief_due = reminder_due_at(session=session, kind=ReminderKind.BRIEF)
        for person in audience.brief_recipients(session):
            if person.email_brief:
                desired[(session.pk, person.user_id, ReminderKind.BRIEF)] = brief_due
    return desired


def _reconcile(
    *, sessions: Sequence[Session], user_ids: Iterable[int] | None, now: datetime, audience: _Audience | None = None
) -> PlanResult:
    """Make the pending `reading`/`starting` rows of `sessions` (for `user_ids`, or everyone) match the world.

    Sessions that have started are left alone: their late rows are the
    dispatcher's to skip.
    """
    sessions = [session for session in sessions if session.starts_at > now]
    if not sessions:
        return PlanResult()
    user_ids = None if user_ids is None else list(user_ids)
    starts = {session.pk: session.starts_at for session in sessions}
    scheduled = {session.pk for session in sessions if session.status == SessionStatus.SCHEDULED}
    desired = _desired_rows(sessions, audience or _Audience.of(sessions, user_ids))

    # Lock what we may change, so no dispatcher claims a row between this read and our writes
    # (its claim skips locked rows); on SQLite the IMMEDIATE transaction already holds the write lock.
    existing = Reminder.objects.select_for_update().filter(session_id__in=list(starts))
    existing = existing.filter(
        Q(kind__in=SCHEDULED_KINDS) | Q(kind=ReminderKind.CANCELLED, state=ReminderState.PENDING)
    )
    if user_ids is not None:
        existing = existing.filter(recipient_id__in=user_ids)
    existing = list(
        existing.only("pk", "session_id", "recipient_id", "kind", "for_starts_at", "due_at", "state").order_by("pk")
    )

    # A key already has its row for the session's current start (whatever its state): never a second one.
    placed = {
        (row.session_id, row.recipient_id, row.kind) for row in existing if row.for_starts_at == starts[row.session_id]
    }
    # Someone who already got this kind for an earlier start of the session is not sent it again
    # at once for the new start: the `changed` notice carries the new time (and the .ics).
    told_before = {
        (row.session_id, row.recipient_id, row.kind)
        for row in existing
        if row.state in (ReminderState.SENT, ReminderState.SENDING) and row.for_starts_at != starts[row.session_id]
    }
    to_drop: list[int] = []
    to_move: list[Reminder] = []
    # Rows already at the current start first, so a stale row never displaces one.
    for row in sorted(existing, key=lambda row: row.for_starts_at != starts[row.session_id]):
        if row.state != ReminderState.PENDING:
            continue
        if row.kind == ReminderKind.CANCELLED:
            if row.session_id in scheduled:  # reinstated before its cancellation notice went out
                to_drop.append(row.pk)
            continue
        key = (row.session_id, row.recipient_id, row.kind)
        due_at = desired.get(key)
        start = starts[row.session_id]
        if due_at is None:
            to_drop.append(row.pk)
            continue
        if row.for_starts_at != start:
            if key in placed or (key in told_before and due_at <= now):
                to_drop.append(row.pk)
                continue
            placed.add(key)
        if row.for_starts_at != start or row.due_at != due_at:
            row.for_starts_at, row.due_at, row.next_attempt_at = start, due_at, due_at
            to_move.append(row)

    to_create = [
        session_email(
            session_id=session_id, recipient_id=user_id, kind=kind, starts_at=starts[session_id], due_at=due_at
        )
        for (session_id, user_id, kind), due_at in desired.items()
        if (session_id, user_id, kind) not in placed
        and not ((session_id, user_id, kind) in told_before and due_at <= now)
    ]
    if to_drop:
        Reminder.objects.filter(pk__in=to_drop, state=ReminderState.PENDING).delete()
    # One UPDATE per distinct new time (a session has at most nine: the starting lead, and the
    # group's or a personal reading lead), not per row: bulk_update's CASE grows with the rows.
    moves: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for row in to_move:
        moves[(row.for_starts_at, row.due_at)].append(row.pk)
    for (start, due_at), ids in moves.items():
        Reminder.objects.filter(pk__in=ids, state=ReminderState.PENDING).update(
            for_starts_at=start, due_at=due_at, next_attempt_at=due_at, dedupe_key=_session_key_expression(start)
        )
    if to_create:
        # A concurrent planner may have inserted the same key; the constraint keeps one.
        # (A stale row moved to the current start above keeps its key: the row moved, not the email.)
        Reminder.objects.bulk_create(to_create, ignore_conflicts=True)
    return PlanResult(created=len(to_create), moved=len(to_move), dropped=len(to_drop))


def _plan_change_notices(*, session: Session, previous_starts_at: datetime, now: datetime, audience: _Audience) -> int:
    """Queue a `changed` notice for everyone already emailed about `session` who should still hear of it."""
    if session.status != SessionStatus.SCHEDULED or session.starts_at <= now:
        return 0
    # Notices about an older new time that has not gone out yet are replaced by this one.
    Reminder.objects.filter(session=session, kind=ReminderKind.CHANGED, state=ReminderState.PENDING).exclude(
        for_starts_at=session.starts_at
    ).delete()
    reminded = set(
        Reminder.objects.filter(session=session, state__in=[ReminderState.SENT, ReminderState.SENDING])
        .order_by()
        .values_list("recipient_id", flat=True)
    )
    notices = [
        session_email(
            session_id=session.pk,
            recipient_id=person.user_id,
            kind=ReminderKind.CHANGED,
            starts_at=session.starts_at,
            due_at=now,
            previous_starts_at=previous_starts_at,
        )
        for person in audience.of_session(session)
        if person.user_id in reminded and person.email_changed
    ]
    Reminder.objects.bulk_create(notices, ignore_conflicts=True)
    return len(notices)


@transaction.atomic
def reminders_plan_for_session(
    *, session: Session, previous_starts_at: datetime | None = None, now: datetime | None = None
) -> PlanResult:
    """Plan every member's `reading` and `starting` reminders for `session` as it now is.

    Call inside the transaction that created or changed the session. Idempotent:
    planning twice changes nothing. When the session moved (or came back
    from cancelled), pass `previous_starts_at`: pending reminders move to the
    new time, and everyone already emailed about the session gets one
    `changed` notice per new start time. A draft, completed or cancelled
    session keeps no pending reminders. Constant query count for any group size.
    """
    now = now or timezone.now()
    audience = _Audience.of([session], None)
    result = _reconcile(sessions=[session], user_ids=None, now=now, audience=audience)
    if previous_starts_at is not None:
        notices = _plan_change_notices(
            session=session, previous_starts_at=previous_starts_at, now=now, audience=audience
        )
        result += PlanResult(notices=notices)
    return result


@transaction.atomic
def reminders_plan_for_cancellation(
    *, session: Session, notify: bool = True, now: datetime | None = None
) -> PlanResult:
    """Drop the pending reminders of a just-cancelled session and queue the `cancelled` notices.

    The notices go to `cancellation_recipients(session)`: every member who
    has not declined and has `cancelled` notices on. Nothing is queued for a
    session that has already started, or with `notify=False` (a draft that
    was never announced). Idempotent (one notice per person per start time).
    """
    now = now or timezone.now()
    pending = Reminder.objects.filter(
        session=session,
        state=ReminderState.PENDING,
        kind__in=[ReminderKind.READING, ReminderKind.STARTING, ReminderKind.CHANGED, ReminderKind.BRIEF],
    )
    dropped, _ = pending.delete()
    notices = [
        session_email(
            session_id=session.pk,
            recipient_id=user_id,
            kind=ReminderKind.CANCELLED,
            starts_at=session.starts_at,
            due_at=now,
        )
        for user_id in (cancellation_recipients(session, now=now).values_list("pk", flat=True) if notify else [])
    ]
    Reminder.objects.bulk_create(notices, ignore_conflicts=True)
    return PlanResult(dropped=dropped, notices=len(notices))


@transaction.atomic
def reminders_plan_for_user(
    *,
    user: User,
    group: StudyGroup | None = None,
    sessions: Sequence[Session] | None = None,
    now: datetime | None = None,
) -> PlanResult:
    """Re-plan one person's reminders after their membership, RSVP or preferences changed.

    Covers `sessions` if given, else the upcoming sessions of `group`, else
    of every group they are in. A person who left `group` keeps no pending
    reminders there. Idempotent; constant query count.
    """
    now = now or timezone.now()
    if sessions is None:
        upcoming = Session.objects.filter(starts_at__gt=now).select_related("group")
        upcoming = upcoming.filter(group=group) if group is not None else upcoming.filter(group__memberships__user=user)
        sessions = list(upcoming)
    return _reconcile(sessions=sessions, user_ids=[user.pk], now=now)


@transaction.atomic
def reminders_plan_for_group(*, group: StudyGroup, now: datetime | None = None) -> PlanResult:
    """Re-plan every upcoming session of `group` after its reminder defaults changed. Idempotent."""
    now = now or timezone.now()
    sessions = list(Session.objects.filter(group=group, starts_at__gt=now).select_related("group"))
    return _reconcile(sessions=sessions, user_ids=None, now=now)
