"""Reading progress: which passages a person has read, and where they are in a session's reading."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from sessions_app.models import Session, User

from ..models import Passage, PassageRead, ReadingVisit


@transaction.atomic
def progress_record(
    *, user: User, session: Session, passages: Sequence[Passage], last_passage: Passage | None = None
) -> None:
    """Record that `user` has read `passages` of `session`'s reading, and that they were reading it now.

    Idempotent: a passage already read keeps its first time. The visit (opened, last activity, the passage
    to continue from) is one upsert. Two statements whatever the batch's size; the caller has checked that
    every passage belongs to the session's reading and that `user` may read it.
    """
    now = timezone.now()
    if passages:
        PassageRead.objects.bulk_create(
            [PassageRead(user=user, passage=passage, read_at=now) for passage in passages], ignore_conflicts=True
        )
    visit = ReadingVisit(user=user, session=session, opened_at=now, last_activity_at=now, last_passage=last_passage)
    ReadingVisit.objects.bulk_create(
        [visit],
        update_conflicts=True,
        unique_fields=["user", "session"],
        update_fields=["last_activity_at", "last_passage"] if last_passage is not None else ["last_activity_at"],
    )
