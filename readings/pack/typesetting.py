"""The pack as PDF: a committed Typst template lays out the pack, handed to it as JSON data.

No user text is ever spliced into markup: `pdf_document` turns the pack into
plain data (strings, numbers, note bodies as blocks of styled runs), the
template reads it with `json(bytes(sys.inputs.pack))` and places every string
as text. The sections, numbering and words are those of the printable HTML
(`document.layout` numbers both). Typst is a self-contained wheel: fonts are
the ones it embeds (Libertinus Serif, DejaVu Sans Mono) plus any folders in
`PACK_PDF_FONT_DIRS`; it never fetches anything (the template loads no
package, image or file besides itself). It compiles in a child process.
"""

import subprocess
import sys
from pathlib import Path

import orjson
from django.conf import settings
from django.template.defaultfilters import capfirst, pluralize

from .document import NoteView, ReadingView, Segment, layout, marked_segments, marker_text
from .note_blocks import clickable, note_blocks

TEMPLATE = Path(__file__).resolve().parent / "pack.typ"
# How a pack marks a note an organizer hid, which only its author and the organizers still see.
HIDDEN_MARK = "hidden by an organizer"
COMPILER = Path(__file__).resolve().parent / "typst_compile.py"
DELETED = [{"type": "paragraph", "runs": [{"text": "(deleted)", "em": True}]}]


def _truncate(text: str, length: int) -> str:
    """Django's `truncatechars` (the printable HTML shows quotes with it), without its per-call overhead."""
    return text if len(text) <= length else text[: length - 1] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{pluralize(count)}"


def note_marks(note: dict) -> list[str]:
    """What every format says after a note's author: a highlight, its helpful count, hidden by an organizer."""
    marks = []
    if note.get("highlight"):
        marks.append("highlight")
    if count := note.get("helpful_count"):
        marks.append(f"{count} found it helpful")
    if note.get("hidden"):
        marks.append(HIDDEN_MARK)
    return marks


def _hidden(note: dict) -> str:
    return "".join(f" · {mark}" for mark in note_marks(note))


def _reply(reply: dict) -> dict:
    author = reply.get("author")
    return {
        "blocks": note_blocks(reply["body_html"]),
        "by": f"— {author['name'] if author else '(deleted)'}{_hidden(reply)}",
        "replies": [_reply(child) for child in reply.get("replies", [])],
    }


def _note(view: NoteView) -> dict:
    note = view.note
    author = note.get("author")
    by = ""
    if author:
        by = f"— {author['name']}"
        if note["visibility"] != "group":
            by += f" · {note['visibility']}"
        by += "".join(f" · #{tag}" for tag in note.get("tags", [])) + _hidden(note)
    return {
        "number": view.number,
        "answers": f"Answers question {view.answers}:" if view.answers else "",
        "quote": f"“{_truncate(view.quote, 120)}”" if view.quote else "",
        "blocks": note_blocks(note["body_html"]) if author else DELETED,
        "by": by,
        "replies": [_reply(reply) for reply in note.get("replies", [])],
    }


def _piece(piece: Segment) -> dict:
    return {"text": piece.text, "marked": piece.marked, "markers": marker_text([view.number for view in piece.markers])}


def _reading(view: ReadingView) -> dict:
    reading = view.reading
    text = reading["text"]
    span = f"§{view.first}–§{view.last} · " if view.first else ""
    required = "required" if reading["required"] else "optional"
    passages = []
    for item in view.passages:
        passage = item.passage
        passages.append(
            {
                "label": item.html_id,
                "number": f"§{passage['position']}",
                "kind": passage["kind"],
                "pieces": [_piece(piece) for piece in marked_segments(passage["body"], item.notes)],
                "footnotes": [
                    {"label": footnote["label"], "body": footnote["body"]}
                    for footnote in passage.get("footnotes") or []
                ],
                "notes": [_note(note) for note in item.notes],
            }
        )
    return {
        "title": text["title"],
        "author": text["author"] or "",
        "meta": f"{span}about {reading['reading_minutes']} min · {required}",
        "source": text["source"] or "",
        "instructions": reading["instructions"] or "",
        "passages": passages,
        "orphaned": [_note(note) for note in view.orphaned],
    }


def pdf_document(pack: dict) -> dict:
    """Everything the template prints, as JSON-ready data in reading order."""
    doc = layout(pack)
    session = doc["session"]
    readings, questions, note_count = doc["readings"], doc["questions"], doc["note_count"]
    summary = (
        f"{_plural(len(readings), 'reading')} · about {_plural(pack['reading_minutes'], 'minute')} · "
        f"{_plural(len(questions), 'question')}"
    )
    if note_count:
        summary += f" · {_plural(note_count, 'note')}"
    return {
        "group": doc["group"]["name"],
        "title": session["title"],
        "when": doc["when"],
        "location": session["location"] or "",
        "online_url": session["online_url"] or "",
        "online_link": clickable(session["online_url"] or ""),
        "summary": summary,
        "description": session["description"] or "",
        # The previous session's summary: the same lines as the printable HTML (`document.previous_view`).
        "previous": doc["previous"],
        "readings": [_reading(view) for view in readings],
        "questions": [
            {
                "prompt": question["prompt"],
                "meta": capfirst(question["kind"]) + (f" · {question['minutes']} min" if question["minutes"] else ""),
                "refs": [{"label": ref["html_id"], "number": f"§{ref['position']}"} for ref in question["refs"]],
                "facilitator_notes": question.get("facilitator_notes") or "",
            }
            for question in questions
        ],
        "brief": doc["brief"],  # facilitators' packs only (None otherwise)
        "colophon": f"Studycircle pack · version {pack['version'][:8]} · generated {pack['generated_at']}",
    }


class TypesetError(RuntimeError):
    """Typst could not make the PDF (its message), or took longer than PACK_PDF_TIMEOUT_SECONDS."""


def typeset_pdf(pack: dict) -> bytes:
    """The pack as a PDF (A4), laid out by Typst from `pack.typ`; reads no file but the template.

    Typst runs in a child process (`typst_compile.py`): the worker that asks
    keeps none of the layout's memory, and a compile that runs past
    PACK_PDF_TIMEOUT_SECONDS is killed (TypesetError) without harming it.
    """
    request = {
        "template": str(TEMPLATE),
        "root": str(TEMPLATE.parent),
        "fonts": [str(path) for path in settings.PACK_PDF_FONT_DIRS],
        "inputs": {"pack": orjson.dumps(pdf_document(pack)).decode()},
    }
    try:
        result = subprocess.run(  # noqa: S603 (our own script, no shell; the pack goes in as JSON on stdin)
            [sys.executable, str(COMPILER)],
            input=orjson.dumps(request),
            capture_output=True,
            timeout=settings.PACK_PDF_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TypesetError(f"Typst took longer than {settings.PACK_PDF_TIMEOUT_SECONDS} s.") from None
    if result.returncode != 0:
        raise TypesetError(result.stderr.decode("utf-8", "replace")[-2000:].strip() or f"exit {result.returncode}")
    return result.stdout
