"""The pack laid out for reading: the shared model behind Markdown, printable HTML, PDF and EPUB.

Turns the JSON pack into numbered notes, passage bodies with the noted words
marked, questions pointing at passages by number, and local times. Every
piece of user text is escaped here or by the templates; note bodies are
already-sanitised HTML (`body_html`).
"""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from ..anchoring import segments
from ..mentions import note_text
from ..rendering import safe_url
from .brief_document import brief_view


@dataclass
class NoteView:
    number: int
    note: dict
    replies: list[dict] = field(default_factory=list)
    # The number of the question the note answers ("answers question 2"), if that question is in the pack.
    answers: int | None = None

    @property
    def anchor(self) -> str:
        return f"note-{self.note['id']}"

    @property
    def quote(self) -> str:
        selector = self.note.get("selector")
        return selector["exact"] if selector else ""


@dataclass
class PassageView:
    passage: dict
    html_id: str
    body_html: SafeString
    notes: list[NoteView]


@dataclass
class ReadingView:
    reading: dict
    passages: list[PassageView]
    orphaned: list[NoteView]
    first: int | None
    last: int | None


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def passage_html_id(text_id: int, anchor: str) -> str:
    return f"t{text_id}-{anchor}"


@dataclass
class Segment:
    """A piece of a passage body: its text, whether a note quotes it, and the notes whose markers follow it."""

    text: str
    marked: bool
    markers: list[NoteView]


def marked_segments(body: str, notes: list[NoteView]) -> list[Segment]:
    """`body` cut where quoted spans start and end, each note's marker after the last piece it quotes.

    Overlapping spans are cut into segments, each marked once. A note that
    quotes nothing in this body (on the whole passage, or its words no longer
    fit) gets its marker at the end of the passage. Every format that marks
    quotes (printable HTML, PDF, EPUB) uses these pieces, so markers and the
    note lists always carry the same numbers.
    """
    spans = []
    for view in notes:
        selector = view.note.get("selector")
        if selector and 0 <= selector["start"] < selector["end"] <= len(body):
            spans.append((selector["start"], selector["end"], view))
    pieces = [
        Segment(body[start:end], bool(covered), [view for _, e, view in spans if e == end])
        for start, end, covered in segments(len(body), spans)
    ]
    spanned = {id(view) for _, _, view in spans}
    rest = [view for view in notes if id(view) not in spanned]
    if rest:
        pieces.append(Segment("", False, rest))
    return pieces


def marker_groups(numbers: list[int]) -> list[list[int]]:
    """`numbers` (ascending) cut into runs of consecutive numbers: [1, 2, 3, 5] -> [[1, 2, 3], [5]]."""
    groups: list[list[int]] = []
    for number in numbers:
        if groups and groups[-1][-1] + 1 == number:
            groups[-1].append(number)
        else:
            groups.append([number])
    return groups


def marker_text(numbers: list[int]) -> str:
    """How note numbers after the same words print: "4", "4,5", "4–9,12" (three or more in a row as a range)."""
    return ",".join(
        f"{group[0]}–{group[-1]}" if len(group) > 2 else ",".join(map(str, group)) for group in marker_groups(numbers)
    )


def marked_body(body: str, notes: list[NoteView], *, link_prefix: str = "") -> SafeString:
    """The passage body, escaped, with each noted span in <mark> and its note numbers after it.

    Markers that follow the same words are one superscript, as `marker_text`
    prints them ("4,5", "4–9"), so they never run together into another
    number; each note still has its `ref-<id>` anchor to link back to.
    """
    out = []
    for piece in marked_segments(body, notes):
        text = escape(piece.text)
        out.append(f'<mark class="quoted">{text}</mark>' if piece.marked else text)
        if piece.markers:
            out.append(f'<sup class="note-refs">{_refs(piece.markers, link_prefix)}</sup>')
    return mark_safe("".join(out))  # noqa: S308 (every piece above is escaped or our own markup)


def _refs(views: list[NoteView], link_prefix: str) -> str:
    by_number = {view.number: view for view in views}
    parts = []
    for group in marker_groups(sorted(by_number)):
        first, last = by_number[group[0]], by_number[group[-1]]
        if len(group) > 2:
            middle = "".join(f'<span id="ref-{by_number[n].note["id"]}"></span>' for n in group[1:-1])
            parts.append(f"{_ref(first, link_prefix)}–{middle}{_ref(last, link_prefix)}")
        else:
            parts.append(",".join(_ref(by_number[n], link_prefix) for n in group))
    return ",".join(parts)


def _ref(view: NoteView, link_prefix: str) -> str:
    return f'<a class="note-ref" href="{link_prefix}#{view.anchor}" id="ref-{view.note["id"]}">{view.number}</a>'


def thread(note: dict) -> list[dict]:
    """Every reply under `note`, replies to replies included, in the order they were written."""
    replies = []
    for reply in note.get("replies", []):
        replies.append(reply)
        replies.extend(thread(reply))
    return replies


def _local(moment: str, tzname: str, fmt: str) -> str:
    return format(_parse(moment).astimezone(ZoneInfo(tzname)), fmt)


def previous_view(summary: dict | None) -> dict | None:
    """The `previous_summary` section as every format prints it: the same lines, in the same order."""
    if summary is None:
        return None
    session, attendance = summary["session"], summary["attendance"]
    if attendance["present"] == 0:
        came = "No attendance was marked."
    elif attendance["names"] is not None:
        came = ", ".join(attendance["names"]) + f" ({attendance['present']})"
    else:
        came = f"{attendance['present']} member{'' if attendance['present'] == 1 else 's'}"
    return {
        "title": session["title"],
        "when": _local(session["starts_at"], session["timezone"], "%A %-d %B %Y, %H:%M") + f" ({session['timezone']})",
        "came": came,
        "questions": [
            {
                "number": question["number"],
                "prompt": question["prompt"],
                "answers": [
                    {
                        "by": answer["author"]["name"]
                        + (f" · {answer['helpful_count']} found it helpful" if answer["helpful_count"] else ""),
                        "body": note_text(answer),
                    }
                    for answer in question["answers"]
                ],
            }
            for question in summary["questions"]
        ],
        "follow_ups": [
            {"by": f"§{note['passage']['position']} · {note['author']['name']}", "body": note_text(note)}
            for note in summary["follow_ups"]
        ],
    }


def layout(pack: dict, *, link_prefix: str = "") -> dict:
    """Everything a template needs to print `pack`; notes are numbered in reading order."""
    counter = 0
    passage_ids: dict[int, tuple[str, int]] = {}
    question_numbers = {question["id"]: question["number"] for question in pack["questions"]}

    def number(note: dict) -> NoteView:
        nonlocal counter
        counter += 1
        answers = question_numbers.get(note.get("question"))
        return NoteView(number=counter, note=note, replies=thread(note), answers=answers)

    readings = []
    for reading in pack["readings"]:
        text_id = reading["text"]["id"]
        passages = []
        for passage in reading["passages"]:
            html_id = passage_html_id(text_id, passage["anchor"])
            passage_ids[passage["id"]] = (html_id, passage["position"])
            notes = [number(note) for note in passage["notes"]]
            passages.append(
                PassageView(
                    passage=passage,
                    html_id=html_id,
                    body_html=marked_body(passage["body"], notes, link_prefix=link_prefix),
                    notes=notes,
                )
            )
        positions = [p.passage["position"] for p in passages]
        readings.append(
            ReadingView(
                reading=reading,
                passages=passages,
                orphaned=[number(note) for note in reading["orphaned_notes"]],
                first=min(positions, default=None),
                last=max(positions, default=None),
            )
        )
    questions = [
        {
            **question,
            "refs": [
                {"html_id": passage_ids[pid][0], "position": passage_ids[pid][1]}
                for pid in question["passages"]
                if pid in passage_ids
            ],
        }
        for question in pack["questions"]
    ]
    session = pack["session"]
    tz = ZoneInfo(session["timezone"])
    starts, ends = _parse(session["starts_at"]).astimezone(tz), _parse(session["ends_at"]).astimezone(tz)
    return {
        "pack": pack,
        "session": session,
        # The online address is a link only if it is http(s); anything else (an old row, say) is shown as text.
        "online_link": session["online_url"] if safe_url(session["online_url"]) else "",
        "group": pack["group"],
        "readings": readings,
        "questions": questions,
        "brief": brief_view(pack.get("brief")),  # facilitators' packs only
        "previous": previous_view(pack.get("previous_summary")),
        "note_count": counter,
        "when": f"{starts:%A %-d %B %Y, %H:%M}–{ends:%H:%M} ({starts:%Z}, {session['timezone']})",
        "date": f"{starts:%Y-%m-%d}",
    }


def filename(pack: dict, extension: str) -> str:
    """`<session-title>-<local date>.<ext>`, e.g. `reading-capital-2026-10-22.pdf`."""
    session = pack["session"]
    day = _parse(session["starts_at"]).astimezone(ZoneInfo(session["timezone"]))
    return f"{slugify(session['title']) or 'session'}-{day:%Y-%m-%d}.{extension}"
