"""Reading assignments: which passages a session reads, and how long that takes."""

import math
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, Sum

from core.services import UNSET, given, model_update
from sessions_app.models import Session
from sessions_app.services.schedule import session_reading_minutes_set

from ..models import Passage, ReadingAssignment, Text
from ..pack.versions import pack_versions_bump_for_session

WORDS_PER_MINUTE = 230


def reading_minutes_for(words: int) -> int:
    """Words at 230 a minute, rounded up; nothing to read is 0 minutes."""
    return math.ceil(words / WORDS_PER_MINUTE)


def range_passages(assignment: ReadingAssignment) -> Q:
    """The passages an assignment covers today: its text's active passages between its ends."""
    return Q(
        text_id=assignment.text_id,
        retired=False,
        position__gte=assignment.start_passage.position,
        position__lte=assignment.end_passage.position,
    )


def _check_range(session: Session, text: Text, start: Passage, end: Passage) -> None:
    if text.group_id != session.group_id:
        raise ValidationError({"text": "No such text in this session's group."})
    for field, passage in (("start_passage", start), ("end_passage", end)):
        if passage.text_id != text.pk:
            raise ValidationError(
                {field: f"Passage {passage.pk} is not part of “{text.title}”; a range stays in one text."}
            )
        if passage.retired:
            raise ValidationError({field: f"Passage {passage.pk} was removed in a later revision; pick a current one."})
    if start.position > end.position:
        raise ValidationError(
            {"end_passage": f"The range runs backwards (§{start.position} to §{end.position}); swap the ends."}
        )


@transaction.atomic
def reading_minutes_refresh(*, assignments: Iterable[ReadingAssignment]) -> None:
    """Recount words and minutes of `assignments`, then of their sessions.

    Called after any change to an assignment or to a text it reads.
    """
    sessions: set[int] = set()
    for assignment in assignments:
        words = Passage.objects.filter(range_passages(assignment)).aggregate(n=Sum("word_count"))["n"] or 0
        assignment.word_count = words
        assignment.reading_minutes = reading_minutes_for(words)
        assignment.save(update_fields=["word_count", "reading_minutes"])
        sessions.add(assignment.session_id)
    for session_id in sessions:
        _session_total_refresh(session_id)


def _session_total_refresh(session_id: int) -> None:
    """Hand the session its reading time: the sum of its assignments' minutes."""
    total = ReadingAssignment.objects.filter(session_id=session_id).aggregate(n=Sum("reading_minutes"))["n"] or 0
    session_reading_minutes_set(session_id=session_id, minutes=total)


def reading_minutes_refresh_for_text(*, text: Text) -> None:
    assignments = ReadingAssignment.objects.filter(text=text).select_related("start_passage", "end_passage")
    reading_minutes_refresh(assignments=list(assignments))


@transaction.atomic
def assignment_create(
    *,
    session: Session,
    text: Text,
    start_passage: Passage,
    end_passage: Passage,
    required: bool = True,
    instructions: str = "",
) -> ReadingAssignment:
    """Assign passages start…end of one text (same group) to `session`, after its other readings."""
    _check_range(session, text, start_passage, end_passage)
    last = ReadingAssignment.objects.filter(session=session).aggregate(n=Max("position"))["n"] or 0
    assignment = ReadingAssignment.objects.create(
        session=session,
        text=text,
        start_passage=start_passage,
        end_passage=end_passage,
        required=required,
        instructions=instructions,
        position=last + 1,
    )
    reading_minutes_refresh(assignments=[assignment])
    pack_versions_bump_for_session(session=session, readings=True)
    return assignment


@transaction.atomic
def assignment_update(
    *,
    assignment: ReadingAssignment,
    start_passage: Passage = UNSET,
    end_passage: Passage = UNSET,
    required: bool = UNSET,
    instructions: str = UNSET,
    position: int = UNSET,
) -> ReadingAssignment:
    """Change the range, whether it is required, the instructions or the position."""
    changes = given(
        start_passage=start_passage,
        end_passage=end_passage,
        required=required,
        instructions=instructions,
        position=position,
    )
    model_update(instance=assignment, data=changes, save=False)
    _check_range(assignment.session, assignment.text, assignment.start_passage, assignment.end_passage)
    assignment.save()
    reading_minutes_refresh(assignments=[assignment])
    pack_versions_bump_for_session(session=assignment.session, readings=True)
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: ReadingAssignment) -> None:
    session_id = assignment.session_id
    pack_versions_bump_for_session(session=assignment.session, readings=True)
    assignment.delete()
    _session_total_refresh(session_id)
