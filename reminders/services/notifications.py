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
from django.db.models import Q
from django.utils import timezone

from readings.models import Note
from readings.selectors import note_audience
from sessions_app.models import Membership, User

from ..enums import NotificationKind
from ..models import Notification
from .outbox import outbox_add_notifications

MAX_IDS = 500


def notifications_plan_for_note(
    *, note: Note, created: bool, mentioned: Iterable[int] = (), now: datetime | None = None
) -> list[Notification]:
    """Tell whoever should hear of `note`, just written (`created`) or edited; returns the new notifications.

    - `mentioned`: members newly mentioned whom the note's audience includes
      (readings decided that, `NoteMention.notified`);
    - a new reply: the author of the note it answers and everyone who wrote
      in its thread;
    - a new note answering a question (by someone with facilitator rights):
      the member who proposed that question.
    Never its own author, never anyone outside the note's audience, and one
    notification per person per note (a mention beats an answer beats a
    reply). Their emails are planned here too, in the same transaction.
    """
    mentioned = list(mentioned)
    if not (mentioned or (created and (note.parent_id is not None or note.question_id is not None))):
        return []  # nobody to tell: no queries (writing a top-level note stays as cheap as it was)
    with transaction.atomic():
        return _plan_for_note(note=note, created=created, mentioned=mentioned, now=now)


def _plan_for_note(*, note: Note, created: bool, mentioned: list[int], now: datetime | None) -> list[Notification]:
    wanted: dict[int, str] = {}
    if created and note.parent_id is not None:
        root_id = note.root_id or note.parent_id
        writers = Note.objects.filter(Q(pk=root_id) | Q(root_id=root_id), deleted_at__isnull=True)
        for user_id in writers.values_list("author_id", flat=True).distinct():
            wanted[user_id] = NotificationKind.REPLY
    if created and note.question_id is not None:
        proposer = note.question.proposed_by_id
        membership = Membership.objects.filter(user_id=note.author_id, group_id=note.passage.text.group_id).first()
        if proposer is not None and membership is not None and membership.has_facilitator_rights:
            wanted[proposer] = NotificationKind.ANSWER
    wanted.pop(note.author_id, None)
    audience = note_audience(note, wanted) | set(mentioned)
    for user_id in mentioned:
        wanted[user_id] = NotificationKind.MENTION
    wanted.pop(note.author_id, None)
    told = set(Notification.objects.filter(note=note).values_list("recipient_id", flat=True))
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                kind=kind,
                actor_id=note.author_id,
                group_id=note.passage.text.group_id,
                note=note,
            )
            for user_id, kind in sorted(wanted.items())
            if user_id in audience and user_id not in told
        ]
    )
    outbox_add_notifications(notifications=rows, now=now)
    return rows


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
