"""Notifications: who hears of a note (replies, mentions, answers), and marking them read.

Planned in the transaction that wrote the note (wired from readings'
`note_written` signal in receivers.py), with their emails
(`outbox.outbox_add_notifications`), so a notification and its email exist
exactly when the note committed.
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sessions_app.models import User

from ..models import Notification

MAX_IDS = 500


@transaction.atomic
def notifications_mark_read(
    *, user: User, ids: Iterable[int] | None = None, everything: bool = False, now: datetime | None = None
) -> int:
    """Mark some (`ids`) or all (`everything`) of the user's unread notifications read; returns how many changed.

    Ids of someone else's notifications, or of none, change nothing (and say
    nothing about them). Idempotent.
    """
    now = now or timezone.now()
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if everything:
        return unread.update(read_at=now)
    ids = list(ids or [])
    if not ids:
        raise ValidationError({"ids": "Give the ids of the notifications to mark read, or all: true."})
    if len(ids) > MAX_IDS:
        raise ValidationError({"ids": f"Mark at most {MAX_IDS} notifications at once."})
    return unread.filter(pk__in=ids).update(read_at=now)
