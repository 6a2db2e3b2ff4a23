"""A note's sanitised HTML (`body_html`) as plain data: blocks of styled runs, for a renderer that parses no markup.

The PDF's template receives note bodies in this shape, so no note can change
the document around it, and it shows exactly what the printable HTML shows
(both start from the same `body_html`, which `readings.rendering` made from
the note's Markdown and cleaned). Only http(s) and mailto links stay links;
an image becomes a link to its address with its alt text as the words, so
nothing is ever fetched to draw it.

Blocks:
    {"type": "paragraph", "runs": [RUN]}
    {"type": "heading", "runs": [RUN]}
    {"type": "quote", "blocks": [BLOCK]}
    {"type": "list", "ordered": bool, "start": int, "items": [[BLOCK]]}
    {"type": "code", "text": str}
    {"type": "rule"}
    {"type": "table", "rows": [[[RUN]]]}   (rows of cells, each cell a list of runs)
RUN: {"text": str} with any of "strong", "em", "code", "strike": True and "link": url; or {"break": True}.
"""

import re
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

CLICKABLE_SCHEMES = {"http", "https", "mailto"}
_STYLE_OF = {"strong": "strong", "b": "strong", "em": "em", "i": "em", "code": "code", "del": "strike", "s": "strike"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "blockquote", "ul", "ol", "pre", "hr", "table", "div", *_HEADINGS}
_SPACES = re.compile(r"\s+")


def clickable(url: str) -> str | None:
    """`url` if a reader may follow it (http, https, mailto), else None."""
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in CLICKABLE_SCHEMES else None


def note_blocks(body_html: str) -> list[dict]:
    """`body_html` (sanitised note HTML) as the blocks described in this module's docstring."""
    if not body_html.strip():
        return []
    return _blocks(lxml_html.fragment_fromstring(body_html, create_parent="div"))


def _text(value: str | None) -> str:
    return _SPACES.sub(" ", value) if value else ""


def _runs(element, style: dict) -> list[dict]:
    """The inline content of `element` (its own tag applied to `style`), without its tail."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "br":
        return [{"break": True}]
    if tag == "img":
        source = clickable(element.get("src", ""))
        words = element.get("alt") or element.get("src", "")
        return [{"text": words, **style, **({"link": source} if source else {})}] if words else []
    style = dict(style)
    if tag in _STYLE_OF:
        style[_STYLE_OF[tag]] = True
    elif tag == "a":
        target = clickable(element.get("href", ""))
        style.pop("link", None)
        if target:
            style["link"] = target
    runs = []
    if element.text:
        runs.append({"text": _text(element.text), **style})
    for child in element:
        runs.extend(_runs(child, style))
        if child.tail:
            runs.append({"text": _text(child.tail), **style})
    return runs


def _paragraph(runs: list[dict], kind: str = "paragraph") -> dict | None:
    """Runs as a block, with neighbours of the same style joined and the ends trimmed; None if blank."""
    merged: list[dict] = []
    for run in runs:
        previous = merged[-1] if merged else None
        if previous and "text" in run and "text" in previous and _style(previous) == _style(run):
            previous["text"] += run["text"]
        elif previous and previous.get("break") and "text" in run:
            merged.append({**run, "text": run["text"].lstrip()})  # a new line starts at its first word
        else:
            merged.append(dict(run))
    if merged and "text" in merged[0]:
        merged[0]["text"] = merged[0]["text"].lstrip()
    if merged and "text" in merged[-1]:
        merged[-1]["text"] = merged[-1]["text"].rstrip()
    merged = [run for run in merged if run.get("text") or run.get("break")]
    return {"type": kind, "runs": merged} if merged else None


def _style(run: dict) -> dict:
    return {key: value for key, value in run.items() if key != "text"}


def _blocks(container) -> list[dict]:
    """The blocks inside `container`; loose inline content (a tight list item's words) becomes a paragraph."""
    blocks: list[dict] = []
    loose: list[dict] = []

    def flush() -> None:
        block = _paragraph(loose)
        if block:
            blocks.append(block)
        loose.clear()

    if container.text:
        loose.append({"text": _text(container.text)})
    for child in container:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _BLOCKS:
            flush()
            blocks.extend(_block(child, tag))
        elif tag and not isinstance(child, etree._Comment):
            loose.extend(_runs(child, {}))
        if child.tail:
            loose.append({"text": _text(child.tail)})
    flush()
    return blocks


def _block(element, tag: str) -> list[dict]:
    if tag == "p" or tag in _HEADINGS:
        block = _paragraph(_runs(element, {}), "paragraph" if tag == "p" else "heading")
        return [block] if block else []
    if tag in ("blockquote", "div"):
        inner = _blocks(element)
        return [{"type": "quote", "blocks": inner}] if tag == "blockquote" else inner
    if tag in ("ul", "ol"):
        items = [_blocks(item) for item in element if item.tag == "li"]
        start = int(element.get("start", "1")) if element.get("start", "1").isdigit() else 1
        return [{"type": "list", "ordered": tag == "ol", "start": start, "items": items}]
    if tag == "pre":
        return [{"type": "code", "text": element.text_content().rstrip("\n")}]
    if tag == "hr":
        return [{"type": "rule"}]
    if tag == "table":
        rows = []
        for row in element.iter("tr"):
            cells = [_paragraph(_runs(cell, {})) for cell in row if cell.tag in ("td", "th")]
            rows.append([cell["runs"] if cell else [] for cell in cells])
        return [{"type": "table", "rows": rows}] if rows else []
    return []
