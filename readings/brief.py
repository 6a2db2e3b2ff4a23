"""The facilitator's brief: what a facilitator wants to know before the meeting, in one plain dict.

Who has read, where members got stuck, which questions have answers, what to talk about first. One
selector (`facilitator_brief`) feeds every place the brief appears: `GET sessions/{id}/discussion/`,
the brief page, the pack for facilitators (JSON `brief`, printable HTML, PDF) and the brief email. It
holds only what its viewer may see: its notes are the read model's (`reading_model.session_reading`,
through `notes_visible_to`), which the pack has loaded already, and no private note, nor a count that
includes one, is ever in it (not even the viewer's own). A fixed number of queries whatever the number
of members, notes or passages: the notes are counted and ranked in Python.
"""

import re
from collections import Counter

from django.db.models import Exists, OuterRef

from core.compiled import CompiledQuery
from core.rules import Target
from sessions_app.models import Membership, Session, User
from sessions_app.rules import leads_session

from .enums import NoteVisibility, QuestionState
from .mentions import html_with_mention_names, mention_names, mention_refs
from .models import DiscussionQuestion, Note, Passage
from .progress import IN_PROGRESS, NOT_OPENED, progress_totals, reading_progress_of_members
from .reading_model import NoteView, PassageView, SessionReading, person_name, session_reading
from .selectors import ASKING_TAGS, PassageRange, answers_by_question, passage_heat, session_passages_q

TOP_NOTES = 5
STUCK_PASSAGES = 10
# `selectors._ASKING`'s "ends in a question mark" in Python: then only whitespace, as PostgreSQL's `\s` reads it
# (not Python's, which also takes no-break spaces and a few control characters).
_ENDS_ASKING = re.compile("\\?[\t\n\v\f\r \u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]*\\Z")


def _name(user: User) -> str:
    return user.name


def _note_ref(note: Note, **extra) -> dict:
    """A note (a model instance) as the brief shows it: who, where, and the words."""
    return {
        "id": note.pk,
        "author": None if note.deleted_at else {"id": note.author_id, "name": _name(note.author)},
        "passage": {"id": note.passage_id, "anchor": note.passage.anchor, "position": note.passage.position},
        "body": note.body,
        "body_html": html_with_mention_names(note.body_html, mention_names(note)),
        "mentions": mention_refs(note),
        "visibility": note.visibility,
        **extra,
    }


class _BriefNotes:
    """The brief's notes, taken from the read model the pack (or the brief alone) loaded: no query of its own.

    `shared` are `selectors.shared_session_notes`: those `user` sees on the session's current passages, live,
    not under a hidden note, never private (so no count here includes a private note, not even the viewer's).
    """

    def __init__(self, reading: SessionReading) -> None:
        self.reading = reading
        self.passages: dict[int, PassageView] = {}
        self.titles: dict[int, str] = {}
        for one in reading.readings:
            self.titles.setdefault(one.text.id, one.text.title)
            for passage in one.passages:
                self.passages[passage.id] = passage
        private, passages = NoteVisibility.PRIVATE, self.passages
        self.shared = [
            note
            for note in reading.notes.values()
            if note.passage_id in passages
            and not note.deleted
            and note.hidden_root_id is None
            and note.visibility != private
        ]
        self.with_words = [note for note in self.shared if not note.highlight]
        self._places: dict[int, tuple[str, int]] = {}

    def place(self, note: NoteView) -> dict:
        passage = self.passages.get(note.passage_id)
        anchor, position = (passage.anchor, passage.position) if passage else self._places[note.passage_id]
        return {"id": note.passage_id, "anchor": anchor, "position": position}

    def load_places(self, notes: list[NoteView]) -> None:
        """Where notes on passages that left the reading (retired) are: one query, only when there are some."""
        missing = {note.passage_id for note in notes if note.passage_id not in self.passages} - self._places.keys()
        if missing:
            for pk, anchor, position in Passage.objects.filter(pk__in=missing).values_list("pk", "anchor", "position"):
                self._places[pk] = (anchor, position)

    def ref(self, note: NoteView, **extra) -> dict:
        return {
            "id": note.id,
            "author": None if note.deleted else {"id": note.author_id, "name": note.author_name},
            "passage": self.place(note),
            "body": note.body,
            "body_html": note.body_html,  # mentions already shown by name (the read model)
            "mentions": list(note.mentions),
            "visibility": note.visibility,
            **extra,
        }


def _asks(note: NoteView) -> bool:
    """`selectors._ASKING`: tagged `question` or `confused`, or ending in a question mark."""
    if "?" in note.body and _ENDS_ASKING.search(note.body) is not None:
        return True
    return bool(note.tags) and any(tag in ASKING_TAGS for tag in note.tags)


def _stuck(notes: _BriefNotes, *, limit: int = STUCK_PASSAGES) -> list[dict]:
    """`selectors.stuck_passages` from the loaded notes: the passages ranked by the notes that ask, with their
    most highlighted words."""
    asking = Counter(note.passage_id for note in notes.with_words if _asks(note))
    passages = notes.passages

    def rank(item: tuple[int, int]) -> tuple:
        passage = passages[item[0]]
        return (-item[1], passage.text_id, passage.position)

    ranked = sorted(asking.items(), key=rank)[:limit]
    spans: dict[int, Counter] = {pk: Counter() for pk, _ in ranked}
    for note in notes.shared:
        if note.highlight and note.passage_id in spans:
            spans[note.passage_id][(note.selector or {}).get("exact")] += 1
    rows = []
    for pk, count in ranked:
        passage = passages[pk]
        top = None
        if spans[pk]:
            # Most times first, then the words in order (PostgreSQL's, C collation); words missing last.
            words, times = min(
                spans[pk].items(),
                key=lambda item: (-item[1], (0, item[0]) if isinstance(item[0], str) else (1, "")),
            )
            top = {"words": words, "times": times}
        rows.append(
            {
                "passage": pk,
                "anchor": passage.anchor,
                "position": passage.position,
                "text": {"id": passage.text_id, "title": notes.titles[passage.text_id]},
                "asking": count,
                "most_highlighted": top,
            }
        )
    return rows


def _most_helpful(notes: _BriefNotes, *, limit: int = TOP_NOTES) -> list[dict]:
    """The notes marked helpful most often (at least once), most first, then the oldest."""
    helpful = [note for note in notes.with_words if note.helpful_count]
    helpful.sort(key=lambda note: -note.helpful_count)  # stable: creation order among equals
    return [notes.ref(note, helpful_count=note.helpful_count) for note in helpful[:limit]]


def _most_replied(notes: _BriefNotes, *, limit: int = TOP_NOTES) -> list[dict]:
    """The top-level notes with the most direct replies, counting only replies `user` may see (never private).

    As the query it replaces: the `2 * limit` most replied threads, then those whose top note is shown.
    """
    every = notes.reading.notes
    replies: Counter = Counter()
    for note in notes.with_words:
        if note.parent_id is not None and (parent := every.get(note.parent_id)) and parent.parent_id is None:
            replies[note.parent_id] += 1
    candidates = sorted(replies.items(), key=lambda item: (-item[1], item[0]))[: limit * 2]
    tops = {note.id: note for note in notes.with_words if note.parent_id is None}
    ranked = [(tops[pk], count) for pk, count in candidates if pk in tops][:limit]
    return [notes.ref(note, replies=count) for note, count in ranked]


@CompiledQuery
def _QUESTIONS(count, args):
    """Session `args[0]`'s accepted and proposed questions, each saying whether a note answering it lies outside
    the `count` ranges of `args[1:]` (text, first, last each)."""
    ranges = [PassageRange(*args[1 + n * 3 : 4 + n * 3]) for n in range(count)]
    return (
        DiscussionQuestion.objects.filter(
            session_id=args[0], state__in=[QuestionState.ACCEPTED, QuestionState.PROPOSED]
        )
        .annotate(
            outside=Exists(
                Note.objects.filter(question_id=OuterRef("pk")).exclude(session_passages_q(ranges, prefix="passage__"))
            )
        )
        .order_by("position", "id")
        .values_list(
            "id",
            "state",
            "prompt",
            "outside",
            "proposed_by_id",
            "proposed_by__display_name",
            "proposed_by__first_name",
            "proposed_by__last_name",
            "proposed_by__username",
        )
    )


def _session_questions(session: Session, reading: SessionReading) -> tuple[list[tuple], list[dict], bool]:
    """(accepted questions as (id, prompt), proposed ones as the brief lists them, whether an answer lies
    outside the loaded readings): one query, its SQL compiled once per process (`pack.compiled`)."""
    ranges = [one.range for one in reading.readings]
    args = [session.pk, *(value for one in ranges for value in (one.text_id, one.first, one.last))]
    rows = _QUESTIONS.rows(len(ranges), args)
    accepted, proposed, outside = [], [], False
    for pk, state, prompt, elsewhere, by_id, *name in rows:
        if state == QuestionState.ACCEPTED:
            accepted.append((pk, prompt))
            outside = outside or elsewhere
        else:
            by = {"id": by_id, "name": person_name(*name)} if by_id is not None else None
            proposed.append({"id": pk, "prompt": prompt, "proposed_by": by})
    return accepted, proposed, outside


def _questions(user: User, session: Session, notes: _BriefNotes, accepted: list[tuple], outside: bool) -> list[dict]:
    """Each accepted question, numbered by rank, with the answers `user` may see (never private or hidden)."""
    if outside:
        # An answer on a passage of the text outside the session's ranges: not loaded, so read them all here.
        grouped = {
            item["question"].pk: [_note_ref(note) for note in item["answers"] if not note.highlight]
            for item in answers_by_question(user, session)
        }
    else:
        grouped = {pk: [] for pk, _ in accepted}
        private = NoteVisibility.PRIVATE
        found = [
            note
            for note in notes.reading.notes.values()
            if note.question_id in grouped
            and not note.deleted
            and note.hidden_root_id is None
            and note.visibility != private
            and not note.highlight
        ]
        notes.load_places(found)
        for note in found:
            grouped[note.question_id].append(notes.ref(note))
    rows = []
    for number, (pk, prompt) in enumerate(accepted, start=1):
        answers = grouped.get(pk, [])
        # `number`: its rank among the accepted questions (`selectors.number_questions`)
        rows.append({"id": pk, "number": number, "prompt": prompt, "answers": answers, "unanswered": not answers})
    return rows


def _progress(session: Session, reading: SessionReading) -> dict:
    rows = reading_progress_of_members(session, reading)
    totals = progress_totals(rows)
    named = bool(session.group.member_progress_visible)
    members = None
    if named:
        members = [
            {
                "user": {"id": row.user_id, "name": row.name},
                "opened": row.opened,
                "percent": row.percent,
                "status": row.status,
            }
            for row in rows
        ]
    return {
        "totals": {
            "members": totals.members,
            "not_opened": totals.not_opened,
            "in_progress": totals.in_progress,
            "finished": totals.finished,
            "average_percent": totals.average_percent,
        },
        "members": members,
        "not_opened": [row["user"] for row in members if row["status"] == NOT_OPENED] if named else None,
        "in_progress": [row["user"] for row in members if row["status"] == IN_PROGRESS] if named else None,
    }


def with_heat(stuck: list[dict]) -> list[dict]:
    """Each stuck passage with `heat`, its asking notes as a whole percent of the top passage's (for drawing)."""
    top = max((row["asking"] for row in stuck), default=0)
    return [{**row, "heat": row["asking"] * 100 // top if top else 0} for row in stuck]


def heat_strip(user: User, membership: Membership, session: Session) -> dict[int, dict]:
    """{passage id: {"asking": notes that ask, "heat": a whole percent of the top passage's}} for the reader's
    heat strip (facilitators only; the caller checks). Passages nobody asked about are left out. Two queries."""
    asking = passage_heat(user, membership, session)
    top = max(asking.values(), default=0)
    return {pk: {"asking": count, "heat": count * 100 // top} for pk, count in asking.items()}


def facilitator_brief(
    user: User, membership: Membership, session: Session, *, reading: SessionReading | None = None
) -> dict:
    """The brief of `session` for `user` (who has facilitator rights: the caller checked). JSON-ready.

    `session.group` must be loaded (for the group's `member_progress_visible`). `reading` is
    `session_reading` for the same user, when the caller (the pack) has it already: the brief's notes are
    those, so it costs two queries more (questions, progress); alone, seven.
    """
    if reading is None:
        reading = session_reading(user, membership, session.pk)
    notes = _BriefNotes(reading)
    accepted, proposed, outside = _session_questions(session, reading)
    return {
        "questions": _questions(user, session, notes, accepted, outside),
        "stuck": with_heat(_stuck(notes)),
        "most_helpful": _most_helpful(notes),
        "most_replied": _most_replied(notes),
        "progress": _progress(session, reading),
        # Proposals wait for those who may accept them (as the questions API shows them): a facilitator
        # who does not lead this session sees none.
        "proposed": proposed if leads_session(user, Target(membership, session)) else [],
    }


__all__ = ["facilitator_brief", "heat_strip", "passage_heat", "with_heat"]
