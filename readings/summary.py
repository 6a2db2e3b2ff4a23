"""The after-session summary: what one person may see of how a session went, in one plain dict.

Who came (names, or how many when the group prefers counts), the session's
accepted questions numbered by rank with their most helpful answers, the notes
tagged `follow-up`, and the group's next session with its reading. The same
dict is the page, the API's answer, the email (built for each recipient at
sending time) and the `previous_summary` section of the next session's pack.

Built with the reader's own rights (`notes_visible_to` with their
membership): a private note never appears and is never counted, not even the
reader's own; nor is a hidden or deleted one. A fixed number of queries,
whatever the number of attendees, questions or notes: the answers and the
follow-ups are one query (its SQL compiled once per process, `pack.compiled`),
whom they mention one more.
"""

from datetime import UTC, datetime

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Subquery

from sessions_app.enums import SummaryAttendance
from sessions_app.models import Membership, Session, StudyGroup, User
from sessions_app.selectors import attendees_of, next_session, sessions_before

from .enums import NoteVisibility, QuestionState
from .mentions import html_with_mention_names, mention_map
from .models import DiscussionQuestion, NoteMention, NoteTag
from .pack.compiled import CompiledQuery
from .reading_model import person_name, reading_ranges
from .selectors import PassageRange, notes_visible_to, session_passages_q

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


@CompiledQuery
def _SUMMARY_NOTES(shape, args):
    """The notes a summary may show the user (`args[0]`, in group `args[1]`, with the shape's role): visible
    to them, live, not hidden, never private, never a highlight; those answering one of the questions (the
    arguments after the ranges) or tagged follow-up on the readings' passages (`follow_up`)."""
    role, ranges, _questions = shape
    user = User(pk=args[0])
    membership = Membership(user_id=args[0], group_id=args[1], role=role)
    readings = [PassageRange(*args[2 + n * 3 : 5 + n * 3]) for n in range(ranges)]
    question_ids = list(args[2 + ranges * 3 :])
    tagged = Exists(NoteTag.objects.filter(note_id=OuterRef("pk"), name=FOLLOW_UP_TAG))
    follow_up = session_passages_q(readings, prefix="passage__") & Q(tagged)
    return (
        notes_visible_to(user, membership=membership)
        .filter(deleted_at__isnull=True, hidden_root__isnull=True, highlight=False)
        .exclude(visibility=NoteVisibility.PRIVATE)
        .filter(Q(question_id__in=question_ids) | follow_up)
        .annotate(follow_up=ExpressionWrapper(follow_up, output_field=BooleanField()))
        .values_list(
            "id",
            "question_id",
            "follow_up",
            "author_id",
            "author__display_name",
            "author__first_name",
            "author__last_name",
            "author__username",
            "body",
            "body_html",
            "visibility",
            "helpful_count",
            "passage_id",
            "passage__anchor",
            "passage__position",
            "passage__text_id",
            "created_at",
        )
    )


def _summary_notes(
    user: User, membership: Membership, readings: list, question_ids: list[int]
) -> tuple[dict[int, list[dict]], list[dict]]:
    """(the answers to each question, most helpful first; the follow-ups in reading order), as the summary
    shows them: two queries (the notes, whom they mention), none when there is nothing to look for."""
    answers: dict[int, list[dict]] = {pk: [] for pk in question_ids}
    if not question_ids and not readings:
        return answers, []
    ranges = [value for one in readings for value in (one.range.text_id, one.range.first, one.range.last)]
    shape = (membership.role, len(readings), len(question_ids))
    rows = _SUMMARY_NOTES.rows(shape, [user.pk, membership.group_id, *ranges, *question_ids])
    if not rows:
        return answers, []
    mentions: dict[int, list[dict]] = {}
    for note_id, user_id, username, *name in (
        NoteMention.objects.filter(note_id__in=[row[0] for row in rows])
        .order_by("note_id", "id")
        .values_list(
            "note_id", "user_id", "user__username", "user__display_name", "user__first_name", "user__last_name"
        )
    ):
        name = person_name(*name, username)
        mentions.setdefault(note_id, []).append({"id": user_id, "username": username, "name": name})
    answered, follow_ups = [], []
    for row in rows:
        note_id, question_id, follow_up, author_id, *author, body, body_html, visibility, helpful = row[:12]
        passage_id, anchor, position, text_id, created_at = row[12:]
        mentioned = mentions.get(note_id, [])
        note = {
            "id": note_id,
            "author": {"id": author_id, "name": person_name(*author)},
            "body": body,
            "body_html": html_with_mention_names(body_html, mention_map(mentioned)) if mentioned else body_html,
            "mentions": mentioned,
            "visibility": visibility,
            "helpful_count": helpful,
            "passage": {"id": passage_id, "anchor": anchor, "position": position},
        }
        if question_id in answers:
            answered.append(((-helpful, created_at, note_id), question_id, note))
        if follow_up:
            follow_ups.append(((text_id, position, created_at, note_id), note))
    for _key, question_id, note in sorted(answered, key=lambda item: item[0]):
        answers[question_id].append(note)
    return answers, [note for _key, note in sorted(follow_ups, key=lambda item: item[0])]


def _attendance(session: Session) -> dict:
    attendees = attendees_of(session)
    names = session.group.summary_attendance == SummaryAttendance.NAMES
    return {
        "shown_as": session.group.summary_attendance,
        "present": len(attendees),
        "names": [user.name for user in attendees] if names else None,
    }


@CompiledQuery
def _QUESTIONS(_shape, args):
    return (
        DiscussionQuestion.objects.filter(session_id=args[0], state=QuestionState.ACCEPTED)
        .order_by("position", "id")
        .values_list("id", "prompt")
    )


def _questions(rows: list[tuple], answers: dict[int, list[dict]]) -> list[dict]:
    # Numbered by rank among the accepted questions, as every page, pack and email numbers them.
    return [
        {
            "id": pk,
            "number": rank,
            "prompt": prompt,
            "answer_count": len(answers[pk]),
            "answers": answers[pk][:SUMMARY_ANSWERS],
        }
        for rank, (pk, prompt) in enumerate(rows, start=1)
    ]


def _next(session: Session) -> dict | None:
    upcoming = next_session(session)
    if upcoming is None:
        return None
    return {
        **_session_head(upcoming),
        "readings": [
            {
                "text": {"id": reading.text.id, "title": reading.text.title, "author": reading.text.author},
                "start": reading.range.first,
                "end": reading.range.last,
                "required": reading.required,
                "reading_minutes": reading.reading_minutes,
            }
            for reading in reading_ranges(upcoming.pk)
        ],
    }


def session_summary(user: User, membership: Membership, session: Session) -> dict:
    """The summary of `session` as `user` (with `membership` in its group) may see it now.

    The caller has checked that `user` may see the session (`access_session`).
    """
    questions = _QUESTIONS.rows(None, [session.pk])
    answers, follow_ups = _summary_notes(user, membership, reading_ranges(session.pk), [pk for pk, _ in questions])
    return {
        "session": _session_head(session),
        "attendance": _attendance(session),
        "questions": _questions(questions, answers),
        "follow_ups": follow_ups,
        "next_session": _next(session),
    }


_SESSION_FIELDS = [field.attname for field in Session._meta.concrete_fields]
_GROUP_FIELDS = [field.attname for field in StudyGroup._meta.concrete_fields]


@CompiledQuery
def _PREVIOUS(_shape, args):
    """`previous_session` of session `args[0]` (in group `args[1]`), as its fields' and its group's values."""
    starts_at = Subquery(Session.objects.filter(pk=args[0]).values("starts_at")[:1])
    return sessions_before(args[1], starts_at)[:1].values_list(
        *_SESSION_FIELDS, *(f"group__{name}" for name in _GROUP_FIELDS)
    )


def previous_summary(user: User, membership: Membership, session: Session) -> dict | None:
    """For `session`'s pack: the summary of the group's session before it, or None when there is none.

    `previous_session` with SQL compiled once per process (`pack.compiled`), by the session's stored start.
    """
    rows = _PREVIOUS.rows(None, [session.pk, session.group_id])
    if not rows:
        return None
    count = len(_SESSION_FIELDS)
    before = Session.from_db("default", _SESSION_FIELDS, rows[0][:count])
    before.group = StudyGroup.from_db("default", _GROUP_FIELDS, rows[0][count:])
    return session_summary(user, membership, before)
