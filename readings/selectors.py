"""Permission-scoped reads of readings. Outside the group is a 404."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from core.compiled import CompiledQuery
from sessions_app.enums import Role
from sessions_app.models import Membership, Session, StudyGroup, User
from sessions_app.rules import facilitates
from sessions_app.selectors import membership_for, sessions_for_user

from .enums import NoteVisibility, QuestionState
from .models import (
    DiscussionQuestion,
    Note,
    NoteHelpful,
    NoteMention,
    Passage,
    ReadingAssignment,
    Text,
    TextImport,
    TextRevision,
)


def texts_for_user(user: User) -> QuerySet[Text]:
    return Text.objects.filter(group__memberships__user=user).annotate(
        passage_count=Count("passages", filter=Q(passages__retired=False))
    )


def access_text(user: User, text_id: int | str) -> tuple[Text, Membership]:
    """The text and the user's membership in its group, or 404."""
    try:
        text = texts_for_user(user).select_related("group").get(pk=int(text_id))
    except (Text.DoesNotExist, TypeError, ValueError):
        raise Http404("No such text.") from None
    return text, membership_for(user, text.group_id)


def access_text_import(user: User, import_id: int | str) -> TextImport:
    """An import, for its uploader while still in its group and whoever may import into it; 404 for anyone else."""
    try:
        job = TextImport.objects.get(pk=int(import_id))
    except (TextImport.DoesNotExist, TypeError, ValueError):
        raise Http404("No such import.") from None
    membership = membership_for(user, job.group_id)
    if membership is None or (job.created_by_id != user.pk and not facilitates(membership)):
        raise Http404("No such import.")
    return job


def passages_of(text: Text, *, include_retired: bool = False) -> QuerySet[Passage]:
    passages = text.passages.all()
    if not include_retired:
        passages = passages.filter(retired=False)
    return passages.order_by("retired", "position", "id")


def cited_works_of(text: Text) -> list[dict]:
    """Every work the text cites, in order of first citation, with the positions citing it."""
    works: dict[str, list[int]] = {}
    rows = (
        text.passages.filter(retired=False)
        .exclude(cited_works=[])
        .order_by("position")
        .values_list("position", "cited_works")
    )
    for position, titles in rows:
        for title in titles:
            positions = works.setdefault(title, [])
            if position not in positions:
                positions.append(position)
    return [{"title": title, "passages": positions} for title, positions in works.items()]


def latest_revision(text: Text) -> TextRevision | None:
    return text.revisions.order_by("-number").first()


# --- Assignments, questions, notes -------------------------------------------


def readings_of(session: Session) -> QuerySet[ReadingAssignment]:
    return (
        ReadingAssignment.objects.filter(session=session)
        .select_related("text", "start_passage", "end_passage")
        .order_by("position", "id")
    )


@dataclass(frozen=True, slots=True)
class PassageRange:
    """The passages of one text from position `first` to `last`: what a reading assignment reads."""

    text_id: int
    first: int
    last: int

    @classmethod
    def of(cls, assignment: ReadingAssignment) -> "PassageRange":
        return cls(assignment.text_id, assignment.start_passage.position, assignment.end_passage.position)


def session_passages_q(readings: Iterable[ReadingAssignment | PassageRange], prefix: str = "") -> Q:
    """Passages inside any of the readings' ranges (by position: inserted passages count).

    The one way to say "the passages a session reads" in a query; `prefix`
    reaches them from another model (`"passage__"` for notes).
    """
    condition = Q(pk__in=[])
    for reading in readings:
        one = reading if isinstance(reading, PassageRange) else PassageRange.of(reading)
        condition |= Q(
            **{f"{prefix}text_id": one.text_id, f"{prefix}position__gte": one.first, f"{prefix}position__lte": one.last}
        )
    return condition


def questions_for(user: User, session: Session, *, sees_all: bool) -> QuerySet[DiscussionQuestion]:
    """Accepted questions and the user's own proposals; everything for those who lead the session."""
    questions = DiscussionQuestion.objects.filter(session=session)
    if not sees_all:
        questions = questions.filter(Q(state=QuestionState.ACCEPTED) | Q(proposed_by=user))
    return questions.prefetch_related(Prefetch("passages", queryset=Passage.objects.only("id"))).order_by(
        "position", "id"
    )


def number_questions(questions) -> list[DiscussionQuestion]:
    """Give each accepted question its `number`: its rank among the session's accepted questions, in order.

    How every page, the pack and emails refer to a question ("question 2");
    proposed and rejected questions have none (`number` is None).
    """
    questions = list(questions)
    rank = 0
    for question in questions:
        if question.state == QuestionState.ACCEPTED:
            rank += 1
            question.number = rank
        else:
            question.number = None
    return questions


def question_numbers(question_ids) -> dict[int, int]:
    """Question id → its `number` (as `number_questions` gives it) for those of `question_ids` that are accepted.

    One query for any number of questions and sessions (the accepted questions of their sessions).
    """
    sessions = DiscussionQuestion.objects.filter(pk__in=list(question_ids)).values("session_id")
    numbers: dict[int, int] = {}
    rank, session_id = 0, None
    for pk, session in (
        DiscussionQuestion.objects.filter(session_id__in=sessions, state=QuestionState.ACCEPTED)
        .order_by("session_id", "position", "id")
        .values_list("pk", "session_id")
    ):
        rank = rank + 1 if session == session_id else 1
        session_id = session
        numbers[pk] = rank
    return numbers


def access_question(user: User, session: Session, question_id: int | str, *, sees_all: bool) -> DiscussionQuestion:
    try:
        return questions_for(user, session, sees_all=sees_all).get(pk=int(question_id))
    except (DiscussionQuestion.DoesNotExist, TypeError, ValueError):
        raise Http404("No such question.") from None


def answerable_question(user: User, question_id: int, *, group_id: int) -> DiscussionQuestion | None:
    """The accepted question `question_id` of a session of group `group_id` that `user` may see, for a note
    to answer; None if there is none (a draft's questions are unknown to members, as everywhere)."""
    return (
        DiscussionQuestion.objects.filter(
            pk=question_id,
            session__group_id=group_id,
            session__in=sessions_for_user(user),
            state=QuestionState.ACCEPTED,
        )
        .select_related("session")
        .first()
    )


def _peek_guarded(group_id: int) -> Q:
    """The note's passage lies in a reading of one of the group's "post before you peek" sessions.

    The guarded passages are one subquery that does not refer to the note (the passages within a reading
    of such a session), so PostgreSQL finds them once per query and tests each note against that set,
    instead of looking for such a reading again for every note it reads (an EXISTS on the note's passage:
    about 0.02-0.06 ms a note, most of a pack's time in PostgreSQL; docs/benchmarks.md, Load).
    """
    guarded = Passage.objects.filter(
        text__assignments__session__group_id=group_id,
        text__assignments__session__post_before_peek=True,
        position__gte=F("text__assignments__start_passage__position"),
        position__lte=F("text__assignments__end_passage__position"),
    ).values("pk")
    return Q(passage__in=guarded)


def _posted_by(user: User) -> QuerySet[Note]:
    """The notes that count as `user` having posted on their passage, for "post before you peek".

    A note with words always does; a highlight only where its group allows it
    (`StudyGroup.highlights_unlock_peek`).
    """
    counts = Q(highlight=False) | Q(passage__text__group__highlights_unlock_peek=True)
    return Note.objects.filter(counts, author=user)


def in_threads_for(*audiences: str, author: User | None = None) -> Q:
    """Notes of threads whose audience is one of `audiences`, or (with `author`) that `author` started.

    The thread part of the visibility rule (`_visible_in_group`), read from
    each note's own copies of its root (`visibility`, `thread_author`), so no
    query joins a reply to its root to learn its audience.
    """
    condition = Q(visibility__in=audiences)
    if author is not None:
        condition |= Q(thread_author=author)
    return condition


def _visible_in_group(user: User, membership: Membership) -> Q:
    """The notes of one group that `user`, with this membership, may see: DESIGN.md's table.

    A whole thread has one audience, its root's: the root's visibility (a
    `group` thread for every member, a `facilitators` thread for those with
    facilitator rights, a `private` one for nobody else), and the root's
    author, who sees every reply in their thread. Hiding a note takes it and
    every reply under it out of view (`hidden_root`) for everyone but the
    author of the hidden note, who still sees it (marked), and the
    organizers. Under "post before you peek", a plain member sees a `group`
    thread on a guarded passage only once they have a note on that passage
    (a highlight counts only where the group says so: `_posted_by`).
    So a reply is only ever seen with the note it answers.

    Each note carries what the rule needs of its thread: a reply's
    `visibility` is its root's, `thread_author` the root's author and
    `hidden_author` the hidden root's (kept by the note services; checked by
    PostgreSQL, migration readings.0014), so the rule is a test of the row's
    own columns, however many notes match.
    """
    audiences = [NoteVisibility.GROUP]
    if membership.has_facilitator_rights:
        audiences.append(NoteVisibility.FACILITATORS)
    visible = Q(passage__text__group_id=membership.group_id) & in_threads_for(*audiences, author=user)
    if not membership.is_organizer:  # the organizers moderate, so they see what they hid
        visible &= Q(hidden_root__isnull=True) | Q(hidden_author=user)
    if membership.role == Role.MEMBER:
        unpeeked = (
            Q(visibility=NoteVisibility.GROUP)
            & _peek_guarded(membership.group_id)
            & ~Q(passage__in=_posted_by(user).values("passage_id"))
        )
        visible &= ~unpeeked
    return visible


def notes_visible_to(
    user: User, *, membership: Membership | None = None, memberships: Iterable[Membership] | None = None
) -> QuerySet[Note]:
    """Every note `user` may see; with `membership`, only that group's (a simpler, faster query).

    Pass `memberships` (all of the user's) when the caller has them already.
    """
    if membership is not None:
        memberships = [membership]
    elif memberships is None:
        memberships = list(Membership.objects.filter(user=user))
    visible = Q(pk__in=[])
    for one in memberships:
        visible |= _visible_in_group(user, one)
    return Note.objects.filter(visible)


def with_helpful_by(notes: QuerySet[Note], user: User) -> QuerySet[Note]:
    """Each note annotated with `helpful_by_me`: whether `user` marked it helpful (a subquery, no extra query)."""
    return notes.annotate(helpful_by_me=Exists(NoteHelpful.objects.filter(note=OuterRef("pk"), user=user)))


def mentions_prefetch(lookup: str = "mentions") -> Prefetch:
    """Prefetch the members notes mention, for `readings.mentions.mention_names` (one query for any number)."""
    return Prefetch(lookup, queryset=NoteMention.objects.select_related("user"))


def notes_for_api(user: User) -> QuerySet[Note]:
    return (
        with_helpful_by(notes_visible_to(user), user)
        .select_related("author", "passage")
        .prefetch_related("tags", mentions_prefetch())
        .order_by("passage__text_id", "passage__position", "created_at", "id")
    )


def access_note(user: User, note_id: int | str) -> Note:
    try:
        return notes_for_api(user).select_related("passage__text", "parent").get(pk=int(note_id))
    except (Note.DoesNotExist, TypeError, ValueError):
        raise Http404("No such note.") from None


def access_passage(user: User, passage_id: int | str) -> Passage:
    """A passage of one of the user's groups (with its text, but not the text's whole content), else 404."""
    try:
        return (
            Passage.objects.select_related("text")
            .defer("text__full_text")
            .get(pk=int(passage_id), text__group__memberships__user=user)
        )
    except (Passage.DoesNotExist, TypeError, ValueError):
        raise Http404("No such passage.") from None


@CompiledQuery
def _PASSAGE_TO_WRITE_ON(_shape, args):
    user_id, passage_id = args
    return (
        Passage.objects.filter(pk=passage_id, text__group__memberships__user_id=user_id)
        .order_by()
        .values_list(
            "text_id",
            "body",
            "retired",
            "text__group_id",
            "text__group__default_note_visibility",
            "text__group__memberships__id",
            "text__group__memberships__role",
            "text__group__memberships__note_visibility",
        )
    )


# What a passage's id may be: the range of its column (bigint); any other number is no passage.
_IDS = range(-(2**63), 2**63)


def passage_to_write_on(user: User, passage_id: int) -> tuple[Passage, Membership] | None:
    """A passage of one of `user`'s groups, for a note, and their membership there; None if it is not one.

    One query, its SQL compiled once per process (`pack.compiled`): writing a note built the ORM's query
    for the passage on every request. The passage holds what a new note needs of it (its text and the
    text's group, its body for a selector, whether it is retired); any other field is read when used.
    The membership holds its group's default audience (`Membership.default_note_visibility`).
    """
    if passage_id not in _IDS:
        return None
    rows = _PASSAGE_TO_WRITE_ON.rows(None, [user.pk, passage_id])
    if not rows:
        return None
    text_id, body, retired, group_id, default_visibility, membership_id, role, note_visibility = rows[0]
    db = Passage.objects.db
    group = StudyGroup.from_db(db, ["id", "default_note_visibility"], [group_id, default_visibility])
    text = Text.from_db(db, ["id", "group_id"], [text_id, group_id])
    passage = Passage.from_db(db, ["id", "text_id", "body", "retired"], [passage_id, text_id, body, retired])
    membership = Membership.from_db(
        db,
        ["id", "user_id", "group_id", "role", "note_visibility"],
        [membership_id, user.pk, group_id, role, note_visibility],
    )
    Text.group.field.set_cached_value(text, group)
    Passage.text.field.set_cached_value(passage, text)
    Membership.group.field.set_cached_value(membership, group)
    Membership.user.field.set_cached_value(membership, user)
    return passage, membership


def answers_by_question(user: User, session: Session) -> list[dict]:
    """For each accepted question, the notes the user may see that answer it (private and hidden ones never)."""
    questions = list(questions_for(user, session, sees_all=False).filter(state=QuestionState.ACCEPTED))
    answers = (
        notes_for_api(user)
        .filter(question__in=questions, deleted_at__isnull=True, hidden_root__isnull=True)
        .exclude(visibility=NoteVisibility.PRIVATE)
        .order_by("created_at", "id")
    )
    grouped: dict[int, list[Note]] = {question.pk: [] for question in questions}
    for note in answers:
        grouped[note.question_id].append(note)
    return [{"question": question, "answers": grouped[question.pk]} for question in questions]


# What a ranking of a session's passages reads of each passage (`_passage_of` shows it).
_PASSAGE_COLUMNS = ("passage_id", "passage__anchor", "passage__position", "passage__text_id", "passage__text__title")


def _passage_of(row: dict) -> dict:
    """A passage as the rankings show it, from a row of `_PASSAGE_COLUMNS`."""
    return {
        "passage": row["passage_id"],
        "anchor": row["passage__anchor"],
        "position": row["passage__position"],
        "text": {"id": row["passage__text_id"], "title": row["passage__text__title"]},
    }


def busiest_passages(user: User, session: Session, *, limit: int = 10) -> list[dict]:
    """The session's passages with the most group notes the user can see (hidden ones are not counted)."""
    assignments = list(readings_of(session))
    rows = (
        notes_visible_to(user)
        .filter(session_passages_q(assignments, prefix="passage__"), visibility=NoteVisibility.GROUP)
        .filter(deleted_at__isnull=True, passage__retired=False, hidden_root__isnull=True, highlight=False)
        .values(*_PASSAGE_COLUMNS)
        .annotate(note_count=Count("id"))
        .order_by("-note_count", "passage__text_id", "passage__position")[:limit]
    )
    return [{**_passage_of(row), "note_count": row["note_count"]} for row in rows]


ASKING_TAGS = ("question", "confused")
_ASKING = Q(tags__name__in=ASKING_TAGS) | Q(body__regex=r"\?\s*$")


def shared_session_notes(user: User, membership: Membership, session: Session) -> QuerySet[Note]:
    """The live, unhidden group and facilitators notes (and highlights) on the session's passages `user` sees."""
    return (
        notes_visible_to(user, membership=membership)
        .filter(session_passages_q(list(readings_of(session)), prefix="passage__"), passage__retired=False)
        .filter(deleted_at__isnull=True, hidden_root__isnull=True)
        .exclude(visibility=NoteVisibility.PRIVATE)
    )


def passage_heat(user: User, membership: Membership, session: Session) -> dict[int, int]:
    """{passage id: notes that ask} over the session's passages, for the heat strip. Two queries.

    The same count as `stuck_passages` (never a private note), for every passage with at least one.
    """
    rows = (
        shared_session_notes(user, membership, session)
        .filter(_ASKING, highlight=False)
        .values("passage_id")
        .annotate(asking=Count("id", distinct=True))
        .order_by()
    )
    return {row["passage_id"]: row["asking"] for row in rows}


def stuck_passages(user: User, membership: Membership, session: Session, *, limit: int = 10) -> list[dict]:
    """Where members got stuck: the session's passages ranked by the notes that ask, with their most
    highlighted words. For facilitators (the brief).

    A note asks when it is tagged `question` or `confused` or ends in a question mark. Only notes and
    highlights for the group or the facilitators count (never a private one, not even the viewer's own),
    live and not hidden, that `user` may see. Two queries.
    """
    shared = shared_session_notes(user, membership, session)
    rows = list(
        shared.filter(_ASKING, highlight=False)
        .values(*_PASSAGE_COLUMNS)
        .annotate(asking=Count("id", distinct=True))
        .order_by("-asking", "passage__text_id", "passage__position")[:limit]
    )
    highlighted: dict[int, tuple[str, int]] = {}
    spans = (
        shared.filter(highlight=True, passage_id__in=[row["passage_id"] for row in rows])
        .values("passage_id", "selector__exact")
        .annotate(times=Count("id"))
        .order_by("passage_id", "-times", "selector__exact")
    )
    for span in spans:
        highlighted.setdefault(span["passage_id"], (span["selector__exact"], span["times"]))
    return [
        {
            **_passage_of(row),
            "asking": row["asking"],
            "most_highlighted": (
                {"words": highlighted[row["passage_id"]][0], "times": highlighted[row["passage_id"]][1]}
                if row["passage_id"] in highlighted
                else None
            ),
        }
        for row in rows
    ]


def notes_withheld_before_peek(user: User, *, membership: Membership, where: Q) -> dict[int, int]:
    """Per passage id, how many of others' group notes "post before you peek" still keeps from `user`.

    `where` narrows the notes (e.g. `session_passages_q(assignments, prefix="passage__")`).
    Counts top-level, undeleted, unhidden `group` notes by someone else that
    `notes_visible_to` leaves out; since every member is in a group note's
    audience, only the peek rule can be holding those back. Nobody's private
    or facilitators note is ever counted. Empty for facilitators and
    organizers, whom the rule never holds back. One query.
    """
    if membership.role != Role.MEMBER:
        return {}
    rows = (
        Note.objects.filter(
            where,
            passage__text__group_id=membership.group_id,
            visibility=NoteVisibility.GROUP,
            hidden=False,
            deleted_at__isnull=True,
            parent__isnull=True,
        )
        .exclude(author=user)
        .exclude(pk__in=notes_visible_to(user, membership=membership).values("pk"))
        .values("passage_id")
        .annotate(withheld=Count("id"))
        .order_by()
    )
    return {row["passage_id"]: row["withheld"] for row in rows}


def note_audience(note: Note, user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` who may see `note` (its thread's audience), the peek rule aside: it only delays.

    The same rules as `_visible_in_group`, for one note and a few people:
    the thread root's author; every member for a `group` thread, those with
    facilitator rights for a `facilitators` one, nobody else for a `private`
    one; and, under a hidden note, only the organizers and the hidden note's
    author (the note's copies of them: `thread_author`, `hidden_author`). One query, for the memberships.
    """
    user_ids = set(user_ids)
    if not user_ids:
        return set()
    root_author, hidden_author = note.thread_author_id, note.hidden_author_id
    audience = set()
    for membership in Membership.objects.filter(group_id=note.passage.text.group_id, user_id__in=user_ids):
        user_id = membership.user_id
        sees = user_id == root_author or note.visibility == NoteVisibility.GROUP
        sees = sees or (note.visibility == NoteVisibility.FACILITATORS and membership.has_facilitator_rights)
        if note.hidden_root_id and not (membership.is_organizer or user_id == hidden_author):
            sees = False
        if sees:
            audience.add(user_id)
    return audience
