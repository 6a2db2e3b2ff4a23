"""Dispatch: claim due outbox rows, send them over one SMTP connection per batch, record each outcome.

The guarantee (DESIGN.md): no reminder is lost, and a duplicate is possible
only for the one message in flight when a worker dies between the SMTP
server's acceptance and the commit of `sent`; it carries the same
Message-ID. How:

- A claim marks rows `sending` with a lease, in one short transaction
  (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never take
  the same row; on SQLite the IMMEDIATE transaction holds the database
  write lock, so claims simply queue).
- Each row is marked `sent` (autocommit) right after the server accepts
  its message, never at the end of the batch.
- A row whose worker died stays `sending` until its lease runs out and is
  then claimed again. A batch stops starting new messages at half its
  lease and hands the rest back, so a live worker never outlives its lease.
- Temporary failures (connection refused, timeouts, 4xx) go back to
  `pending` with exponential backoff on `next_attempt_at`; a permanent
  refusal of the recipient (5xx) is `failed` with the server's answer, and
  the batch goes on.
- A message that cannot be built (its content or headers raise) is
  `failed` with the error at once, and the batch goes on: trying again
  would only fail again, and a row left `pending` would hide the problem.
  The admin lists failed rows with their error.
- A row that no longer applies is `skipped` with the reason: a `reading`
  or `starting` reminder whose session has started; a session email whose
  session moved, was cancelled or declined, or whose recipient switched it
  off or left; a `reading` reminder with nothing to read and no questions;
  a nudge to someone who has read enough since, or answered "maybe";
  a brief to someone who no longer has facilitator rights in the group;
  a summary not sent within `SUMMARY_EXPIRES_DAYS` of its session's end
  (a summary is not skipped because its session started: it is about one held);
  an email of notifications none of which the recipient may still see
  (each is read again with the recipient's rights when the batch is sent).

Every timestamp comes from the caller's `now` plus the wall-clock time
elapsed since (so tests pass the dispatcher its clock; the database's
`now()` is never used). Budgets (half the lease, a pass's `max_seconds`)
are measured on the monotonic clock.
"""

import contextlib
import logging
import smtplib
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from readings.brief import facilitator_brief
from readings.progress import required_words_read
from readings.summary import session_summary
from sessions_app.enums import RSVPStatus, SessionStatus
from sessions_app.models import RSVP, Membership

from ..emails import (
    NoticeItem,
    SessionContent,
    build_brief_email,
    build_notifications_email,
    build_reminder_email,
    build_summary_email,
    notice_items,
)
from ..enums import UPCOMING_KINDS, ReminderKind, ReminderState
from ..models import Reminder
from ..selectors import accepted_questions, declined_pairs, reading_assignments
from .briefs import brief_memberships, brief_skip_reason
from .nudges import nudge_wanted, reminders_plan_nudges
from .preferences import email_switched_on
from .summaries import reminders_plan_summaries, summary_memberships, summary_skip_reason

logger = logging.getLogger("reminders.dispatch")


@dataclass
class DispatchResult:
    """Counts of what one batch (or one pass of batches) did to the rows it claimed."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
    released: int = 0

    def __iadd__(self, other: "DispatchResult") -> "DispatchResult":
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th try: base, 2×base, 4×base … capped."""
    seconds = settings.REMINDER_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.REMINDER_RETRY_MAX_SECONDS))


def claim_due_reminders(*, now: datetime, limit: int | None = None, lease_seconds: int | None = None) -> list[int]:
    """Take up to `limit` due rows for this worker and return their ids.

    Due means `pending` with `next_attempt_at` passed, or `sending` with an
    expired lease (its worker died). The rows become `sending` with a lease
    of `lease_seconds` from `now` and one more attempt counted. Safe with
    any number of concurrent callers: no row is handed to two of them while
    its lease runs.
    """
    limit = limit or settings.REMINDER_BATCH_SIZE
    lease_until = now + timedelta(seconds=lease_seconds or settings.REMINDER_LEASE_SECONDS)
    due = Q(state=ReminderState.PENDING, next_attempt_at__lte=now) | Q(state=ReminderState.SENDING, lease_until__lt=now)
    with transaction.atomic():
        ids = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Reminder.objects.filter(pk__in=ids).update(
                state=ReminderState.SENDING, lease_until=lease_until, attempts=F("attempts") + 1
            )
    return ids


def _why_not(reminder: Reminder, *, now: datetime, members: set, declined: set, content: SessionContent) -> str | None:
    """Why this row about a session must not be sent now (it becomes `skipped`), or None to send it."""
    session, user = reminder.session, reminder.recipient
    if reminder.kind in UPCOMING_KINDS and (reminder.for_starts_at <= now or session.starts_at <= now):
        return "Late: the session had already started when this reminder could be sent."
    if reminder.kind == ReminderKind.CANCELLED:
        if session.status != SessionStatus.CANCELLED:
            return "The session is no longer cancelled."
    elif session.status != SessionStatus.SCHEDULED:
        return f"The session is {session.status}."
    elif reminder.for_starts_at != session.starts_at:
        return "The session moved; reminders for the new time replace this one."
    if (session.group_id, user.pk) not in members:
        return "The recipient is no longer a member of the group."
    if (session.pk, user.pk) in declined:
        return "The recipient declined the session."
    if not user.is_active or not user.email:
        return "The recipient has no active account with an email address."
    if not email_switched_on(getattr(user, "notification_preference", None), reminder.kind):
        return f"The recipient switched off “{ReminderKind(reminder.kind).label}” emails."
    if reminder.kind == ReminderKind.READING and not (content.readings or content.questions):
        return "Nothing to read and no questions had been set when the reminder was due."
    if reminder.kind == ReminderKind.NUDGE:
        if user.pk in content.maybe:
            return "The recipient answered maybe: nudges go to those going or who have not answered."
        if not nudge_wanted(read_words=content.words_read.get(user.pk, 0), required_words=content.required_words):
            return "The recipient has read enough of the reading since the nudge was planned."
    return None


def _why_not_notifications(reminder: Reminder, items: Sequence[NoticeItem]) -> str | None:
    """Why an email of notifications must not be sent now (it becomes `skipped`), or None to send it."""
    user = reminder.recipient
    if not user.is_active or not user.email:
        return "The recipient has no active account with an email address."
    if not email_switched_on(getattr(user, "notification_preference", None), reminder.kind):
        return f"The recipient switched off “{ReminderKind(reminder.kind).label}” emails."
    if not items:
        return "Nothing left to tell: the notes were deleted, hidden or made private, or the recipient left the group."
    return None


def _smtp_failure(error: Exception) -> tuple[str, bool, bool]:
    """(what to record, permanent?, connection still usable?) for an error raised while sending one message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(error.recipients.values()))
        text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
        return f"SMTP {code} refused the recipient: {text}", code >= 500, True
    if isinstance(error, smtplib.SMTPSenderRefused):
        # Our From address was refused: a problem of this server's setup, not of the recipient. Retry.
        return f"SMTP {error.smtp_code} refused the sender: {error.smtp_error!r}", False, True
    if isinstance(error, smtplib.SMTPDataError):
        return f"SMTP {error.smtp_code} refused the message: {error.smtp_error!r}", error.smtp_code >= 500, True
    if not isinstance(error, smtplib.SMTPException | OSError):
        # Raised while the backend turned the email into bytes (a header it refuses, an address it
        # cannot encode), before anything was said to the server: the message itself is at fault.
        return _render_failure(error), True, True
    return f"{type(error).__name__}: {error}", False, False


def _render_failure(error: Exception) -> str:
    return f"Could not build the email: {type(error).__name__}: {error}"


def _session_contents(reminders: Sequence[Reminder]) -> dict[int, SessionContent]:
    """What the emails of each session share; readings and questions only where a `reading` email needs them."""
    contents = {reminder.session_id: SessionContent(session=reminder.session) for reminder in reminders}
    readers = {
        reminder.session_id: reminder.recipient for reminder in reminders if reminder.kind == ReminderKind.READING
    }
    nudged = defaultdict(list)
    for reminder in reminders:
        if reminder.kind == ReminderKind.NUDGE:
            nudged[reminder.session_id].append(reminder.recipient_id)
    for session_id, user_ids in nudged.items():
        content = contents[session_id]
        content.required_words, content.words_read = required_words_read(content.session, user_ids)
        content.maybe = set(
            RSVP.objects.filter(session_id=session_id, user_id__in=user_ids, status=RSVPStatus.MAYBE).values_list(
                "user_id", flat=True
            )
        )
    for session_id, reader in readers.items():
        content = contents[session_id]
        content.readings = reading_assignments(content.session)
        # Accepted questions are the same for every member; any reader of the batch will do.
        content.questions = accepted_questions(content.session, reader)
    return contents


def send_reminder_batch(*, reminder_ids: Sequence[int], now: datetime | None = None) -> DispatchResult:
    """Send the claimed rows `reminder_ids` over one connection and record each outcome as it happens.

    Only rows still `sending` are touched. Each row ends `sent`, `failed`,
    `skipped`, or back in `pending` (temporary failure with backoff, or
    handed back unsent when the connection is gone or half the lease has
    passed). Never raises for a mail problem: the rows carry the errors.
    """
    started = time.monotonic()
    wall_started = timezone.now()
    now = now or wall_started

    def clock() -> datetime:
        return now + (timezone.now() - wall_started)

    result = DispatchResult()
    reminders = list(
        Reminder.objects.filter(pk__in=list(reminder_ids), state=ReminderState.SENDING)
        .select_related("session__group", "recipient__notification_preference")
        .order_by("session_id", "kind", "id")
    )
    if not reminders:
        return result
    result.claimed = len(reminders)
    about_sessions = [reminder for reminder in reminders if reminder.session_id is not None]
    group_ids = {reminder.session.group_id for reminder in about_sessions}
    user_ids = {reminder.recipient_id for reminder in about_sessions}
    members = set(
        Membership.objects.filter(group_id__in=group_ids, user_id__in=user_ids).values_list("group_id", "user_id")
    )
    declined = declined_pairs({reminder.session_id for reminder in about_sessions}, user_ids)
    contents = _session_contents(about_sessions)
    notices = notice_items([reminder for reminder in reminders if reminder.session_id is None], now=now)
    summary_members = summary_memberships(about_sessions)
    brief_members = brief_memberships(about_sessions)
    stop_starting_at = started + settings.REMINDER_LEASE_SECONDS / 2

    def record(reminder: Reminder, **fields) -> None:
        Reminder.objects.filter(pk=reminder.pk, state=ReminderState.SENDING).update(lease_until=None, **fields)

    def hand_back(rest: Sequence[Reminder], when: datetime) -> None:
        if rest:
            Reminder.objects.filter(pk__in=[r.pk for r in rest], state=ReminderState.SENDING).update(
                state=ReminderState.PENDING, lease_until=None, next_attempt_at=when, attempts=F("attempts") - 1
            )
            result.released += len(rest)

    connection = get_connection(fail_silently=False)
    opened = False
    try:
        for index, reminder in enumerate(reminders):
            if time.monotonic() >= stop_starting_at:
                hand_back(reminders[index:], clock())
                break
            if reminder.kind == ReminderKind.SUMMARY:
                membership = summary_members.get((reminder.session.group_id, reminder.recipient_id))
                reason = summary_skip_reason(reminder, now=clock(), membership=membership)
            elif reminder.session_id is not None:
                content = contents[reminder.session_id]
                reason = _why_not(reminder, now=clock(), members=members, declined=declined, content=content)
                if not reason and reminder.kind == ReminderKind.BRIEF:
                    membership = brief_members.get((reminder.session.group_id, reminder.recipient_id))
                    reason = brief_skip_reason(membership)
            else:
                items = notices.get(reminder.pk, [])
                reason = _why_not_notifications(reminder, items)
            if reason:
                record(reminder, state=ReminderState.SKIPPED, last_error=reason)
                result.skipped += 1
                continue
            try:
                if reminder.kind == ReminderKind.SUMMARY:
                    # Built for this recipient, from what they may see now.
                    summary = session_summary(reminder.recipient, membership, reminder.session)
                    message = build_summary_email(reminder, summary)
                elif reminder.kind == ReminderKind.BRIEF:
                    # Built for this facilitator, from what they may see now.
                    message = build_brief_email(
                        reminder, facilitator_brief(reminder.recipient, membership, reminder.session)
                    )
                elif reminder.session_id is not None:
                    message = build_reminder_email(reminder, content)
                else:
                    message = build_notifications_email(reminder, items)
            except Exception as error:  # one message that cannot be written must not hold up the others
                logger.exception("reminder %s: could not build the email", reminder.pk)
                record(reminder, state=ReminderState.FAILED, last_error=_render_failure(error))
                result.failed += 1
                continue
            if not opened:
                try:
                    connection.open()
                    opened = True
                except Exception as error:  # connection refused, DNS, TLS, auth: nothing of this batch can go
                    retry_at = _retry(record, reminder, f"Could not connect: {type(error).__name__}: {error}", clock())
                    result.retrying += 1
                    hand_back(reminders[index + 1 :], retry_at)
                    logger.warning("reminders: mail server unavailable (%s); retrying at %s", error, retry_at)
                    break
            try:
                accepted = connection.send_messages([message])
            except Exception as error:
                what, permanent, usable = _smtp_failure(error)
                if permanent:
                    record(reminder, state=ReminderState.FAILED, last_error=what)
                    result.failed += 1
                    logger.warning("reminder %s failed permanently: %s", reminder.pk, what)
                else:
                    _retry(record, reminder, what, clock())
                    result.retrying += 1
                if not usable:
                    _close_quietly(connection)
                    opened = False
                continue
            if accepted:
                record(reminder, state=ReminderState.SENT, sent_at=clock())
                result.sent += 1
            else:
                _retry(record, reminder, "The mail backend did not accept the message.", clock())
                result.retrying += 1
    finally:
        if opened:
            _close_quietly(connection)
    logger.info("reminders: batch of %d: %s", len(reminders), result.as_dict())
    return result


def _retry(record: Callable[..., None], reminder: Reminder, error: str, now: datetime) -> datetime:
    """Back to `pending`, to be tried again after the backoff for its attempt count."""
    retry_at = now + retry_delay(reminder.attempts)  # loaded after the claim, so this attempt is counted
    record(reminder, state=ReminderState.PENDING, next_attempt_at=retry_at, last_error=error)
    return retry_at


def _close_quietly(connection) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.close()


@transaction.atomic
def reminders_requeue_failed(*, reminder_ids: Sequence[int], now: datetime) -> int:
    """Put `failed` rows back in the queue, due at `now` (after their cause was fixed); returns how many.

    Rows in any other state are left alone. Each keeps its attempt count and
    its last error until the next attempt writes its own outcome.
    """
    return Reminder.objects.filter(pk__in=list(reminder_ids), state=ReminderState.FAILED).update(
        state=ReminderState.PENDING, next_attempt_at=now, lease_until=None
    )


def reminders_dispatch_due(
    *, now: datetime | None = None, batch_size: int | None = None, max_seconds: float | None = None
) -> DispatchResult:
    """One dispatch pass: claim and send batches until nothing is due or `max_seconds` have passed.

    Safe to run in several workers at once and to repeat (what beat and
    `manage.py dispatch_reminders` do): a row is only sent by the worker
    that holds its lease. `now` (default: the current time) is the clock
    of the pass; it advances with the real time elapsed. Nudges now due are planned first
    (`reminders_plan_nudges`), and the summaries of sessions that ended without attendance being
    marked (`reminders_plan_summaries`).
    """
    started = time.monotonic()
    wall_started = timezone.now()
    now = now or wall_started
    max_seconds = settings.REMINDER_DISPATCH_MAX_SECONDS if max_seconds is None else max_seconds
    total = DispatchResult()
    reminders_plan_nudges(now=now)
    reminders_plan_summaries(now=now)
    while True:
        clock = now + (timezone.now() - wall_started)
        ids = claim_due_reminders(now=clock, limit=batch_size)
        if not ids:
            break
        outcome = send_reminder_batch(reminder_ids=ids, now=clock)
        total += outcome
        if outcome.sent == 0 and (outcome.retrying or outcome.released):
            break  # the mail server is unavailable: leave the rest to their retry time
        if time.monotonic() - started >= max_seconds:
            break
    return total
