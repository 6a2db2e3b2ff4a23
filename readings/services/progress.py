"""Reading progress: which passages a person has read, and where they are in a session's reading."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from sessions_app.models import Session, User

from ..models import Passage, PassageRead, ReadingVisit
from ..pack.versions import pack_versions_bump_for_progress


@transaction.atomic
def progress_record(
    *, user: User, session: Session, passages: Sequence[Passage], last_passage: Passage | None = None
) -> None:
    """Record that `user` has read `passages` of `session`'s reading, and that they were reading it now.

    Idempotent: a passage already read keeps its first time. The visit (opened, last activity, the passage
    to continue from) is one upsert. The facilitators' brief shows progress, so their pack versions rise
    for the sessions reading passages read for the first time, and for this one when it is first opened.
    At most five statements whatever the batch's size; the caller has checked that every passage belongs
    to the session's reading and that `user` may read it.
    """
    now = timezone.now()
    opened = not ReadingVisit.objects.filter(user=user, session=session).exists()
    if passages:
        already = set(PassageRead.objects.filter(user=user, passage__in=passages).values_list("passage_id", flat=True))
        passages = [passage for passage in passages if passage.pk not in already]
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
    pack_versions_bump_for_progress(session=session, passage_ids=[passage.pk for passage in passages], opened=opened)
