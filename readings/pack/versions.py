"""Raising the pack versions for readings' changes: which sessions and people a change reaches.

The counters live in `sessions_app.versions` (read there for what they are).
Every readings service that writes something a pack shows calls one of these
in its transaction:

- `pack_versions_bump_for_notes(reaches)`, with `note_reaches(ids)` taken
  before the change (for an edit, a delete, hiding) and/or after it (for a
  new note, an edit): a note reaches the sessions whose readings hold its
  passage, for its thread's audience (`group` → everyone, but only
  facilitators and the members who posted there on a passage "post before
  you peek" guards; `facilitators` → facilitators and the thread's author;
  `private` → its author; under a hidden note → organizers and that note's
  author), plus its own author.
- `pack_versions_bump_for_text(text_id)`: the text's title, author, source,
  passages (a revision) or its notes' anchoring: every session reading it.
- `pack_versions_bump_for_session(session, audience)`: a session's readings
  or questions; a change to the readings of a "post before you peek" session
  reaches the whole group (it guards passages in every pack of the group).
  Proposed questions are in the facilitators' brief only (`Audience.FACILITATORS`).
- `pack_versions_bump_for_progress(session, passage_ids, opened)`: reading
  progress, which only the facilitators' brief shows.

A new feature that shows something new in the pack (or in the reader, which
shares the version) calls these from its service, and adds its change to the
version-coverage test in `tests/readings/test_pack_versions.py`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from core.compiled import CompiledQuery
from sessions_app.models import Membership, Session
from sessions_app.versions import Audience, group_versions_bump, personal_versions_bump, session_versions_bump

from ..enums import NoteVisibility
from ..models import Note, NoteMention, Passage, ReadingAssignment

__all__ = [
    "Audience",
    "NoteReach",
    "note_reaches",
    "pack_versions_bump_for_name",
    "pack_versions_bump_for_notes",
    "pack_versions_bump_for_progress",
    "pack_versions_bump_for_session",
    "pack_versions_bump_for_text",
]


@dataclass(frozen=True)
class NoteReach:
    """Who is shown one note as it stands: where it is, the audience, and people beyond it."""

    group_id: int
    text_id: int
    position: int
    audience: Audience | None
    people: frozenset[int]
    # On a guarded passage, the members who wrote on it see the thread too.
    peek_passage_id: int | None = None


def _guarded() -> Exists:
    """The note's passage is in a reading of one of its group's "post before you peek" sessions."""
    return Exists(
        ReadingAssignment.objects.filter(
            session__post_before_peek=True,
            session__group_id=OuterRef("passage__text__group_id"),
            text_id=OuterRef("passage__text_id"),
            start_passage__position__lte=OuterRef("passage__position"),
            end_passage__position__gte=OuterRef("passage__position"),
        )
    )


# A note's reach and the readings of its text are read on every note write: their SQL is compiled once per
# process (`compiled`) for up to this many notes or texts at a time; more go through the ORM each time.
_COMPILED_UP_TO = 8


@CompiledQuery
def _REACHES(_shape, note_ids):
    return (
        Note.objects.filter(pk__in=list(note_ids))
        .annotate(guarded=_guarded())
        .values_list(
            "author_id",
            "thread_author_id",
            "visibility",
            "hidden_root_id",
            "hidden_author_id",
            "guarded",
            "passage_id",
            "passage__text_id",
            "passage__position",
            "passage__text__group_id",
        )
    )


@CompiledQuery
def _READINGS_OF_TEXTS(_shape, text_ids):
    return ReadingAssignment.objects.filter(text_id__in=list(text_ids)).values_list(
        "session_id", "text_id", "start_passage__position", "end_passage__position"
    )


def _rows(query: CompiledQuery, ids: list[int]) -> list[tuple]:
    if not ids:
        return []
    if len(ids) <= _COMPILED_UP_TO:
        return query.rows(None, ids)
    return list(query.build(None, ids))


def note_reaches(note_ids: Iterable[int]) -> list[NoteReach]:
    """Who is shown each of these notes now (one query). Mirrors `selectors._visible_in_group`."""
    rows = _rows(_REACHES, list(dict.fromkeys(note_ids)))
    reaches = []
    for author, thread_author, visibility, hidden_root, hider, guarded, passage, text, position, group in rows:
        audience, people, peek = None, {thread_author}, None
        if hidden_root is not None:
            audience = Audience.ORGANIZERS if visibility != NoteVisibility.PRIVATE else None
            people = {hider}
        elif visibility == NoteVisibility.FACILITATORS:
            audience = Audience.FACILITATORS
        elif visibility == NoteVisibility.GROUP and guarded:
            # Its author's own note may be what lets them see the others' (or, deleted, no longer).
            audience, people, peek = Audience.FACILITATORS, {thread_author, author}, passage
        elif visibility == NoteVisibility.GROUP:
            audience, people = Audience.EVERYONE, set()
        reaches.append(NoteReach(group, text, position, audience, frozenset(people), peek))
    return reaches


def pack_versions_bump_for_notes(reaches: Iterable[NoteReach]) -> None:
    """Raise the versions of everyone these notes reach(ed) in the sessions whose readings hold them.

    One query for the readings of the notes' texts, then one UPDATE per audience and per group (none for the
    people of a group note: nobody beyond its audience).
    """
    reaches = list(reaches)
    if not reaches:
        return
    readings = _rows(_READINGS_OF_TEXTS, sorted({reach.text_id for reach in reaches}))
    holding: dict[tuple[int, int], set[int]] = {}
    for session_id, text_id, first, last in readings:
        for reach in reaches:
            if reach.text_id == text_id and first <= reach.position <= last:
                holding.setdefault((text_id, reach.position), set()).add(session_id)
    sessions: dict[Audience, set[int]] = {}
    people: dict[int, set[int]] = {}
    peeks: dict[int, set[int]] = {}
    for reach in reaches:
        if not (held_by := holding.get((reach.text_id, reach.position))):
            continue  # in no session's readings: in nobody's pack
        if reach.audience is not None:
            sessions.setdefault(reach.audience, set()).update(held_by)
        people.setdefault(reach.group_id, set()).update(reach.people)
        if reach.peek_passage_id is not None:
            peeks.setdefault(reach.group_id, set()).add(reach.peek_passage_id)
    for audience, ids in sessions.items():
        session_versions_bump(sessions=ids, audience=audience)
    for group_id, user_ids in people.items():
        writers = None
        if passages := peeks.get(group_id):
            writers = Q(user_id__in=Note.objects.filter(passage_id__in=passages).values("author_id"))
        if user_ids or writers is not None:  # a group note reaches everyone through the sessions' counters alone
            personal_versions_bump(group_id=group_id, user_ids=user_ids, members=writers)


def pack_versions_bump_for_text(*, text_id: int) -> None:
    """Everything about a text (its details, passages, the anchoring of its notes): every session reading it."""
    sessions = Session.objects.filter(pk__in=ReadingAssignment.objects.filter(text_id=text_id).values("session_id"))
    session_versions_bump(sessions=sessions, audience=Audience.EVERYONE)


def pack_versions_bump_for_session(
    *, session: Session, audience: Audience = Audience.EVERYONE, readings: bool = False
) -> None:
    """The session's questions (for `audience`) or `readings`; a "peek" session's readings reach its whole group."""
    if readings and session.post_before_peek:
        group_versions_bump(group_ids=[session.group_id])
    else:
        session_versions_bump(sessions=[session.pk], audience=audience)


def pack_versions_bump_for_name(*, user_id: int) -> None:
    """A person's display name changed: raise the versions of those shown it in the groups they left.

    `sessions_app.services.accounts.profile_update` raises the groups they are in; a member who left is still
    shown by name on the notes they wrote and in the notes that mention them, each to that note's audience only
    (a private or facilitators-only note must not move a member's version: that would tell them it exists).
    Two queries for the notes, then `pack_versions_bump_for_notes`.
    """
    shown_in = (
        Note.objects.filter(
            Q(author_id=user_id) | Q(pk__in=NoteMention.objects.filter(user_id=user_id).values("note_id"))
        )
        .exclude(passage__text__group_id__in=Membership.objects.filter(user_id=user_id).values("group_id"))
        .values_list("pk", flat=True)
    )
    pack_versions_bump_for_notes(note_reaches(shown_in))


def pack_versions_bump_for_progress(*, session: Session, passage_ids: Iterable[int], opened: bool) -> None:
    """Someone's reading progress moved: the facilitators' brief of every session whose required readings
    hold one of `passage_ids` (passages newly read: one counts wherever it is assigned), and of `session`
    when they `opened` its reading for the first time. Progress is for facilitators only; one UPDATE.
    """
    passage_ids = list(passage_ids)
    if not passage_ids and not opened:
        return
    holds = ReadingAssignment.objects.filter(
        Exists(
            Passage.objects.filter(
                pk__in=passage_ids,
                text_id=OuterRef("text_id"),
                position__gte=OuterRef("start_passage__position"),
                position__lte=OuterRef("end_passage__position"),
            )
        ),
        session_id=OuterRef("pk"),
        required=True,  # % read counts the required readings only
    )
    reached = Exists(holds) if passage_ids else Q(pk__in=[])
    if opened:
        reached |= Q(pk=session.pk)
    session_versions_bump(sessions=Session.objects.filter(reached), audience=Audience.FACILITATORS)
