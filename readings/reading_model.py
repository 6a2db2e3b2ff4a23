"""One read model of a reading: a session's readings, their passages and the notes one person may see.

The reader page (`pages/views/reader.py`) and the session pack
(`readings/pack/builder.py`) both present what `session_reading` returns, so
they cannot disagree about which passages a session reads, which notes a
person sees or how a thread hangs together:

- **Readings** in the session's order, each with its text and its passages
  (current ones, by position: passages inserted inside a range belong to
  it). **Overlapping ranges**: a passage appears once, in the first reading
  whose range holds it; a later reading that overlaps lists only the
  passages the earlier ones did not (so a note is shown, numbered and
  counted once).
- **Notes**: exactly `notes_visible_to` (DESIGN.md's table, hiding, "post
  before you peek"), in creation order. **Threads are nested**: each note
  carries its direct replies (`replies`), each reply its own, as deep as
  the conversation goes. A reply whose parent the person may not see is
  never shown as a note of its own (the visibility rule makes that
  impossible; the tree makes sure).
- A passage's `notes` are its top-level notes still on their words
  (highlights included: `highlight` tells them apart); notes whose words
  were lost (`orphaned`) or whose passage left the reading are the
  reading's `orphaned_notes`, with the first reading of their text.
- Each note has its helpful count (None for a private note, which shows no
  count anywhere) and, when asked for (`for_page`), whether the viewer
  marked it helpful, its times and the places its old words appear now.

Speed: it is the pack's core. Four flat queries (readings with their texts,
passages, notes with their authors, the notes' tags and mentions in one), rows as tuples, the
selector decoded by orjson, one small slotted object per row.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.db import connections
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim

from core.compiled import CompiledQuery, any_of
from sessions_app.models import Membership, User

from .enums import AnchorState, NoteVisibility
from .mentions import html_with_mention_names, mention_map
from .models import Note, NoteHelpful, NoteMention, NoteTag, Passage, ReadingAssignment
from .selectors import PassageRange, notes_visible_to, session_passages_q


def person_name(display_name: str, first_name: str, last_name: str, username: str) -> str:
    """`User.name` from its columns (rows read with `values_list`, not as users)."""
    return display_name or f"{first_name} {last_name}".strip() or username


@dataclass(slots=True)
class TextView:
    id: int
    title: str
    author: str
    source: str


@dataclass(slots=True)
class ReadingView:
    """One reading assignment of the session: its text, range and the passages shown under it."""

    id: int
    text: TextView
    required: bool
    instructions: str
    reading_minutes: int
    range: PassageRange
    passages: list["PassageView"] = field(default_factory=list)
    orphaned_notes: list["NoteView"] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.id


@dataclass(slots=True)
class PassageView:
    id: int
    text_id: int
    anchor: str
    position: int
    kind: str
    section: str
    body: str
    footnotes: list
    word_count: int
    notes: list["NoteView"] = field(default_factory=list)  # top-level, on their words; highlights too

    @property
    def pk(self) -> int:
        return self.id


@dataclass(slots=True)
class NoteView:
    id: int
    passage_id: int
    text_id: int
    parent_id: int | None
    author_id: int
    author_name: str | None  # None once deleted: the placeholder names nobody
    body: str
    body_html: str
    visibility: str
    selector: dict | None
    anchor_state: str
    question_id: int | None
    hidden: bool
    highlight: bool
    helpful_count: int | None  # None for a private note: it has no count anywhere
    tags: list[str] = field(default_factory=list)
    # Whom it mentions ({"id", "username", "name"}); `body_html` already shows them by that name.
    mentions: list[dict] = field(default_factory=list)
    replies: list["NoteView"] = field(default_factory=list)  # direct replies, oldest first, each with its own
    deleted: bool = False
    # The topmost hidden note at or above this one (itself, if hidden), or None: the brief and summary skip these.
    hidden_root_id: int | None = None
    # Only with `for_page`:
    helpful_by_me: bool = False
    created_at: datetime | None = None
    candidates: list = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.id

    @property
    def orphaned(self) -> bool:
        return self.anchor_state == AnchorState.ORPHANED

    @property
    def thread_size(self) -> int:
        """This note and every reply under it, however deep."""
        return 1 + sum(reply.thread_size for reply in self.replies)

    def thread(self):
        """Every reply under this note, depth first (a reply, then the replies to it), oldest first."""
        for reply in self.replies:
            yield reply
            yield from reply.thread()


@dataclass(slots=True)
class SessionReading:
    """What `session_reading` returns: the readings in order, and every note shown by id."""

    readings: list[ReadingView]
    notes: dict[int, NoteView]  # every note in a thread shown, replies included
    top: list[NoteView]  # the threads (top-level notes), oldest first

    @property
    def single_text(self) -> bool:
        return len({reading.text.id for reading in self.readings}) <= 1


def reading_ranges(session_id: int) -> list[ReadingView]:
    """The session's readings with their texts and ranges, no passages yet: one query."""
    return readings_of_sessions([session_id]).get(session_id, [])


def readings_of_sessions(session_ids: Sequence[int]) -> dict[int, list[ReadingView]]:
    """`reading_ranges` of each of these sessions (a pack's and the one before it), by session: one query."""
    by_session: dict[int, list[ReadingView]] = {}
    for (
        session_id,
        reading_id,
        text_id,
        title,
        author,
        source,
        required,
        instructions,
        minutes,
        first,
        last,
    ) in _READINGS.rows(None, list(session_ids)):
        by_session.setdefault(session_id, []).append(
            ReadingView(
                id=reading_id,
                text=TextView(id=text_id, title=title, author=author, source=source),
                required=required,
                instructions=instructions,
                reading_minutes=minutes,
                range=PassageRange(text_id=text_id, first=first, last=last),
            )
        )
    return by_session


def _ranges_of(args: Sequence[int], count: int) -> list[PassageRange]:
    """`count` ranges from the front of `args` (text, first, last each): how compiled queries take them."""
    return [PassageRange(*args[n * 3 : n * 3 + 3]) for n in range(count)]


def _range_args(readings: list[ReadingView]) -> list[int]:
    return [value for reading in readings for value in (reading.range.text_id, reading.range.first, reading.range.last)]


@CompiledQuery
def _READINGS(_shape, args):
    """The readings of the sessions `args`, each session's in its order."""
    return (
        ReadingAssignment.objects.filter(session_id__in=list(args))
        .order_by("position", "id")
        .values_list(
            "session_id",
            "id",
            "text_id",
            "text__title",
            "text__author",
            "text__source",
            "required",
            "instructions",
            "reading_minutes",
            "start_passage__position",
            "end_passage__position",
        )
    )


def visible_session_notes(user: User, membership: Membership, readings: list[ReadingView]) -> QuerySet[Note]:
    """The notes `user` may see on the passages of `readings`: the pack's, the reader's, the live poll's."""
    ranges = [reading.range for reading in readings]
    return notes_visible_to(user, membership=membership).filter(session_passages_q(ranges, prefix="passage__"))


def _name_of(prefix: str):
    """`User.name` computed by the database (one column instead of four, no Python per row)."""
    return Coalesce(
        NullIf(F(f"{prefix}display_name"), Value("")),
        NullIf(Trim(Concat(F(f"{prefix}first_name"), Value(" "), F(f"{prefix}last_name"))), Value("")),
        F(f"{prefix}username"),
        output_field=CharField(),
    )


_NOTE_COLUMNS = (
    "id",
    "passage_id",
    "passage__text_id",
    "parent_id",
    "author_id",
    "author_name",
    "body",
    "body_html",
    "visibility",
    "selector_json",
    "anchor_state",
    "question_id",
    "hidden",
    "is_deleted",
    "highlight",
    "helpful_count",
    "hidden_root_id",
)


@CompiledQuery
def _NOTES(shape, args):
    """The notes the user (`args[0]`, in group `args[1]`, with the shape's role) may see in the ranges."""
    role, count, one_passage, for_page = shape
    user = User(pk=args[0])
    membership = Membership(user_id=args[0], group_id=args[1], role=role)
    notes = notes_visible_to(user, membership=membership).filter(
        session_passages_q(_ranges_of(args[2:], count), prefix="passage__")
    )
    if one_passage:
        notes = notes.filter(passage_id=args[2 + count * 3])
    # Rows as tuples, the selector as JSON text for orjson, the author's name and "deleted" made by the
    # database: with thousands of notes, the ORM's per-row conversions are most of the cost.
    notes = notes.annotate(
        selector_json=Cast("selector", TextField()),
        author_name=_name_of("author__"),
        is_deleted=ExpressionWrapper(Q(deleted_at__isnull=False), output_field=BooleanField()),
    ).order_by("created_at", "id")
    columns = _NOTE_COLUMNS
    if for_page:
        mine = NoteHelpful.objects.filter(note=OuterRef("pk"), user=user)
        notes = notes.annotate(helpful_by_me=Exists(mine))
        columns = (*columns, "helpful_by_me", "created_at", "candidates")
    return notes.values_list(*columns)


def _notes_in(shape, args):
    """Tags and mentions of the notes loaded: by their ids (`args[0]`), else of every note in the ranges (a join;
    the visible ones' are used: SQLite, where a list of ids is a parameter each)."""
    by_ids, count, one_passage, _tags = shape
    if by_ids:  # the notes already loaded, by id (no second join of the notes to their passages)
        if connections[NoteTag.objects.db].vendor == "postgresql":
            return any_of("note_id", args[0])
        return Q(note_id__in=args[0])  # one parameter per id: not compiled, the ORM runs it
    ranges = session_passages_q(_ranges_of(args, count), prefix="note__passage__")
    if one_passage:
        ranges &= Q(note__passage_id=args[count * 3])
    return ranges


_TAG, _MENTION = 0, 1
_BY_IDS = (True, 0, False)


@CompiledQuery
def _TAGS_AND_MENTIONS(shape, args):
    """The notes' tags and whom they mention, one UNION ALL of rows (kind, note, text, user, display name, first
    and last name): a tag (`_TAG`, its name in text) by name, a mention (`_MENTION`, the username in text, the
    rest the user's) in the order written; only the mentions when the shape says no tags (the summary)."""
    *_notes, tags = shape
    mentions = (
        NoteMention.objects.filter(_notes_in(shape, args))
        .order_by()  # a part of a UNION has no order of its own (SQLite refuses one)
        .annotate(kind=Value(_MENTION), text=F("user__username"), order=F("id"))
        .values_list(
            "kind", "note_id", "text", "user_id", "user__display_name", "user__first_name", "user__last_name", "order"
        )
    )
    if not tags:
        return mentions.order_by("note_id", "order")
    return (
        NoteTag.objects.filter(_notes_in(shape, args))
        .order_by()
        .annotate(
            kind=Value(_TAG),
            text=F("name"),
            user=Value(0),
            display=Value(""),
            first=Value(""),
            last=Value(""),
            order=Value(0),
        )
        .values_list("kind", "note_id", "text", "user", "display", "first", "last", "order")
        .union(mentions, all=True)
        .order_by("kind", "note_id", "order", "text")
    )


def tags_and_mentions(shape: tuple, args: list) -> tuple[dict[int, list[str]], dict[int, list[dict]]]:
    """(each note's tags, by name; whom it mentions, `{"id", "username", "name"}` in the order written) for the
    notes `_TAGS_AND_MENTIONS`'s shape and arguments name: one query, its SQL compiled once per process."""
    tags: dict[int, list[str]] = defaultdict(list)
    mentions: dict[int, list[dict]] = defaultdict(list)
    for kind, note_id, text, user_id, display_name, first_name, last_name, _order in _TAGS_AND_MENTIONS.rows(
        shape, args
    ):
        if kind == _TAG:
            tags[note_id].append(text)
        else:
            name = person_name(display_name, first_name, last_name, text)
            mentions[note_id].append({"id": user_id, "username": text, "name": name})
    return tags, mentions


def mentions_of(note_ids: list[int]) -> dict[int, list[dict]]:
    """Whom these notes mention (`tags_and_mentions`' mentions): one query, by the notes' ids."""
    return tags_and_mentions((*_BY_IDS, False), [note_ids])[1]


def _load_notes(
    user: User, membership: Membership, readings: list[ReadingView], *, passage_id: int | None, for_page: bool
) -> tuple[list[NoteView], dict[int, NoteView]]:
    """The visible notes as threads: (top-level notes, every note by id). Two queries (notes, then the tags and
    mentions of those notes in one), their SQL compiled once per process and shape (`core.compiled`)."""
    args = [user.pk, membership.group_id, *_range_args(readings)]
    if passage_id is not None:
        args.append(passage_id)
    shape = (len(readings), passage_id is not None)
    rows = _NOTES.rows((membership.role, *shape, for_page), args)
    if connections[Note.objects.db].vendor == "postgresql":
        # By the ids of the notes just read: PostgreSQL reads their tags and mentions by the note index alone.
        tags, mentions = tags_and_mentions((*_BY_IDS, True), [[row[0] for row in rows]])
    else:
        tags, mentions = tags_and_mentions((False, *shape, True), args[2:])
    loads, private = orjson.loads, NoteVisibility.PRIVATE
    by_id: dict[int, NoteView] = {}
    top: list[NoteView] = []
    for row in rows:
        (
            note_id,
            passage,
            text_id,
            parent_id,
            author_id,
            author_name,
            body,
            body_html,
            visibility,
            selector_json,
            anchor_state,
            question_id,
            hidden,
            deleted,
            highlight,
            helpful_count,
            hidden_root_id,
        ) = row[:17]
        mentioned = mentions.get(note_id)
        if mentioned:  # shown by each member's name now
            body_html = html_with_mention_names(body_html, mention_map(mentioned))
        note = NoteView(
            note_id,
            passage,
            text_id,
            parent_id,
            author_id,
            None if deleted else author_name,
            body,
            body_html,
            visibility,
            loads(selector_json) if selector_json and selector_json != "null" else None,
            anchor_state,
            question_id,
            hidden,
            highlight,
            None if visibility == private else helpful_count,
            tags.get(note_id) or [],
            mentioned or [],
            [],
            deleted,
            hidden_root_id,
        )
        if for_page:
            note.helpful_by_me, note.created_at, note.candidates = row[17], row[18], row[19] or []
        if parent_id is None:
            top.append(note)
        elif parent_id in by_id:  # ordered by creation, so a parent always comes before its replies
            by_id[parent_id].replies.append(note)
        else:
            # Who sees a reply sees the note it answers (selectors._visible_in_group); a reply is
            # never shown as a thread of its own, whatever the rows say.
            continue
        by_id[note_id] = note
    return top, by_id


@CompiledQuery
def _PASSAGES(shape, args):
    count, one_passage = shape
    passages = Passage.objects.filter(session_passages_q(_ranges_of(args, count)), retired=False)
    if one_passage:
        passages = passages.filter(pk=args[count * 3])
    return passages.order_by("text_id", "position").values_list(
        "id", "text_id", "anchor", "position", "kind", "section", "body", "footnotes", "word_count"
    )


def session_reading(
    user: User,
    membership: Membership,
    session_id: int,
    *,
    passage_id: int | None = None,
    for_page: bool = False,
    readings: list[ReadingView] | None = None,
) -> SessionReading:
    """The session's readings, their passages and the notes `user` (with `membership`) may see, as threads.

    `passage_id` narrows it to that passage and its notes (a reader
    fragment; the passage stays under the reading that shows it). Four
    queries whatever the number of passages and notes (one for a session
    without readings); three when the caller read its `readings`
    (`readings_of_sessions`).
    """
    if readings is None:
        readings = reading_ranges(session_id)
    if not readings:
        return SessionReading(readings=[], notes={}, top=[])
    args = _range_args(readings)
    if passage_id is not None:
        args.append(passage_id)
    by_text: dict[int, list[PassageView]] = defaultdict(list)
    for row in _PASSAGES.rows((len(readings), passage_id is not None), args):
        by_text[row[1]].append(PassageView(*row))
    top, by_id = _load_notes(user, membership, readings, passage_id=passage_id, for_page=for_page)
    on_passage: dict[int, list[NoteView]] = defaultdict(list)
    for note in top:
        on_passage[note.passage_id].append(note)

    placed: set[int] = set()
    for reading in readings:
        first, last = reading.range.first, reading.range.last
        for passage in by_text.get(reading.text.id, ()):
            if not first <= passage.position <= last or passage.id in placed:
                continue
            placed.add(passage.id)
            for note in on_passage.get(passage.id, ()):
                (reading.orphaned_notes if note.orphaned else passage.notes).append(note)
            reading.passages.append(passage)
    # Notes on passages that left the readings (retired ones) are orphans of their text's first reading.
    first_reading = {}
    for reading in readings:
        first_reading.setdefault(reading.text.id, reading)
    for passage_id_, stray in on_passage.items():
        if passage_id_ not in placed:
            first_reading[stray[0].text_id].orphaned_notes.extend(stray)
    return SessionReading(readings=readings, notes=by_id, top=top)
