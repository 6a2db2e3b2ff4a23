"""Split a plain-text file into raw blocks.

Structure in plain text is carried by blank lines and by how lines start:

* the first non-blank line is the title;
* blank lines separate paragraphs, whose lines are joined with a space;
* two or more blank lines end the current section;
* a short, unpunctuated, title-case or enumerated line on its own is a
  heading; a paragraph that opens with a quotation mark is a quotation;
* lines that start with a list marker (``1)``, ``2.``, ``-``, ``*``, ``•``)
  are list items, one block per item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import HEADING, LIST_ITEM, PARAGRAPH, QUOTATION, RawBlock
from .textutil import OPENING_MARKS, is_title_case, normalise_space, opens_with_quote

# Footnote markers such as "[1]" or "[23]": only digits, at most three of
# them, so an author's "[!]", "[sic]" or a bracketed year "[1917]" stay.
# Applied to whitespace-normalised text, so at most one space precedes it
# (and the pattern cannot scan long runs of blanks).
_FOOTNOTE_MARKER_RE = re.compile(r" ?\[\d{1,3}\]")

_MAX_HEADING_CHARS = 80
_MAX_HEADING_WORDS = 12
# A heading never ends like a sentence or a clause: . ! ? : ; , … possibly
# followed by closing quotation marks or brackets.
_SENTENCE_END_RE = re.compile(r"[.!?:;,…][”’\"'»)\]]*$")

# Enumerators that make a short line a heading on their own:
# "Part 2", "Chapter III", "Section 1", "Part Two —", "IV.", "§ 3".
_ENUMERATOR_WORD = r"(?i:part|chapter|section|book|volume|act|scene|lesson|unit|lecture|appendix|session)"
_ENUMERATOR_NUMBER = r"(?:\d+|[IVXLCDMivxlcdm]+|[A-Za-z]\b|(?i:one|two|three|four|five|six|seven|eight|nine|ten))"
# An upper-case Roman numeral of at least two letters ("II", "IV", "XIV");
# single letters ("I.", "V.") are left to the title-case rule.
_ROMAN_NUMERAL = r"(?=[IVXLCDM]{2,}\b)M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})[.)]?"
_STRONG_ENUMERATOR_RE = re.compile(
    rf"(?:{_ENUMERATOR_WORD}\s+{_ENUMERATOR_NUMBER}|{_ROMAN_NUMERAL}|§\s*\d+)"
    r"(?:[.):]|\s*[—–-])?"  # an optional separator: "Chapter 3:", "Part Two —"
    r"(?=\s|$)"
)
# Enumerators that are also list markers: "1)", "2.", "(3)", "a)", "(b)".
# Such a line is a heading only when the rest of it is in title case.
_LIST_ENUMERATOR_RE = re.compile(r"\(?(?:\d{1,3}|[A-Za-z])\)(?=\s|$)|\d{1,3}\.(?=\s|$)")
# Bullets: "- item", "* item", "• item".
_BULLET_RE = re.compile(r"[-*•◦‣]\s+(?=\S)")
# Markers that start a list item in a paragraph: bullets, "1)", "2.", "(3)",
# "a)", "(b)". Digits are capped at three so that a wrapped line starting
# "1917. The…" is not taken for item 1917.
_ITEM_MARKER_RE = re.compile(
    r"(?P<bullet>[-*•◦‣])\s+\S"
    r"|(?P<paren>\()?(?:\d{1,3}|[A-Za-z])\)\s"
    r"|\d{1,3}(?P<dot>\.)\s"
)


@dataclass
class _Chunk:
    """Consecutive non-blank lines and the number of blank lines before them."""

    lines: list[str]
    blank_before: int


@dataclass
class PlainTextResult:
    """What the plain-text reader found: the title, raw blocks and notices."""

    title: str
    blocks: list[RawBlock]
    notices: list[str]


def _chunks(text: str) -> list[_Chunk]:
    """Group the lines of ``text`` into runs separated by blank lines."""
    chunks: list[_Chunk] = []
    current: list[str] = []
    blanks = 0
    for line in text.split("\n"):
        if line.strip():
            if not current:
                chunks.append(_Chunk(current, blanks))
                blanks = 0
            current.append(line.strip())
        else:
            if current:
                current = []
            blanks += 1
    return chunks


def _ends_like_sentence(line: str) -> bool:
    """True when ``line`` ends with sentence or clause punctuation."""
    return bool(_SENTENCE_END_RE.search(line))


def is_heading_line(line: str) -> bool:
    """True when a one-line paragraph reads as a heading.

    The line must be short (≤ 80 characters, ≤ 12 words), must not open with
    a quotation mark or a bullet, and must not end with sentence
    punctuation. Then it is a heading when it opens with a strong enumerator
    ("Part 2", "Chapter 3", "IV."), when it opens with a list-style
    enumerator ("a)", "(b)", "1.") followed by title-case words, or when it
    is in title case ("Socialism in One Country"). A sentence-case line such
    as "It was supported by the working class" is not a heading.
    """
    if not line or len(line) > _MAX_HEADING_CHARS:
        return False
    if len(line.split()) > _MAX_HEADING_WORDS or line[0] in OPENING_MARKS:
        return False
    if _BULLET_RE.match(line):
        return False
    strong = _STRONG_ENUMERATOR_RE.match(line)
    listed = None if strong else _LIST_ENUMERATOR_RE.match(line)
    enumerator = strong or listed
    rest = line[enumerator.end() :].strip() if enumerator else line
    if not rest:
        return enumerator is not None  # "IV." or "Chapter 3" alone
    if _ends_like_sentence(rest):
        return False
    if strong:
        return True
    return is_title_case(rest)


def _item_family(line: str) -> str | None:
    """The kind of list marker ``line`` starts with, or None.

    Opening quotation marks are skipped so that a numbered point inside a
    quotation (“1) all through…) is recognised. The family distinguishes
    "-" from "•", "1)" from "1." so that lists of one style split together.
    """
    start = 0
    while start < len(line) and line[start] in OPENING_MARKS:
        start += 1
    match = _ITEM_MARKER_RE.match(line, start)
    if match is None:
        return None
    if match.group("bullet"):
        return "bullet" + match.group("bullet")
    if match.group("dot"):
        return "dot"
    return "paren" if match.group("paren") else "close"


def _item_body(line: str) -> str:
    """Drop a bullet glyph (list markup), keeping written numbers like "1)"."""
    match = _BULLET_RE.match(line)
    return line[match.end() :] if match else line


def _join(lines: list[str]) -> str:
    """Join ``lines`` into one body without footnote markers such as "[1]"."""
    text = normalise_space(" ".join(lines))
    if "[" in text:
        text = _FOOTNOTE_MARKER_RE.sub("", text).strip()
    return text


def _text_block(body: str, *, list_item: bool = False) -> RawBlock:
    """A list item, quotation or paragraph; quoted when ``body`` opens with a mark.

    Only the opening mark counts: marks are never paired across paragraphs,
    and commentary after the closing mark does not make a quotation less so.
    """
    quoted = opens_with_quote(body)
    kind = LIST_ITEM if list_item else (QUOTATION if quoted else PARAGRAPH)
    return RawBlock(kind=kind, body=body, quoted=quoted)


def _split_items(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """Split a chunk into lead-in lines and list items, if it is a list.

    A chunk is a list when its first line starts with a list marker, or when
    at least two of its lines start with markers of the same kind (a lead-in
    line such as "Shopping:" may precede them). Returns ``(lead_in, items)``;
    ``items`` is empty when the chunk is an ordinary paragraph.
    """
    families = [_item_family(line) for line in lines]
    if families[0] is None:
        marked = [family for family in families if family]
        if not marked or max(marked.count(family) for family in set(marked)) < 2:
            return lines, []
    items: list[list[str]] = []
    lead_in: list[str] = []
    for line, family in zip(lines, families, strict=True):
        if family:
            items.append([_item_body(line)])
        elif items:
            items[-1].append(line)  # a wrapped continuation line
        else:
            lead_in.append(line)
    return lead_in, items


def read_plaintext(text: str) -> PlainTextResult:
    """Split ``text`` (newlines already normalised) into raw blocks.

    Guarantees: the first non-blank line is the title and block 0 (a level-1
    heading); other headings have level 2; the first block after two or more
    blank lines has ``ends_section`` set; bodies are whitespace-normalised
    with numeric footnote markers such as "[1]" removed.
    """
    chunks = _chunks(text)
    blocks: list[RawBlock] = []
    title = ""
    if chunks:
        first = chunks[0]
        title = _join(first.lines[:1])
        if title:
            blocks.append(RawBlock(kind=HEADING, body=title, level=1, is_title=True))
        if len(first.lines) > 1:
            chunks[0] = _Chunk(first.lines[1:], 0)
        else:
            chunks.pop(0)
    for chunk in chunks:
        chunk_blocks = _chunk_blocks(chunk.lines)
        if chunk_blocks and chunk.blank_before >= 2:
            chunk_blocks[0].ends_section = True
        blocks.extend(chunk_blocks)
    notices: list[str] = []
    count = len(_FOOTNOTE_MARKER_RE.findall(text)) if "[" in text else 0
    if count:
        notices.append(f"Removed {count} footnote marker{'s' if count != 1 else ''} such as [1].")
    return PlainTextResult(title=title, blocks=blocks, notices=notices)


def _chunk_blocks(lines: list[str]) -> list[RawBlock]:
    """Turn one chunk of consecutive lines into its blocks."""
    if len(lines) == 1:
        body = _join(lines)
        if is_heading_line(body):
            return [RawBlock(kind=HEADING, body=body, level=2)]
    lead_in, items = _split_items(lines)
    blocks: list[RawBlock] = []
    if lead_in:
        body = _join(lead_in)
        if body:
            blocks.append(_text_block(body))
    for item in items:
        body = _join(item)
        if body:
            blocks.append(_text_block(body, list_item=True))
    return blocks
