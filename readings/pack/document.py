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
from ..rendering import safe_url


@dataclass
class NoteView:
    number: int
    note: dict
    replies: list[dict] = field(default_factory=list)

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


def marked_body(body: str, notes: list[NoteView], *, link_prefix: str = "") -> SafeString:
    """The passage body, escaped, with each noted span in <mark> and a numbered link after it.

    Overlapping spans are cut into segments, each marked once. A note on the
    whole passage gets its number at the end of the passage.
    """
    spans = []
    for view in notes:
        selector = view.note.get("selector")
        if selector and 0 <= selector["start"] < selector["end"] <= len(body):
            spans.append((selector["start"], selector["end"], view))
    out = []
    for start, end, covered in segments(len(body), spans):
        text = escape(body[start:end])
        out.append(f'<mark class="quoted">{text}</mark>' if covered else text)
        for _, e, view in spans:
            if e == end:
                out.append(_ref(view, link_prefix))
    out.extend(_ref(view, link_prefix) for view in notes if not view.note.get("selector"))
    return mark_safe("".join(out))  # noqa: S308 (every piece above is escaped or our own markup)


def _ref(view: NoteView, link_prefix: str) -> str:
    return f'<a class="note-ref" href="{link_prefix}#{view.anchor}" id="ref-{view.note["id"]}">{view.number}</a>'


def thread(note: dict) -> list[dict]:
    """Every reply under `note`, replies to replies included, in the order they were written."""
    replies = []
    for reply in note.get("replies", []):
        replies.append(reply)
        replies.extend(thread(reply))
    return replies


def layout(pack: dict, *, link_prefix: str = "") -> dict:
    """Everything a template needs to print `pack`; notes are numbered in reading order."""
    counter = 0
    passage_ids: dict[int, tuple[str, int]] = {}

    def number(note: dict) -> NoteView:
        nonlocal counter
        counter += 1
        return NoteView(number=counter, note=note, replies=thread(note))

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
        "note_count": counter,
        "when": f"{starts:%A %-d %B %Y, %H:%M}–{ends:%H:%M} ({starts:%Z}, {session['timezone']})",
        "date": f"{starts:%Y-%m-%d}",
    }


def filename(pack: dict, extension: str) -> str:
    """`<session-title>-<local date>.<ext>`, e.g. `reading-capital-2026-10-22.pdf`."""
    session = pack["session"]
    day = _parse(session["starts_at"]).astimezone(ZoneInfo(session["timezone"]))
    return f"{slugify(session['title']) or 'session'}-{day:%Y-%m-%d}.{extension}"
