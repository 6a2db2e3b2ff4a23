"""The parsing pipeline: read a format into raw blocks, then analyse them.

Format readers decide structure only. This module applies the rules that are
the same for every format — sections, attributions, cited works — and
reports progress while it does.
"""

from __future__ import annotations

from collections.abc import Callable

from .attributions import find_attributions, find_cited_works
from .epub import EpubLimits, read_epub
from .html import read_html
from .markdown import read_markdown
from .model import HEADING, ParsedBlock, ParsedDocument, RawBlock, TextImportError
from .pdf import PdfLimits, read_pdf
from .plaintext import read_plaintext
from .textutil import normalise_newlines, quote_spans, strip_control_chars

ProgressCallback = Callable[[int, int], None]

# Accepted spellings of each format; ParsedDocument.format is the key.
_FORMAT_ALIASES = {
    "txt": "txt",
    "text": "txt",
    "plain": "txt",
    "md": "md",
    "markdown": "md",
    "html": "html",
    "htm": "html",
    "xhtml": "html",
    "epub": "epub",
    "pdf": "pdf",
}
# At most this many progress reports per document (plus the final one), so
# a large text does not spend its time redrawing a progress bar.
_PROGRESS_REPORTS = 200


def normalise_format(fmt: str) -> str:
    """Return "txt", "md", "html", "epub" or "pdf" for ``fmt`` or raise TextImportError."""
    key = (fmt or "").strip().lower().lstrip(".")
    if key not in _FORMAT_ALIASES:
        raise TextImportError(
            f'Unknown format "{fmt}". Use "txt" (plain text), "md" (Markdown), "html", "epub" or "pdf".',
            field="format",
        )
    return _FORMAT_ALIASES[key]


def parse_document(
    text: str,
    fmt: str,
    *,
    on_progress: ProgressCallback | None = None,
    max_blocks: int | None = None,
) -> ParsedDocument:
    """Parse ``text`` written in ``fmt`` ("txt", "md" or "html").

    Guarantees: blocks are in document order with plain-text bodies, none
    empty; every quoted block has kind "quotation" or "list_item"; the title
    block, when the document opens with one, is ``blocks[0]`` and is never
    anyone's section. ``on_progress(done, total)`` is called periodically
    while blocks are analysed, ending with ``(total, total)``.

    Raises :class:`TextImportError` for an unknown format (``field`` is
    "format"), for a document with no readable text, and for one with more
    than ``max_blocks`` blocks (checked before the costlier analysis).
    """
    fmt = normalise_format(fmt)
    if fmt in ("epub", "pdf"):
        raise TextImportError(f"A {fmt.upper()} file is read from its bytes: use parse_binary.", field="format")
    text = strip_control_chars(normalise_newlines(text))
    if fmt == "txt":
        result = read_plaintext(text)
        empty_message = "The file has no text: it is empty or only white space."
    elif fmt == "md":
        result = read_markdown(text)
        empty_message = "The Markdown file has no readable text."
    else:
        result = read_html(text)
        empty_message = "The HTML page has no readable text."
    raw_blocks = [block for block in result.blocks if block.body]
    if not raw_blocks:
        raise TextImportError(empty_message)
    if max_blocks is not None and len(raw_blocks) > max_blocks:
        raise TextImportError(
            f"The text splits into {len(raw_blocks):,} passages; the limit is {max_blocks:,}. "
            "Split it into parts, or check that its paragraphs are separated by blank lines."
        )
    blocks = _analyse(raw_blocks, on_progress)
    return ParsedDocument(title=result.title, blocks=blocks, notices=list(result.notices), format=fmt)


def parse_binary(
    data: bytes,
    fmt: str,
    *,
    chapters: list[str] | None = None,
    epub_limits: EpubLimits | None = None,
    pdf_limits: PdfLimits | None = None,
    on_progress: ProgressCallback | None = None,
) -> ParsedDocument:
    """Parse an EPUB or PDF file (``fmt`` "epub" or "pdf") from its bytes.

    Same guarantees as :func:`parse_document`, plus ``metadata`` from the
    file. ``chapters`` (EPUB only) picks table-of-contents entries by id;
    None reads the whole book. ``on_progress(done, total)`` counts PDF pages
    as they are laid out. Raises :class:`TextImportError` for files that are
    damaged, protected, over the limits or without text (``field`` "file",
    or "chapters" for an unknown chapter id).
    """
    fmt = normalise_format(fmt)
    if fmt == "epub":
        result = read_epub(data, chapters=chapters, limits=epub_limits)
    elif fmt == "pdf":
        if chapters is not None:
            raise TextImportError("Chapters can only be chosen from an EPUB.", field="chapters")
        result = read_pdf(data, limits=pdf_limits, on_progress=on_progress)
    else:
        raise TextImportError(f"“{fmt}” is a text format: use parse_document.", field="format")
    raw_blocks = [block for block in result.blocks if block.body]
    if not raw_blocks:
        raise TextImportError(f"The {fmt.upper()} file has no readable text.")
    blocks = _analyse(raw_blocks, None)
    return ParsedDocument(
        title=result.title, blocks=blocks, notices=list(result.notices), format=fmt, metadata=dict(result.metadata)
    )


def _analyse(raw_blocks: list[RawBlock], on_progress: ProgressCallback | None) -> list[ParsedBlock]:
    """Assign sections and find attributions and cited works, block by block."""
    total = len(raw_blocks)
    step = max(1, total // _PROGRESS_REPORTS)
    if on_progress is not None:
        on_progress(0, total)
    sections = _SectionTracker()
    blocks: list[ParsedBlock] = []
    for done, raw in enumerate(raw_blocks, start=1):
        blocks.append(_analyse_block(raw, sections.section_for(raw)))
        if on_progress is not None and (done % step == 0 or done == total):
            on_progress(done, total)
    return blocks


def _analyse_block(raw: RawBlock, section: str) -> ParsedBlock:
    """Build the final block: attribution and cited works from its body."""
    spans, closers = quote_spans(raw.body)
    attributions = find_attributions(raw.body, closers)
    if raw.attribution and raw.attribution not in attributions:
        attributions.append(raw.attribution)  # stated by markup (a quotation's footer)
    return ParsedBlock(
        kind=raw.kind,
        body=raw.body,
        level=raw.level if raw.kind == HEADING else 0,
        section=section,
        quoted=raw.quoted,
        # Several attributions in one block are all kept, joined with "; ".
        attribution="; ".join(attributions),
        cited_works=find_cited_works(raw.body, spans, raw.marked_works),
        footnotes=list(raw.footnotes),
    )


class _SectionTracker:
    """Knows which heading each block falls under.

    Headings form a stack by level: a heading closes every open heading of
    the same or a deeper level. The title never opens a section, and a hard
    section break (``RawBlock.ends_section``) closes them all.
    """

    def __init__(self) -> None:
        self.open: list[tuple[int, str]] = []

    def section_for(self, block: RawBlock) -> str:
        """Return ``block``'s section and update the open headings."""
        if block.ends_section:
            self.open.clear()
        if block.is_title:
            return ""
        if block.kind == HEADING:
            while self.open and self.open[-1][0] >= block.level:
                self.open.pop()
            parent = self.open[-1][1] if self.open else ""
            self.open.append((block.level, block.body))
            return parent
        return self.open[-1][1] if self.open else ""
