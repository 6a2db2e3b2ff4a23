"""The after-session summary: what one person may see of how a session went, in one plain dict.

Who came (names, or how many when the group prefers counts), the session's
accepted questions numbered by rank with their most helpful answers, the notes
tagged `follow-up`, and the group's next session with its reading. The same
dict is the page, the API's answer, the email (built for each recipient at
sending time) and the `previous_summary` section of the next session's pack.

Built with the reader's own rights (`notes_visible_to` with their
membership): a private note never appears and is never counted, not even the
reader's own; nor is a hidden or deleted one. A fixed number of queries,
whatever the number of attendees, questions or notes.
"""

from datetime import UTC, datetime

from sessions_app.enums import SummaryAttendance
from sessions_app.models import Membership, Session, User
from sessions_app.selectors import attendees_of, next_session, previous_session

from .enums import NoteVisibility, QuestionState
from .mentions import html_with_mention_names, mention_names, mention_refs
from .models import DiscussionQuestion, Note
from .selectors import mentions_prefetch, notes_visible_to, readings_of, session_passages_q

# The answers a summary shows for each question: the most helpful first.
SUMMARY_ANSWERS = 3
FOLLOW_UP_TAG = "follow-up"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _session_head(session: Session) -> dict:
    return {
        "id": session.pk,
        "title": session.title,
        "starts_at": _iso(session.starts_at),
        "ends_at": _iso(session.ends_at),
        "timezone": session.timezone,
    }


def _shared_notes(user: User, membership: Membership):
    """The notes a summary may show `user`: visible to them, live, not hidden, never private, never a highlight."""
    return (
        notes_visible_to(user, membership=membership)
        .filter(deleted_at__isnull=True, hidden_root__isnull=True, highlight=False)
        .exclude(visibility=NoteVisibility.PRIVATE)
        .select_related("author", "passage")
        .prefetch_related(mentions_prefetch())
    )


def _note(note: Note) -> dict:
    return {
        "id": note.pk,
        "author": {"id": note.author_id, "name": note.author.name},
        "body": note.body,
        "body_html": html_with_mention_names(note.body_html, mention_names(note)),
        "mentions": mention_refs(note),
        "visibility": note.visibility,
        "helpful_count": note.helpful_count,
        "passage": {"id": note.passage_id, "anchor": note.passage.anchor, "position": note.passage.position},
    }


def _attendance(session: Session) -> dict:
    attendees = attendees_of(session)
    names = session.group.summary_attendance == SummaryAttendance.NAMES
    return {
        "shown_as": session.group.summary_attendance,
        "present": len(attendees),
        "names": [user.name for user in attendees] if names else None,
    }


def _questions(user: User, membership: Membership, session: Session) -> list[dict]:
    rows = list(
        DiscussionQuestion.objects.filter(session=session, state=QuestionState.ACCEPTED)
        .order_by("position", "id")
        .values_list("id", "prompt")
    )
    answers = _shared_notes(user, membership).filter(question_id__in=[pk for pk, _ in rows])
    grouped: dict[int, list[Note]] = {pk: [] for pk, _ in rows}
    for note in answers.order_by("-helpful_count", "created_at", "id"):
        grouped[note.question_id].append(note)
    # Numbered by rank among the accepted questions, as every page, pack and email numbers them.
    return [
        {
            "id": pk,
            "number": rank,
            "prompt": prompt,
            "answer_count": len(grouped[pk]),
            "answers": [_note(note) for note in grouped[pk][:SUMMARY_ANSWERS]],
        }
        for rank, (pk, prompt) in enumerate(rows, start=1)
    ]


def _follow_ups(user: User, membership: Membership, session: Session) -> list[dict]:
    assignments = list(readings_of(session))
    if not assignments:
        return []
    notes = (
        _shared_notes(user, membership)
        .filter(session_passages_q(assignments, prefix="passage__"), tags__name=FOLLOW_UP_TAG)
        .order_by("passage__text_id", "passage__position", "created_at", "id")
        .distinct()
    )
    return [_note(note) for note in notes]


def _next(session: Session) -> dict | None:
    upcoming = next_session(session)
    if upcoming is None:
        return None
    return {
        **_session_head(upcoming),
        "readings": [
            {
                "text": {"id": reading.text_id, "title": reading.text.title, "author": reading.text.author},
                "start": reading.start_passage.position,
                "end": reading.end_passage.position,
                "required": reading.required,
                "reading_minutes": reading.reading_minutes,
            }
            for reading in readings_of(upcoming)
        ],
    }


def session_summary(user: User, membership: Membership, session: Session) -> dict:
    """The summary of `session` as `user` (with `membership` in its group) may see it now.

    The caller has checked that `user` may see the session (`access_session`).
    """
    return {
        "session": _session_head(session),
        "attendance": _attendance(session),
        "questions": _questions(user, membership, session),
        "follow_ups": _follow_ups(user, membership, session),
        "next_session": _next(session),
    }


def previous_summary(user: User, membership: Membership, session: Session) -> dict | None:
    """For `session`'s pack: the summary of the group's session before it, or None when there is none."""
    before = previous_session(session)
    return None if before is None else session_summary(user, membership, before)
