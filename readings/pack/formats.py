"""The pack as Markdown, printable HTML, PDF and EPUB 3. Each takes the JSON pack and returns bytes."""

import re
from io import BytesIO
from urllib.parse import quote

from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils.html import escape

from ..mentions import mention_map, text_with_mention_names
from ..rendering import inert_inline_tokens, safe_url, without_controls
from .document import layout, thread
from .typesetting import note_marks, typeset_pdf

# --- Markdown ------------------------------------------------------------------------------
#
# The file is our structure (headings, list items, quotes), and every field is text inside one line of it:
# whitespace and line breaks in a single-line field become spaces, Markdown characters are escaped, and a
# field that starts a line cannot start a block (a heading, a list item, a fence). Multi-line fields keep
# their lines as hard breaks inside their own block. Note bodies are Markdown, read as one line of inline
# text: their emphasis, code and http(s)/mailto links are written out again, their raw HTML and block
# markers are escaped text, other links are their text and images are links (the rendering policy of
# readings/rendering.py).

_MD_INLINE = re.compile(r"([\\`*_\[\]<>#|~&])")
# What would open a block at the start of a line: list bullets, ordered-list numbers, setext underlines.
_MD_LINE_START = re.compile(r"^([-+=])|^(\d+)([.)])")
_WHITESPACE = re.compile(r"\s+")
# Characters that can make Markdown inline markup (emphasis, code, links, images, HTML, entities, escapes).
_MD_MARKUP = re.compile(r"[\\`*_\[\]!<>&~]")


def _md_escape(text: str) -> str:
    """Keep the author's words literal: escape what Markdown would treat as markup."""
    return _MD_INLINE.sub(r"\\\1", without_controls(text))


def _md_line_start(line: str) -> str:
    """`line`, with what would open a block at its start escaped."""
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line)


def _md_line(text: str) -> str:
    """A single-line field: one line, literal, that cannot open a block even at the start of a line."""
    return _md_line_start(_md_escape(_WHITESPACE.sub(" ", text).strip()))


def _md_lines(text: str, prefix: str) -> str:
    """A multi-line field inside a block: each of its lines literal, joined by hard breaks under `prefix`."""
    lines = [_md_line(line) for line in text.splitlines() if line.strip()]
    return f"\\\n{prefix}".join(lines)


def _md_url(url: str) -> str:
    """A URL as a link destination: the characters that would end or break it percent-encoded."""
    return re.sub(r"[\s()<>\\`]", lambda m: quote(m[0]), url)


def _md_from_note(note: dict) -> str:
    """A note's Markdown as one line of inert Markdown: its inline markup kept by the rendering policy, its
    mentions written with each member's current name (escaped like any other words)."""
    source, names = note["body"], mention_map(note.get("mentions", ()))
    if not _MD_MARKUP.search(source):
        # Words alone (most notes): nothing to keep but them, and parsing is slow.
        return _md_line(text_with_mention_names(source, names))
    return _md_line_start(_WHITESPACE.sub(" ", _md_inline(inert_inline_tokens(source), names)).strip())


def _md_inline(children, names: dict[str, str]) -> str:
    out, hrefs = [], []
    for token in children:
        if token.type == "text":
            out.append(_md_escape(_WHITESPACE.sub(" ", text_with_mention_names(token.content, names))))
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "code_inline":
            out.append(_md_code(token.content))
        elif token.type in ("em_open", "em_close"):
            out.append("*")
        elif token.type in ("strong_open", "strong_close"):
            out.append("**")
        elif token.type in ("s_open", "s_close"):
            out.append("~~")
        elif token.type == "link_open":
            hrefs.append(token.attrGet("href"))
            out.append("[")
        elif token.type == "link_close":
            out.append(f"]({_md_url(hrefs.pop())})")
    return "".join(out)


def _md_code(code: str) -> str:
    code = _WHITESPACE.sub(" ", without_controls(code)).strip()
    if not code:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", code)), default=0) + 1)
    return f"{fence} {code} {fence}"


def _md_note(lines: list[str], number: int, note: dict, answers: int | None = None) -> None:
    selector = note.get("selector")
    quoted = f"“{_md_line(selector['exact'])}” " if selector else ""
    author = _md_line(note["author"]["name"]) if note.get("author") else "(deleted)"
    body = _md_from_note(note) if note.get("author") else "(deleted)"
    tags = "".join(f" #{_md_line(tag)}" for tag in note.get("tags", []))
    answering = f"*Answers question {answers}:* " if answers else ""
    lines.append(f"- **[{number}]** {answering}{quoted}{body} — *{author}*{tags}{_md_hidden(note)}")
    for reply in thread(note):
        reply_by = _md_line(reply["author"]["name"]) if reply.get("author") else "(deleted)"
        reply_body = _md_from_note(reply) if reply.get("author") else "(deleted)"
        lines.append(f"    - ↳ {reply_body} — *{reply_by}*{_md_hidden(reply)}")


def _md_hidden(note: dict) -> str:
    marks = note_marks(note)
    return f" ({'; '.join(marks)})" if marks else ""


# --- The facilitator's brief and the summary of last time: the same lines as the printable HTML ---------


def _brief_parts(brief: dict) -> list[tuple[str, list[tuple[int, str]]]]:
    """The brief (`brief_view`) as (heading, [(depth, line)]) in the order of readings/pack/brief.html."""

    def listed(lines: list[str], empty: str) -> list[tuple[int, str]]:
        return [(0, line) for line in lines] or [(0, empty)]

    read = [(0, brief["totals"])]
    if brief["members"] is None:
        read.append((0, "This group shows facilitators totals only."))
    else:
        read += [(0, member["line"]) for member in brief["members"]]
    questions: list[tuple[int, str]] = []
    for question in brief["questions"]:
        questions.append((0, question["title"] + (" (no answer yet)" if question["unanswered"] else "")))
        questions += [(1, answer) for answer in question["answers"]]
    return [
        ("Who has read", read),
        (
            "Where members got stuck",
            listed([row["line"] for row in brief["stuck"]], "No questions or confusion noted yet."),
        ),
        ("Questions and their answers", questions or [(0, "No accepted questions yet.")]),
        ("Most helpful notes", listed(brief["helpful"], "Nobody has marked a note helpful yet.")),
        ("Most replied-to notes", listed(brief["replied"], "No replies yet.")),
        ("Proposed questions waiting for a decision", listed(brief["proposed"], "Nothing waiting.")),
    ]


def _md_brief(lines: list[str], brief: dict) -> None:
    lines += ["## Facilitator’s brief", ""]
    for heading, rows in _brief_parts(brief):
        lines += [f"### {heading}", ""]
        lines += [f"{'    ' * depth}- {_md_line(line)}" for depth, line in rows]
        lines.append("")


def _md_previous(lines: list[str], previous: dict) -> None:
    lines += [f"## Last time: {_md_line(previous['title'])}", "", f"*{_md_line(previous['when'])}*", ""]
    lines += [f"**Who came:** {_md_line(previous['came'])}", ""]
    if previous["questions"]:
        lines += ["### The questions", ""]
        for question in previous["questions"]:
            lines.append(f"{question['number']}. {_md_line(question['prompt'])}")
            for answer in question["answers"]:
                lines.append(f"    - {_md_line(answer['body'])} — *{_md_line(answer['by'])}*")
            if not question["answers"]:
                lines.append("    - No answers written down.")
        lines.append("")
    if previous["follow_ups"]:
        lines += ["### To follow up", ""]
        lines += [f"- {_md_line(note['body'])} — *{_md_line(note['by'])}*" for note in previous["follow_ups"]]
        lines.append("")


def markdown(pack: dict) -> bytes:
    doc = layout(pack)
    session = doc["session"]
    lines = [f"# {_md_line(session['title'])}", "", f"**{_md_line(doc['group']['name'])}** · {doc['when']}"]
    if session["location"]:
        lines.append(f"Where: {_md_line(session['location'])}")
    if session["online_url"]:
        online = session["online_url"].strip()
        safe = safe_url(online) and not re.search(r"[\s<>]", online)
        lines.append(f"Online: <{online}>" if safe else f"Online: {_md_line(online)}")
    lines += ["", f"About {pack['reading_minutes']} minute{pluralize(pack['reading_minutes'])} of reading.", ""]
    if doc["brief"]:  # facilitators' packs only
        _md_brief(lines, doc["brief"])
    if doc["previous"]:
        _md_previous(lines, doc["previous"])
    for view in doc["readings"]:
        text = view.reading["text"]
        lines += [
            f"## {_md_line(text['title'])}" + (f" — {_md_line(text['author'])}" if text["author"] else ""),
            "",
        ]
        span = f"§{view.first}–§{view.last} · " if view.first else ""
        required = "required" if view.reading["required"] else "optional"
        lines += [f"*{span}about {view.reading['reading_minutes']} min · {required}*", ""]
        if view.reading["instructions"]:
            lines += [f"> {_md_lines(view.reading['instructions'], '> ')}", ""]
        for item in view.passages:
            passage = item.passage
            if passage["kind"] == "heading":
                lines.append(f"### §{passage['position']} {_md_line(passage['body'])}")
            elif passage["kind"] == "quotation":
                lines.append(f"> **§{passage['position']}** {_md_lines(passage['body'], '> ')}")
            elif passage["kind"] == "list_item":
                lines.append(f"- **§{passage['position']}** {_md_lines(passage['body'], '  ')}")
            else:
                lines.append(f"**§{passage['position']}** {_md_lines(passage['body'], '')}")
            lines.append("")
            for footnote in passage.get("footnotes", []):
                lines.append(f"> *{_md_line(footnote['label'])}.* {_md_lines(footnote['body'], '> ')}  ")
            if passage.get("footnotes"):
                lines.append("")
            for note in item.notes:
                _md_note(lines, note.number, note.note, note.answers)
            if item.notes:
                lines.append("")
        if view.orphaned:
            lines += ["**Notes whose words changed in a later revision**", ""]
            for note in view.orphaned:
                _md_note(lines, note.number, note.note, note.answers)
            lines.append("")
    if doc["questions"]:
        lines += ["## Questions for discussion", ""]
        for question in doc["questions"]:
            refs = ", ".join(f"§{ref['position']}" for ref in question["refs"])
            meta = " · ".join(
                part
                for part in (question["kind"], f"{question['minutes']} min" if question["minutes"] else "", refs)
                if part
            )
            lines.append(f"{question['number']}. {_md_line(question['prompt'])} *({_md_line(meta)})*")
            if question.get("facilitator_notes"):
                lines.append(f"    - For facilitators: {_md_lines(question['facilitator_notes'], '      ')}")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


# --- HTML and PDF (both from `layout`; the PDF is typeset by Typst) ---------------------


def html(pack: dict) -> bytes:
    return render_to_string("readings/pack/print.html", layout(pack)).encode("utf-8")


def pdf(pack: dict) -> bytes:
    return typeset_pdf(pack)


# --- EPUB ----------------------------------------------------------------------------------


EPUB_CSS = """
body { font-family: serif; line-height: 1.5; }
h1, h2, h3 { font-family: sans-serif; }
.num { font-family: sans-serif; font-size: 0.7em; color: #777; margin-right: 0.4em; text-decoration: none; }
blockquote { margin-left: 1.2em; padding-left: 0.8em; border-left: 2px solid #ccc; }
mark { background: #fff1b8; }
sup.note-refs { font-size: 0.7em; line-height: 0; }
a.note-ref { text-decoration: none; }
.meta { font-family: sans-serif; font-size: 0.85em; color: #555; }
aside { font-size: 0.9em; }
"""


def _xhtml_page(title: str, body: str) -> str:
    # Control characters are not allowed anywhere in XML, whichever field brought them.
    return without_controls(
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
        f'<head><title>{escape(title)}</title><link rel="stylesheet" href="style.css" type="text/css"/></head>'
        f"<body>{body}</body></html>"
    )


def epub(pack: dict) -> bytes:
    """EPUB 3 with a nav document; notes are endnotes in notes.xhtml, linked both ways."""
    from ebooklib import epub as ebook

    doc = layout(pack, link_prefix="notes.xhtml")
    session = doc["session"]
    book = ebook.EpubBook()
    book.set_identifier(f"studycircle-pack-{session['id']}-{pack['version']}")
    book.set_title(without_controls(f"{session['title']} · {doc['group']['name']}"))
    book.set_language("en")
    book.add_author(without_controls(doc["group"]["name"]))
    style = ebook.EpubItem(uid="style", file_name="style.css", media_type="text/css", content=EPUB_CSS)
    book.add_item(style)

    chapters = []
    cover = ebook.EpubHtml(title="About this session", file_name="session.xhtml", lang="en")
    details = [f"<h1>{escape(session['title'])}</h1>", f'<p class="meta">{escape(doc["group"]["name"])}</p>']
    details.append(f"<p>{escape(doc['when'])}</p>")
    if session["location"]:
        details.append(f"<p>{escape(session['location'])}</p>")
    details.append(f"<p>About {pack['reading_minutes']} minute{pluralize(pack['reading_minutes'])} of reading.</p>")
    cover.content = _xhtml_page(session["title"], "".join(details))
    chapters.append(cover)
    if doc["brief"]:  # facilitators' packs only
        page = ebook.EpubHtml(title="Facilitator’s brief", file_name="brief.xhtml", lang="en")
        page.content = _xhtml_page("Facilitator’s brief", _epub_brief(doc["brief"]))
        page.add_item(style)
        chapters.append(page)
    if doc["previous"]:
        title = f"Last time: {doc['previous']['title']}"
        page = ebook.EpubHtml(title=title, file_name="previous-summary.xhtml", lang="en")
        page.content = _xhtml_page(title, _epub_previous(doc["previous"]))
        page.add_item(style)
        chapters.append(page)

    notes_html = []
    for index, view in enumerate(doc["readings"], start=1):
        text = view.reading["text"]
        parts = [f"<h2>{escape(text['title'])}</h2>"]
        if text["author"]:
            parts.append(f'<p class="meta">{escape(text["author"])}</p>')
        if view.reading["instructions"]:
            parts.append(f"<p><em>{escape(view.reading['instructions'])}</em></p>")
        for item in view.passages:
            passage = item.passage
            number = f'<a class="num" href="#{item.html_id}">§{passage["position"]}</a>'
            if passage["kind"] == "heading":
                parts.append(f'<h3 id="{item.html_id}">{number}{item.body_html}</h3>')
            elif passage["kind"] == "quotation":
                parts.append(f'<blockquote id="{item.html_id}"><p>{number}{item.body_html}</p></blockquote>')
            else:
                parts.append(f'<p id="{item.html_id}">{number}{item.body_html}</p>')
            parts.extend(_footnotes_html(passage))
            notes_html.extend(_epub_note(note, f"reading-{index}.xhtml") for note in item.notes)
        notes_html.extend(_epub_note(note, None) for note in view.orphaned)
        chapter = ebook.EpubHtml(title=text["title"], file_name=f"reading-{index}.xhtml", lang="en")
        chapter.content = _xhtml_page(text["title"], "".join(parts))
        chapter.add_item(style)
        chapters.append(chapter)

    if doc["questions"]:
        items = []
        for question in doc["questions"]:
            refs = ", ".join(f"§{ref['position']}" for ref in question["refs"])
            meta = " · ".join(
                p for p in (question["kind"], f"{question['minutes']} min" if question["minutes"] else "", refs) if p
            )
            extra = (
                f"<p><em>For facilitators:</em> {escape(question['facilitator_notes'])}</p>"
                if question.get("facilitator_notes")
                else ""
            )
            number = question["number"]
            items.append(
                f'<li id="question-{number}" value="{number}"><p>{escape(question["prompt"])}</p>'
                f'<p class="meta">{escape(meta)}</p>{extra}</li>'
            )
        page = ebook.EpubHtml(title="Questions", file_name="questions.xhtml", lang="en")
        page.content = _xhtml_page("Questions", f"<h2>Questions for discussion</h2><ol>{''.join(items)}</ol>")
        page.add_item(style)
        chapters.append(page)

    if notes_html:
        notes_page = ebook.EpubHtml(title="Notes", file_name="notes.xhtml", lang="en")
        notes_page.content = _xhtml_page("Notes", "<h2>Notes</h2>" + "".join(notes_html))
        notes_page.add_item(style)
        chapters.append(notes_page)

    for chapter in chapters:
        book.add_item(chapter)
    book.toc = tuple(chapters)
    book.spine = ["nav", *chapters]
    book.add_item(ebook.EpubNcx())
    book.add_item(ebook.EpubNav())
    out = BytesIO()
    ebook.write_epub(out, book)
    return out.getvalue()


_META = ' class="meta"'


def _epub_brief(brief: dict) -> str:
    """The brief as escaped text, the lines of the printable HTML (its bars are words here: the lines say it)."""
    parts = ["<h2>Facilitator’s brief</h2>"]
    for heading, rows in _brief_parts(brief):
        parts.append(f"<h3>{escape(heading)}</h3>")
        parts += [f"<p{_META if depth else ''}>{escape(line)}</p>" for depth, line in rows]
    return "".join(parts)


def _epub_previous(previous: dict) -> str:
    """The summary of the session before, as escaped text (the lines of the printable HTML)."""
    parts = [
        f"<h2>Last time: {escape(previous['title'])}</h2>",
        f'<p class="meta">{escape(previous["when"])}</p>',
        f"<p><strong>Who came:</strong> {escape(previous['came'])}</p>",
    ]
    if previous["questions"]:
        parts.append("<h3>The questions</h3><ol>")
        for question in previous["questions"]:
            answers = "".join(
                f'<li><p>{escape(answer["body"])}</p><p class="meta">— {escape(answer["by"])}</p></li>'
                for answer in question["answers"]
            )
            answers = f"<ul>{answers}</ul>" if answers else '<p class="meta">No answers written down.</p>'
            parts.append(f'<li value="{question["number"]}"><p>{escape(question["prompt"])}</p>{answers}</li>')
        parts.append("</ol>")
    if previous["follow_ups"]:
        items = "".join(
            f'<li><p>{escape(note["body"])}</p><p class="meta">— {escape(note["by"])}</p></li>'
            for note in previous["follow_ups"]
        )
        parts.append(f"<h3>To follow up</h3><ul>{items}</ul>")
    return "".join(parts)


def _epub_note(view, chapter: str | None) -> str:
    note = view.note
    quote = f"<em>“{escape(view.quote)}”</em> " if view.quote else ""
    if view.answers:
        quote = f'Answers <a href="questions.xhtml#question-{view.answers}">question {view.answers}</a>: {quote}'
    body = note["body_html"] if note.get("author") else "<p>(deleted)</p>"
    author = escape(note["author"]["name"]) if note.get("author") else ""
    author += "".join(f" · {mark}" for mark in note_marks(note))
    back = f' <a href="{chapter}#ref-{note["id"]}">↩</a>' if chapter else ""
    replies = "".join(
        f"<li>{reply['body_html']} — {escape(reply['author']['name']) if reply.get('author') else '(deleted)'}"
        f"{''.join(f' · {mark}' for mark in note_marks(reply))}</li>"
        for reply in view.replies
    )
    replies = f"<ul>{replies}</ul>" if replies else ""
    return (
        f'<aside epub:type="endnote" id="{view.anchor}"><p><strong>{view.number}.</strong> {quote}</p>'
        f'{body}<p class="meta">— {author}{back}</p>{replies}</aside>'
    )


def _footnotes_html(passage: dict) -> list[str]:
    """The original's footnotes of a passage, small, under it (escaped: they are imported text)."""
    if not passage.get("footnotes"):
        return []
    items = "".join(
        f'<li><span class="fn-label">{escape(note["label"])}</span> {escape(note["body"])}</li>'
        for note in passage["footnotes"]
    )
    return [f'<aside class="footnotes"><ol>{items}</ol></aside>']
