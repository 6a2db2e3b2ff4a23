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

from django.db.models import BooleanField, Exists, ExpressionWrapper, FilteredRelation, OuterRef, Q, QuerySet, Subquery

from core.compiled import CompiledQuery
from sessions_app.enums import SUMMARY_STATUSES, SummaryAttendance
from sessions_app.models import Membership, Session, User
from sessions_app.selectors import next_session, sessions_before

from .enums import NoteVisibility, QuestionState
from .mentions import html_with_mention_names, mention_map
from .models import DiscussionQuestion, NoteTag
from .reading_model import ReadingView, mentions_of, person_name, reading_ranges
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
    mentions = mentions_of([row[0] for row in rows])  # the reader's own query (`reading_model`), by the ids
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


def present_at(session_id, group_id) -> QuerySet[User]:
    """Who was marked present at session `session_id` and is still a member of its group `group_id`
    (`selectors.attendees_of`'s people); read as `ATTENDEE_COLUMNS`."""
    return User.objects.filter(attendance__session_id=session_id, memberships__group_id=group_id).order_by()


# An attendee's id and the columns of their name (`person_name`'s order).
ATTENDEE_COLUMNS = ("id", "display_name", "first_name", "last_name", "username")


@CompiledQuery
def _ATTENDEES(_shape, args):
    return present_at(args[0], args[1]).values_list(*ATTENDEE_COLUMNS)


def _attendance(session: Session, rows: list[tuple] | None = None) -> dict:
    """`rows`: the session's attendees as `ATTENDEE_COLUMNS`, when the caller read them (the pack does)."""
    if rows is None:
        rows = _ATTENDEES.rows(None, [session.pk, session.group_id])
    # `selectors.attendees_of`'s people in its order (by name, then id), read as values.
    attendees = sorted(((person_name(*name), pk) for pk, *name in rows), key=lambda item: (item[0].casefold(), item[1]))
    names = session.group.summary_attendance == SummaryAttendance.NAMES
    return {
        "shown_as": session.group.summary_attendance,
        "present": len(attendees),
        "names": [name for name, _pk in attendees] if names else None,
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


def _next(upcoming: Session | None, readings: list[ReadingView] | None = None) -> dict | None:
    """The `next_session` part: `upcoming`'s head and its readings (`readings`, when loaded already)."""
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
            for reading in (reading_ranges(upcoming.pk) if readings is None else readings)
        ],
    }


_UNKNOWN = object()


def session_summary(
    user: User,
    membership: Membership,
    session: Session,
    *,
    upcoming=_UNKNOWN,
    upcoming_readings: list[ReadingView] | None = None,
    readings: list[ReadingView] | None = None,
    questions: list[tuple[int, str]] | None = None,
    attendees: list[tuple] | None = None,
) -> dict:
    """The summary of `session` as `user` (with `membership` in its group) may see it now.

    The caller has checked that `user` may see the session (`access_session`). What the caller read
    already (the pack, with its own session's): `upcoming`, the group's next session
    (`selectors.next_session`) or None, and `upcoming_readings` its `reading_ranges`; the session's
    `readings` (`reading_ranges`) and accepted `questions` ((id, prompt) by position, as `_QUESTIONS`);
    its `attendees` (`present_at`, as `ATTENDEE_COLUMNS`).
    """
    if questions is None:
        questions = _QUESTIONS.rows(None, [session.pk])
    if readings is None:
        readings = reading_ranges(session.pk)
    answers, follow_ups = _summary_notes(user, membership, readings, [pk for pk, _ in questions])
    if upcoming is _UNKNOWN:
        upcoming = next_session(session)
    return {
        "session": _session_head(session),
        "attendance": _attendance(session, attendees),
        "questions": _questions(questions, answers),
        "follow_ups": follow_ups,
        "next_session": _next(upcoming, upcoming_readings),
    }


# The previous session as a pack's version and summary read it: its id, what the summary shows of its own
# fields, its role counters, and the id of the session its summary points to as the next one.
_PREVIOUS_FIELDS = [
    "id",
    "title",
    "starts_at",
    "ends_at",
    "timezone",
    "members_version",
    "facilitators_version",
    "organizers_version",
]
PREVIOUS_COLUMNS = (*(f"previous__{name}" for name in _PREVIOUS_FIELDS), "previous_next_id")


def with_previous(sessions: QuerySet[Session], session_id) -> QuerySet[Session]:
    """`sessions` (the one whose id is `session_id`) with the group's session before it (`previous`: one join;
    `selectors.previous_session`'s rule, `sessions_before`) and `previous_next_id`: the session that one's
    summary shows as the next.

    That is `selectors.next_session` of the previous session, read from this one's start: no session
    whose summary shows (a status of SUMMARY_STATUSES) starts between the two (or it would be the
    previous one), so it is the first of those starting at or after this one (this one, mostly).
    Both look the session up by `session_id`, not the outer row: PostgreSQL runs each once (an InitPlan)
    and joins the previous session by its primary key, where a correlated subquery ran again for every
    session of the group. Read `PREVIOUS_COLUMNS` and make the previous session with `previous_from`.
    """
    this = Session.objects.filter(pk=session_id).order_by()
    group_id, starts_at = Subquery(this.values("group_id")[:1]), Subquery(this.values("starts_at")[:1])
    before = sessions_before(group_id, starts_at).values("pk")[:1]
    following = (
        Session.objects.filter(group_id=group_id, status__in=SUMMARY_STATUSES, starts_at__gte=starts_at)
        .order_by("starts_at", "id")
        .values("pk")[:1]
    )
    return sessions.annotate(
        previous=FilteredRelation("group__sessions", condition=Q(group__sessions__pk=Subquery(before))),
        previous_next_id=Subquery(following),
    )


def previous_from(values, session: Session) -> Session | None:
    """The previous session of `session` from `PREVIOUS_COLUMNS`' values (None when there is none): the
    fields read only, its group `session`'s, and `next_id`."""
    if values[0] is None:
        return None
    previous = Session.from_db(Session.objects.db, _PREVIOUS_FIELDS, values[: len(_PREVIOUS_FIELDS)])
    previous.group_id, previous.group = session.group_id, session.group
    previous.next_id = values[len(_PREVIOUS_FIELDS)]
    return previous


@CompiledQuery
def _PREVIOUS(_shape, args):
    return with_previous(Session.objects.filter(pk=args[0]), args[0]).order_by().values_list(*PREVIOUS_COLUMNS)


def load_previous(session: Session) -> Session | None:
    """`previous_from` for `session` (loaded with its group): one query, its SQL compiled once per process."""
    rows = _PREVIOUS.rows(None, [session.pk])
    return previous_from(rows[0], session) if rows else None


def previous_summary(
    user: User,
    membership: Membership,
    session: Session,
    *,
    previous=_UNKNOWN,
    readings: list[ReadingView] | None = None,
    previous_readings: list[ReadingView] | None = None,
    previous_questions: list[tuple[int, str]] | None = None,
    previous_attendees: list[tuple] | None = None,
) -> dict | None:
    """For `session`'s pack: the summary of the group's session before it, or None when there is none.

    `previous`, when the caller read it (`with_previous`: the pack's scope does); `readings`, the
    session's own `reading_ranges` when loaded (its summary's next session is mostly `session` itself);
    `previous_readings`, `previous_questions` and `previous_attendees`, the previous session's
    (`session_summary`).
    """
    if previous is _UNKNOWN:
        previous = load_previous(session)
    if previous is None:
        return None
    if previous.next_id == session.pk:
        upcoming = session
    else:
        upcoming, readings = (
            (Session.objects.filter(pk=previous.next_id).first() if previous.next_id is not None else None),
            None,
        )
    return session_summary(
        user,
        membership,
        previous,
        upcoming=upcoming,
        upcoming_readings=readings,
        readings=previous_readings,
        questions=previous_questions,
        attendees=previous_attendees,
    )
