"""The reading view: a session's passages with their numbers, the notes beside them, and writing notes.

Reads go through the read model of a reading (`readings.reading_model.session_reading`,
which the pack presents too: `notes_visible_to` decides who sees which note, threads
are nested, a passage read by two overlapping readings shows once); writes go through the JSON API, which
static/js/reader.js calls with fetch, so notes have a single write path (the
services). After a write, reader.js swaps in a server-rendered fragment:
`reader-passage` (one passage and its notes) or `reader-orphans`.

Deep links: every passage row has an id from its position. When the session
reads passages of one text (the common case) it is `p-<position>`, so
`/sessions/7/read/#p-12` is passage 12; when the session reads several texts,
positions repeat, so it is `t<text id>-p-<position>`.

Offsets: a passage body element holds the passage text and the highlight
marks, nothing else, so its DOM text equals `Passage.body` character for
character; reader.js converts the browser's UTF-16 offsets to the code points
that selectors use.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.rules import SIGNED_IN
from pages.rules import rule_required
from pages.times import request_timezone, time_in_zone
from readings.anchoring import segments
from readings.brief import heat_strip
from readings.enums import NoteVisibility, QuestionState
from readings.models import DiscussionQuestion, Passage
from readings.pack.builder import notes_version, pack_scope
from readings.progress import own_progress
from readings.reading_model import NoteView, PassageView, ReadingView, session_reading
from readings.selectors import notes_withheld_before_peek, number_questions, questions_for, session_passages_q
from sessions_app.models import Membership, Session, User
from sessions_app.rules import facilitates
from sessions_app.selectors import access_session, membership_for

# --- What the templates show ------------------------------------------------------------------

# A note's time on its card ("3 Nov, 19:05", then the zone's abbreviation).
NOTE_TIME_FORMAT = "j M, H:i"


@dataclass
class NoteCard:
    """A note as its reader sees it (`reading_model.NoteView`), with its replies nested under it."""

    note: NoteView
    own: bool
    question: DiscussionQuestion | None
    replies: list["NoteCard"] = field(default_factory=list)
    # When it was written, in the viewer's timezone: for <time datetime="…"> and to read ("3 Nov, 19:05 GMT").
    created_iso: str = ""
    created_text: str = ""

    @property
    def id(self) -> int:
        return self.note.id

    @property
    def tags(self) -> list[str]:
        return self.note.tags

    # Display strings, so that the card's template (pages/reader/note.html, replies.html) stays a few
    # nodes per note: a page may show hundreds of notes, and each template node costs more than these lines.

    @property
    def editable(self) -> bool:
        """Its author's and not deleted: the card carries what the note form needs to edit it."""
        return self.own and not self.deleted

    @property
    def card_classes(self) -> str:
        states = (("own", self.own), ("is-hidden", self.note.hidden), ("is-deleted", self.deleted))
        return " ".join(["note-card", *(name for name, on in states if on)])

    @property
    def card_label(self) -> str:
        return "Deleted note" if self.deleted else f"Note by {self.note.author_name}"

    @property
    def author_label(self) -> str:
        return "You" if self.own else self.note.author_name or ""

    @property
    def tags_text(self) -> str:
        return ", ".join(self.tags)

    @property
    def question_ref(self) -> str:
        """The id of the question it answers, for the edit form; "" for none."""
        return "" if self.note.question_id is None else str(self.note.question_id)

    @property
    def helpful_pressed(self) -> str:
        return "true" if self.note.helpful_by_me else "false"

    @property
    def helpful_text(self) -> str:
        """The count beside "Helpful": empty for none."""
        return str(self.helpful_count) if self.helpful_count else ""

    @property
    def html_id(self) -> str:
        return f"note-{self.note.id}"

    @property
    def quote(self) -> str:
        selector = self.note.selector
        return selector["exact"] if selector else ""

    @property
    def deleted(self) -> bool:
        return self.note.deleted

    @property
    def visibility_label(self) -> str:
        return NoteVisibility(self.note.visibility).label

    @property
    def highlighted(self) -> bool:
        """Its words are marked in the passage: a live note on a span that is still where it was."""
        return bool(self.note.selector) and not self.deleted and not self.note.orphaned

    @property
    def highlight_only(self) -> bool:
        """A highlight: marked words with no card of their own."""
        return self.note.highlight

    @property
    def helpful_count(self) -> int | None:
        """How many found it helpful; None for a private note, which has no count."""
        return self.note.helpful_count

    @property
    def can_mark_helpful(self) -> bool:
        return not self.own and not self.deleted and self.helpful_count is not None

    @property
    def thread_size(self) -> int:
        """This note and every reply under it, however deep."""
        return 1 + sum(reply.thread_size for reply in self.replies)


@dataclass
class Candidate:
    """A place an orphaned note's old quote appears now, with a little of the text around it."""

    passage_id: int
    position: int
    start: int
    end: int
    html_id: str
    before: str = ""
    words: str = ""
    after: str = ""
    in_view: bool = False


@dataclass
class OrphanCard:
    card: NoteCard
    candidates: list[Candidate]


@dataclass
class PassageRow:
    passage: PassageView
    html_id: str
    notes: list[NoteCard]
    withheld: int = 0
    body_html: SafeString = field(default_factory=lambda: SafeString(""))  # only for the rows shown
    page: int = 1
    highlights: list[NoteCard] = field(default_factory=list)
    # For facilitators, the passage's heat strip entry (`readings.brief.heat_strip`): {"asking", "heat"}; else None.
    heat: dict | None = None

    @property
    def note_total(self) -> int:
        return sum(card.thread_size for card in self.notes)


@dataclass
class ReadingSection:
    reading: ReadingView
    rows: list[PassageRow]


@dataclass
class Filters:
    """The notes filter from the query string (server-side, so a filtered view is a shareable URL)."""

    visibility: str = ""
    tag: str = ""
    author: int | None = None  # a person's notes only (their user id)
    sort: str = ""  # "" (by time) or "helpful"

    @classmethod
    def from_query(cls, query) -> "Filters":
        visibility = query.get("visibility", "")
        tag = " ".join(query.get("tag", "").split()).lower().lstrip("#")[:40]
        author = query.get("author", "")
        return cls(
            visibility=visibility if visibility in NoteVisibility.values else "",
            tag=tag,
            author=int(author) if author.isdigit() and len(author) < 12 else None,
            sort="helpful" if query.get("sort") == "helpful" else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.visibility or self.tag or self.author)

    @property
    def params(self) -> dict[str, str]:
        pairs = (
            ("visibility", self.visibility),
            ("tag", self.tag),
            ("author", str(self.author or "")),
            ("sort", self.sort),
        )
        return {key: value for key, value in pairs if value}

    @property
    def query(self) -> str:
        """`?visibility=…&tag=…&author=…&sort=…` for the fragments, so a refreshed passage keeps the page's filter."""
        return f"?{urlencode(self.params)}" if self.params else ""

    def order(self, cards: list[NoteCard]) -> list[NoteCard]:
        """A passage's notes by time (as loaded), or most helpful first (a private note counts none), then time."""
        if self.sort != "helpful":
            return cards
        return sorted(cards, key=lambda card: -(card.helpful_count or 0))

    def keeps(self, card: NoteCard) -> bool:
        if self.visibility and card.note.visibility != self.visibility:
            return False
        if self.author and card.note.author_id != self.author:
            return False
        return not self.tag or self.tag in card.tags


def passage_html_id(position: int, text_id: int, *, single_text: bool) -> str:
    """The deep-link id of a passage row: `p-12`, or `t3-p-12` when the session reads several texts."""
    return f"p-{position}" if single_text else f"t{text_id}-p-{position}"


def highlighted_body(body: str, cards: list[NoteCard]) -> SafeString:
    """The passage body, escaped, with the words of each note in `<mark class="hl">`.

    Overlapping spans are cut into segments, each marked once and naming every
    note that covers it (`data-note-ids`: notes with a card; `data-highlight-ids`:
    highlights, which have none). Words only highlights cover are `hl-only`;
    where they are all the reader's own, the mark offers to remove them.
    Nothing but the body's own characters goes between the marks, so the
    element's text is exactly `body` (the browser's offsets depend on it).
    Offsets are code points: Python string indices.
    """
    spans = []
    for card in cards:
        selector = card.note.selector
        if card.highlighted and 0 <= selector["start"] < selector["end"] <= len(body):
            spans.append((selector["start"], selector["end"], card))
    out = []
    for start, end, covering in segments(len(body), spans):
        text = escape(body[start:end])
        if not covering:
            out.append(text)
            continue
        classes = ["hl"]
        if all(card.own for card in covering):
            classes.append("own")
        if len(covering) > 1:
            classes.append("multi")
        with_cards = [card for card in covering if not card.highlight_only]
        marked_only = [card for card in covering if card.highlight_only]
        attributes = ""
        if with_cards:
            attributes += f' data-note-ids="{" ".join(str(card.note.pk) for card in with_cards)}"'
        if marked_only:
            attributes += f' data-highlight-ids="{" ".join(str(card.note.pk) for card in marked_only)}"'
        if not with_cards:
            classes.append("hl-only")
            if all(card.own for card in marked_only):
                own = " ".join(str(card.note.pk) for card in marked_only)
                attributes += f' data-own-highlights="{own}" tabindex="0" role="button" title="Your highlight"'
                attributes += f' aria-label="{text}: your highlight. Press to remove it."'
        out.append(f'<mark class="{" ".join(classes)}"{attributes}>{text}</mark>')
    return mark_safe("".join(out))  # noqa: S308 (the body is escaped above; the rest is our own markup)


# --- Loading --------------------------------------------------------------------------------------


@dataclass
class Reader:
    """Everything the reading view shows one person, loaded in a fixed number of queries."""

    session: Session
    membership: Membership
    user: User
    filters: Filters
    questions: list[DiscussionQuestion]
    single_text: bool
    sections: list[ReadingSection] = field(default_factory=list)
    orphans: list[OrphanCard] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    authors: list[tuple[int, str]] = field(default_factory=list)  # (user id, name) of the notes one may see
    note_count: int = 0
    # Long readings are served a page of passages at a time (READER_PAGE_PASSAGES).
    page: int = 1
    pages: int = 1
    contents: list["ContentsEntry"] = field(default_factory=list)
    page_ranges: list[str] = field(default_factory=list)  # "§1–§400" for each page

    @property
    def author_name(self) -> str:
        return next((name for pk, name in self.authors if pk == self.filters.author), "")

    def page_url(self, page: int) -> str:
        params = {**self.filters.params, **({"page": str(page)} if page > 1 else {})}
        return f"?{urlencode(params)}" if params else "?"

    @property
    def previous_page(self) -> dict | None:
        if self.page <= 1:
            return None
        return {"url": self.page_url(self.page - 1), "range": self.page_ranges[self.page - 2]}

    @property
    def next_page(self) -> dict | None:
        if self.page >= self.pages:
            return None
        return {"url": self.page_url(self.page + 1), "range": self.page_ranges[self.page]}

    @property
    def page_range(self) -> str:
        return self.page_ranges[self.page - 1] if self.page_ranges else ""

    def html_id(self, passage: Passage | PassageView) -> str:
        return passage_html_id(passage.position, passage.text_id, single_text=self.single_text)


@dataclass
class ContentsEntry:
    """A heading of the reading, for the table of contents: where it is, on which page."""

    html_id: str
    position: int
    title: str
    href: str


def _card(note: NoteView, user: User, questions: dict[int, DiscussionQuestion], zone: ZoneInfo) -> NoteCard:
    """A note as a card, its replies nested under it as cards of their own; its time in the viewer's `zone`."""
    created = note.created_at
    return NoteCard(
        note=note,
        own=note.author_id == user.pk,
        question=questions.get(note.question_id),
        replies=[_card(reply, user, questions, zone) for reply in note.replies],
        created_iso=created.astimezone(zone).isoformat() if created else "",
        created_text=time_in_zone(created, zone, NOTE_TIME_FORMAT) if created else "",
    )


def load_reader(
    user: User,
    session: Session,
    membership: Membership,
    filters: Filters,
    *,
    zone: ZoneInfo,
    passage_id: int | None = None,
    page: int = 1,
    at: str = "",
) -> Reader:
    """The session's readings, passages and the notes `user` may see; with `passage_id`, that passage alone.

    Times are shown in `zone`, the viewer's (`request_timezone`).

    What is read and which notes are seen is `readings.reading_model.session_reading`,
    the pack's read model too; this adds the page's filter, pages and marks.
    A long reading is cut into pages of READER_PAGE_PASSAGES passages: `page`
    picks one, or `at` (a passage's html id, "p-12") the page that holds it.
    Only the page's passages are rendered; the table of contents covers all.

    Queries: the accepted questions and their passages, the readings, the
    passages, the notes (with authors), their tags, and for plain members the
    notes withheld by "post before you peek": the same number for 5 passages or 500.
    """
    accepted = questions_for(user, session, sees_all=False).filter(state=QuestionState.ACCEPTED)
    # Their passages, to link to: the number of each is its rank, "question 2".
    placed_on = Prefetch("passages", queryset=Passage.objects.only("id", "position", "text_id").order_by("position"))
    questions = number_questions(accepted.prefetch_related(None).prefetch_related(placed_on))
    model = session_reading(user, membership, session.pk, passage_id=passage_id, for_page=True)
    reader = Reader(
        session=session,
        membership=membership,
        user=user,
        filters=filters,
        questions=questions,
        single_text=model.single_text,
    )
    if not model.readings:
        return reader
    if passage_id is not None and not any(reading.passages for reading in model.readings):
        raise Http404("That passage is not part of this session's reading.")
    notes_where = session_passages_q([reading.range for reading in model.readings], prefix="passage__")
    if passage_id is not None:
        notes_where &= Q(passage_id=passage_id)
    withheld = notes_withheld_before_peek(user, membership=membership, where=notes_where)

    by_question = {question.pk: question for question in questions}
    cards = [_card(note, user, by_question, zone) for note in model.top]
    reader.tags = sorted({tag for card in cards for tag in card.tags})
    people = {card.note.author_id: card.note.author_name for card in cards if not card.deleted}
    reader.authors = sorted(people.items(), key=lambda item: item[1].casefold())
    shown = filters.order([card for card in cards if filters.keeps(card)])
    reader.note_count = sum(card.thread_size for card in shown if not card.highlight_only)
    on_passage: dict[int, list[NoteCard]] = {}
    for card in shown:
        on_passage.setdefault(card.note.passage_id, []).append(card)

    for reading in model.readings:
        rows = []
        for passage in reading.passages:
            here = [card for card in on_passage.get(passage.id, []) if not card.note.orphaned]
            rows.append(
                PassageRow(
                    passage=passage,
                    html_id=reader.html_id(passage),
                    notes=[card for card in here if not card.highlight_only],
                    withheld=withheld.get(passage.id, 0),
                    highlights=[card for card in here if card.highlight_only],
                )
            )
        reader.sections.append(ReadingSection(reading=reading, rows=rows))
    _paginate(reader, page=page, at=at, whole=passage_id is not None)

    # Notes whose words changed: orphaned by a revision, or on a passage that left the reading.
    orphaned = {note.id for reading in model.readings for note in reading.orphaned_notes}
    bodies = {passage.id: passage for reading in model.readings for passage in reading.passages}
    for card in shown:
        if card.note.id in orphaned:
            reader.orphans.append(OrphanCard(card=card, candidates=_candidates(card.note, bodies, reader)))
    return reader


def _paginate(reader: Reader, *, page: int, at: str, whole: bool) -> None:
    """Keep the rows of one page in `reader.sections`, and render only those; number every row's page."""
    size = max(1, settings.READER_PAGE_PASSAGES)
    rows = [row for section in reader.sections for row in section.rows]
    for index, row in enumerate(rows):
        row.page = 1 if whole else index // size + 1
    reader.pages = max(1, -(-len(rows) // size)) if not whole else 1
    if at:  # a passage's id ("p-12", "t3-p-12") or its number ("12": the first passage so numbered)
        page = next((row.page for row in rows if at in (row.html_id, str(row.passage.position))), page)
    reader.page = min(max(1, page), reader.pages)
    reader.page_ranges = [
        f"§{part[0].passage.position}–§{part[-1].passage.position}"
        for part in (rows[start : start + size] for start in range(0, len(rows), size))
    ]
    for row in rows:
        if row.passage.kind == "heading":
            here = row.page == reader.page
            reader.contents.append(
                ContentsEntry(
                    html_id=row.html_id,
                    position=row.passage.position,
                    title=row.passage.body,
                    href=f"#{row.html_id}" if here else f"{reader.page_url(row.page)}#{row.html_id}",
                )
            )
    kept = []
    for section in reader.sections:
        shown = [row for row in section.rows if row.page == reader.page]
        if shown or (not section.rows and reader.page == 1):
            kept.append(ReadingSection(reading=section.reading, rows=shown))
    reader.sections = kept
    for section in kept:
        for row in section.rows:
            row.body_html = highlighted_body(row.passage.body, row.notes + row.highlights)


def _candidates(note: NoteView, bodies: dict[int, PassageView], reader: Reader) -> list[Candidate]:
    """Where the note's old quote appears now (the importer's `candidates`); in-view ones with their context."""
    found = []
    for place in note.candidates:
        passage = bodies.get(place["passage"])
        candidate = Candidate(
            passage_id=place["passage"],
            position=place["position"],
            start=place["start"],
            end=place["end"],
            html_id=passage_html_id(place["position"], note.text_id, single_text=reader.single_text),
        )
        if passage is not None:
            body = passage.body
            candidate.in_view = True
            candidate.before = body[max(0, place["start"] - 40) : place["start"]]
            candidate.words = body[place["start"] : place["end"]]
            candidate.after = body[place["end"] : place["end"] + 40]
        found.append(candidate)
    return found


# --- Views ----------------------------------------------------------------------------------------


def _session_and_membership(request, session_id: int) -> tuple[Session, Membership]:
    session = access_session(request.user, session_id)
    membership = membership_for(request.user, session.group_id)
    if membership is None:  # access_session already requires one; this keeps the types honest
        raise Http404("No such session.")
    return session, membership


def _context(reader: Reader) -> dict:
    return {
        "session": reader.session,
        "group": reader.session.group,
        "reader": reader,
        "filters": reader.filters,
        "visibility_choices": NoteVisibility.choices,
        "default_visibility": reader.membership.default_note_visibility,
        "fragment_query": reader.filters.query,
    }


def _live(request, session: Session, membership: Membership) -> dict:
    """What the page's live poll starts from: the version of the notes it shows, where to poll, how often."""
    scope = pack_scope(user=request.user, session=session, membership=membership)
    return {
        "live_version": notes_version(scope),
        "live_url": reverse("session-notes-live", args=[session.pk]),
        "poll_seconds": settings.READER_POLL_SECONDS,
    }


def _reader_for(request, session: Session, membership: Membership, **narrowed) -> Reader:
    """`load_reader` for the person asking, with the filters of the query and the times in their zone."""
    return load_reader(
        request.user,
        session,
        membership,
        Filters.from_query(request.GET),
        zone=request_timezone(request, session.timezone),
        **narrowed,
    )


@rule_required(SIGNED_IN, methods=["GET"])
def session_read(request, session_id: int):
    """The reading view of a session: every passage of its readings, the notes beside them, the note form."""
    session, membership = _session_and_membership(request, session_id)
    page = request.GET.get("page", "")
    reader = _reader_for(
        request,
        session,
        membership,
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
        at=request.GET.get("at", "")[:40],
    )
    _heat(request, reader)
    context = {**_context(reader), **_live(request, session, membership), **_progress(request, reader)}
    return render(request, "pages/reader/page.html", context)


def _heat(request, reader: Reader) -> None:
    """For facilitators, the heat strip beside the passages shown (pages/reader/heat.html): where members asked."""
    if not facilitates(reader.membership):
        return
    heat = heat_strip(request.user, reader.membership, reader.session)
    for section in reader.sections:
        for row in section.rows:
            row.heat = heat.get(row.passage.id)


def _progress(request, reader: Reader) -> dict:
    """The reader's progress bar: how far this person is, where they left off, and the pace that counts."""
    mine = own_progress(request.user, reader.session)
    continue_at = None
    if mine.last_passage is not None and mine.percent != 100:
        html_id = reader.html_id(mine.last_passage)
        continue_at = {
            "position": mine.last_passage.position,
            "url": f"{reverse('session-read', args=[reader.session.pk])}?{urlencode({'at': html_id})}#{html_id}",
        }
    return {
        "progress": mine if reader.sections else None,
        "progress_continue": continue_at,
        "progress_pace": settings.READING_PACE_WORDS_PER_MINUTE,
        "progress_cap": settings.READING_CAP_SECONDS,
        "progress_batch": settings.READING_BATCH_SECONDS,
    }


@rule_required(SIGNED_IN, methods=["GET"])
def passage_fragment(request, session_id: int, passage_id: int):
    """One passage row (its highlighted body and its notes), for reader.js to swap in after a write."""
    session, membership = _session_and_membership(request, session_id)
    reader = _reader_for(request, session, membership, passage_id=passage_id)
    row = next((row for section in reader.sections for row in section.rows), None)
    if row is None:
        raise Http404("That passage is not part of this session's reading.")
    _heat(request, reader)
    context = {**_context(reader), "row": row}
    return render(request, "pages/reader/passage.html", context)


@rule_required(SIGNED_IN, methods=["GET"])
def orphans_fragment(request, session_id: int):
    """The "Notes whose words changed" section, for reader.js to swap in after a re-attach or delete."""
    session, membership = _session_and_membership(request, session_id)
    reader = _reader_for(request, session, membership)
    return render(request, "pages/reader/orphans.html", _context(reader))
