"""Split a Markdown file into raw blocks using markdown-it-py tokens.

Markdown structure is explicit, so no heuristics are needed for headings,
quotations or lists: ``#`` headings, ``>`` quotations and list items map
one-to-one to blocks. Inline markup (emphasis, links, code, inline HTML) is
reduced to its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .model import HEADING, LIST_ITEM, PARAGRAPH, QUOTATION, RawBlock
from .textutil import normalise_space

# CommonMark plus GFM tables and strikethrough (so neither leaves pipes or
# tildes in a body); html_inline tokens let us drop inline tags.
_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# Table cells of one row are joined into one paragraph with this separator.
_CELL_SEPARATOR = "; "

# Footnote references "[^1]" / "[^note]" and the space before them (applied
# to whitespace-normalised text; the label length is bounded so a run of
# "[^[^[^…" cannot make the search quadratic).
_FOOTNOTE_REF_RE = re.compile(r" ?\[\^[^\]\s\[]{1,100}\]")
# A footnote definition "[^1]: text" at the start of a line; indented lines
# that follow belong to it.
_FOOTNOTE_DEF_RE = re.compile(r" {0,3}\[\^[^\]\s]+\]:")


@dataclass
class MarkdownResult:
    """What the Markdown reader found: the title, raw blocks and notices."""

    title: str
    blocks: list[RawBlock]
    notices: list[str]


def _drop_footnote_definitions(text: str) -> tuple[str, int]:
    """Remove "[^1]: …" definitions (and their indented continuation lines)."""
    if "[^" not in text:
        return text, 0
    kept: list[str] = []
    dropped = 0
    in_definition = False
    for line in text.split("\n"):
        if _FOOTNOTE_DEF_RE.match(line):
            dropped += 1
            in_definition = True
            continue
        if in_definition and (not line.strip() or line[:1] in " \t"):
            continue
        in_definition = False
        kept.append(line)
    return "\n".join(kept), dropped


def inline_text(token: Token) -> str:
    """The plain text of an ``inline`` token: no markup, single spaces."""
    parts: list[str] = []
    _collect_inline(token.children or [], parts)
    text = normalise_space("".join(parts))
    if "[^" in text:
        text = _FOOTNOTE_REF_RE.sub("", text).strip()
    return text


def _collect_inline(children: list[Token], parts: list[str]) -> None:
    """Append the text of inline ``children`` to ``parts``."""
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline", "text_special"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            _collect_inline(child.children or [], parts)  # the alt text
        elif kind == "html_inline" and child.content.lower().startswith("<br"):
            parts.append(" ")
        # Other inline HTML tags are markup: the text inside them arrives as
        # separate text tokens, so the tags themselves are simply skipped.


def _html_text(html: str) -> str:
    """The readable text of a raw HTML block embedded in Markdown."""
    soup = BeautifulSoup(html, "lxml")  # C parser: linear even on malformed tags
    for tag in soup(["script", "style", "template", "noscript"]):
        tag.decompose()
    return normalise_space(soup.get_text(" "))


@dataclass
class _Item:
    """A list item being read: its written number and its paragraphs so far."""

    prefix: str
    parts: list[str] = field(default_factory=list)
    emitted: bool = False


class _Builder:
    """Turns the flat token stream into raw blocks."""

    def __init__(self) -> None:
        self.blocks: list[RawBlock] = []
        self.quote_depth = 0
        self.items: list[_Item] = []
        self.list_ordered: list[bool] = []
        self.heading_level = 0
        self.row: list[str] | None = None

    def emit_text(self, text: str) -> None:
        """Route paragraph-like text to the open list item or a new block."""
        if not text:
            return
        if self.items:
            self.items[-1].parts.append(text)
            return
        quoted = self.quote_depth > 0
        self.blocks.append(RawBlock(kind=QUOTATION if quoted else PARAGRAPH, body=text, quoted=quoted))

    def flush_item(self) -> None:
        """Emit the text collected for the innermost list item, if any."""
        if not self.items or not self.items[-1].parts:
            return
        item = self.items[-1]
        prefix = "" if item.emitted else item.prefix
        body = normalise_space(prefix + " ".join(item.parts))
        item.parts = []
        item.emitted = True
        self.blocks.append(RawBlock(kind=LIST_ITEM, body=body, quoted=self.quote_depth > 0))

    def heading(self, text: str) -> None:
        """Emit a heading; inside a quotation it is just quoted text."""
        if not text:
            return
        self.flush_item()
        if self.quote_depth > 0:
            self.blocks.append(RawBlock(kind=QUOTATION, body=text, quoted=True))
        else:
            self.blocks.append(RawBlock(kind=HEADING, body=text, level=self.heading_level))

    def feed(self, token: Token) -> None:
        """Consume one block-level token."""
        kind = token.type
        if kind == "heading_open":
            self.heading_level = int(token.tag[1])
        elif kind == "heading_close":
            self.heading_level = 0
        elif kind == "inline":
            text = inline_text(token)
            if self.row is not None:
                if text:
                    self.row.append(text)
            elif self.heading_level:
                self.heading(text)
            else:
                self.emit_text(text)
        elif kind in ("blockquote_open", "blockquote_close"):
            self.flush_item()
            self.quote_depth += 1 if kind == "blockquote_open" else -1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            # Text of the parent item comes before its nested items.
            self.flush_item()
            self.list_ordered.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.list_ordered.pop()
        elif kind == "list_item_open":
            ordered = bool(self.list_ordered and self.list_ordered[-1])
            # Keep the number as written ("1." or "2)"); bullets are markup.
            prefix = f"{token.info}{token.markup} " if ordered and token.info else ""
            self.items.append(_Item(prefix))
        elif kind == "list_item_close":
            self.flush_item()
            self.items.pop()
        elif kind in ("fence", "code_block"):
            self.emit_text(normalise_space(token.content))
        elif kind == "html_block":
            self.emit_text(_html_text(token.content))
        elif kind == "tr_open":
            self.row = []
        elif kind == "tr_close":
            cells, self.row = self.row or [], None
            self.emit_text(_CELL_SEPARATOR.join(cells))


def _first_line_title(tokens: list[Token]) -> str:
    """The plain text of the document's first line (used when no heading opens it)."""
    for token in tokens:
        if token.type == "inline" and token.content.strip():
            first_line = token.content.strip().split("\n", 1)[0]
            inline = _MARKDOWN.parseInline(first_line)
            return inline_text(inline[0]) if inline else ""
        if token.type in ("fence", "code_block", "html_block"):
            return ""
    return ""


def read_markdown(text: str) -> MarkdownResult:
    """Split Markdown ``text`` into raw blocks.

    Guarantees: headings keep their ``#`` level; every block inside ``>`` is
    quoted (a heading inside a quotation becomes quoted text); each list item
    is one block whose body starts with its written number for ordered lists;
    footnote references ``[^1]`` are removed and definitions dropped (with a
    notice). The title is the opening heading (marked ``is_title``) or, when
    the document does not open with one, the text of its first line.
    """
    text, dropped = _drop_footnote_definitions(text)
    tokens = _MARKDOWN.parse(text)
    builder = _Builder()
    for token in tokens:
        builder.feed(token)
    blocks = builder.blocks
    title = ""
    if blocks and blocks[0].kind == HEADING:
        blocks[0].is_title = True
        title = blocks[0].body
    else:
        title = _first_line_title(tokens)
    notices: list[str] = []
    if dropped:
        notices.append(
            f"Dropped {dropped} footnote definition{'s' if dropped != 1 else ''} "
            "(the notes, not the text they annotate)."
        )
    return MarkdownResult(title=title, blocks=blocks, notices=notices)
