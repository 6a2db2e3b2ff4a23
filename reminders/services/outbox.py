"""Putting notifications into the outbox: at once (a few minutes' worth in one email) or in the daily digest.

Called in the transaction that made the notifications, like every other
planning entry point, so an email exists exactly when its cause committed.
A notification joins the recipient's open email of its kind (still
`pending`, not yet due) or opens one, due a batching window later; for the
digest, the pending digest or a new one due at the recipient's next local
digest hour. Rows are found by their dedupe key, so two transactions
planning at once end up in one row; a row a worker has already claimed is
never joined (its message may be on the wire): the late notification goes
into a new one.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sessions_app.models import User

from ..enums import PREFERENCE_FIELD, Delivery, ReminderKind, ReminderState
from ..keys import batch_email_key
from ..models import Notification, NotificationPreference, OutboxEvent, Reminder


def digest_due_at(*, hour: int, tzname: str, now: datetime) -> datetime:
    """The first moment after `now` when the clock in `tzname` shows `hour`:00.

    On the day the clocks go forward over that hour, the first moment after
    the gap (the wall time read with the offset before the change); on the
    day they go back, its first occurrence. Always UTC.
    """
    zone = ZoneInfo(tzname or "UTC")
    today = now.astimezone(zone).date()
    for days in range(3):
        day = today + timedelta(days=days)
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)
        if moment > now:
            return moment
    raise AssertionError("unreachable: some day after today has the hour")


def delivery_of(preference: NotificationPreference | None, kind: str) -> str:
    """How `kind` reaches a person with these preferences (None: the defaults)."""
    return getattr(preference or NotificationPreference(), PREFERENCE_FIELD[kind])


def _open_email(*, recipient_id: int, kind: str, key_start: datetime, due_at: datetime, now: datetime) -> Reminder:
    """The pending email this notification joins, locked; created (or found by key) if there is none open."""
    open_rows = Reminder.objects.select_for_update().filter(
        recipient_id=recipient_id, kind=kind, session__isnull=True, state=ReminderState.PENDING, due_at__gt=now
    )
    if (row := open_rows.order_by("due_at", "id").first()) is not None:
        return row
    for spill in range(100):
        key = batch_email_key(kind=kind, recipient_id=recipient_id, window_start=key_start, spill=spill)
        Reminder.objects.bulk_create(
            [Reminder(recipient_id=recipient_id, kind=kind, dedupe_key=key, due_at=due_at, next_attempt_at=due_at)],
            ignore_conflicts=True,
        )
        row = Reminder.objects.select_for_update().get(dedupe_key=key)
        if row.state == ReminderState.PENDING:
            return row
    raise RuntimeError(f"No open outbox row for {kind} to user {recipient_id}")


@transaction.atomic
def outbox_add_notifications(*, notifications: Iterable[Notification], now: datetime | None = None) -> int:
    """Plan the emails of `notifications` (saved) as each recipient's preferences say; returns how many joined one.

    Nothing is planned for a kind the recipient switched off or for someone
    without an address; what each email finally says is decided when it is
    sent (`dispatch`), with the recipient's rights then.
    """
    now = now or timezone.now()
    notifications = [one for one in notifications if one.pk]
    if not notifications:
        return 0
    recipient_ids = {one.recipient_id for one in notifications}
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=recipient_ids)}
    reachable = set(
        User.objects.filter(pk__in=recipient_ids, is_active=True).exclude(email="").values_list("pk", flat=True)
    )
    window = timedelta(seconds=settings.NOTIFICATION_BATCH_SECONDS)
    events = []
    for one in sorted(notifications, key=lambda n: (n.recipient_id, n.pk)):
        if one.recipient_id not in reachable:
            continue
        preference = preferences.get(one.recipient_id)
        delivery = delivery_of(preference, one.kind)
        if delivery == Delivery.NOW:
            kind, due_at = one.kind, now + window
            seconds = max(window.total_seconds(), 1)
            key_start = datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)
        elif delivery == Delivery.DIGEST:
            hour = preference.digest_hour if preference else NotificationPreference().digest_hour
            kind = ReminderKind.DIGEST
            due_at = key_start = digest_due_at(hour=hour, tzname=preference.timezone if preference else "", now=now)
        else:
            continue
        row = _open_email(recipient_id=one.recipient_id, kind=kind, key_start=key_start, due_at=due_at, now=now)
        events.append(OutboxEvent(email=row, notification=one))
    OutboxEvent.objects.bulk_create(events, ignore_conflicts=True)
    return len(events)


@transaction.atomic
def outbox_replan_digest(*, user: User, now: datetime | None = None) -> int:
    """Move the user's pending daily digest to their digest hour and timezone as they are now; returns how many moved.

    Called in the transaction that changed the hour or the timezone, so the digest that is gathering
    comes at the new hour (the next one after `now`), with the key of its new day. A digest already
    due, or claimed by a worker, is left as it is: it is going out.
    """
    now = now or timezone.now()
    preference = NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)
    due_at = digest_due_at(hour=preference.digest_hour, tzname=preference.timezone, now=now)
    rows = list(
        Reminder.objects.select_for_update()
        .filter(
            recipient=user, kind=ReminderKind.DIGEST, session__isnull=True, state=ReminderState.PENDING, due_at__gt=now
        )
        .exclude(due_at=due_at)
        .order_by("due_at", "id")
    )
    for row in rows:
        taken = set(
            Reminder.objects.filter(
                dedupe_key__startswith=batch_email_key(kind=row.kind, recipient_id=user.pk, window_start=due_at)
            )
            .exclude(pk=row.pk)
            .values_list("dedupe_key", flat=True)
        )
        spill = 0
        while (key := batch_email_key(kind=row.kind, recipient_id=user.pk, window_start=due_at, spill=spill)) in taken:
            spill += 1
        row.due_at = row.next_attempt_at = due_at
        row.dedupe_key = key
        row.save(update_fields=["due_at", "next_attempt_at", "dedupe_key"])
    return len(rows)
