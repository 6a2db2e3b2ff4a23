"""Read the text layer of a PDF into raw blocks.

pdfminer.six (MIT) lays out each page: characters with their font, size and
position, grouped into lines. This module then rebuilds the document a
person reads:

1. Lines in the top and bottom margins that repeat across pages (with their
   digits ignored) are running headers and footers; lone page numbers there
   go too.
2. The body size is the most common character size. A run of smaller lines
   at the foot of a page that opens with a note label ("1.", "*") is the
   page's footnotes; raised small digits in the text are their reference
   marks, kept out of the text.
3. A page whose lines fall into two columns (a band with at least three
   lines left of the middle and three right of it) is read column by column,
   band by band, so a full-width heading above two columns stays in place.
4. Lines join into paragraphs unless a wider gap, an indent, a change of
   font size or weight, or a short previous line (the next word would have
   fitted on it) says a new paragraph starts. End-of-line hyphens are
   undone (kept where the word is written with a hyphen elsewhere, where
   the producer marks soft hyphens differently, or before a capital).
5. Large or bold lines are headings (level by size); the first heading on
   the first page is the title. Other paragraphs follow the plain-text rules:
   opening with a quotation mark makes a quotation, a list marker a list item.

Bad input raises :class:`TextImportError`: encrypted (unless the password is
empty), damaged beyond repair, too many pages, a stream that decompresses
past the limit (decompression bomb), no text layer at all (a scan).
"""

from __future__ import annotations

import contextvars
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from itertools import pairwise

from pdfminer import lzw as pdfminer_lzw
from pdfminer import pdftypes
from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LAParams, LTAnno, LTChar, LTPage, LTTextContainer, LTTextLine
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1
from pdfminer.psexceptions import PSException
from pdfminer.utils import decode_text

from .model import HEADING, Footnote, RawBlock, TextImportError
from .plaintext import _item_body, _item_family, _text_block
from .textutil import normalise_space

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class PdfLimits:
    """How much a PDF may hold: pages, and bytes its streams decompress to."""

    max_pages: int = 2000
    max_decoded_bytes: int = 512 * 1024 * 1024


class DecompressionBomb(TextImportError):
    """A stream decompresses past the document's budget."""


# --- Decompression with a budget ------------------------------------------------------------
#
# pdfminer inflates every stream with zlib.decompress and LZW at once, with no
# limit, so a few kilobytes can unpack to gigabytes. Its module references are
# swapped (once, here) for versions that count against the budget of the
# document being read; outside a read (no budget set) they behave as before.

_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("pdf_decode_budget", default=None)
_CHUNK = 1024 * 1024


def _spend(amount: int) -> None:
    budget = _budget.get()
    if budget is None:
        return
    budget[0] -= amount
    if budget[0] < 0:
        raise DecompressionBomb(
            "The PDF's compressed streams unpack to more than the limit allows (a decompression bomb?); it is refused."
        )


class _BoundedZlib:
    """The parts of the zlib module pdfminer uses, decompressing within the budget."""

    error = zlib.error

    @staticmethod
    def decompressobj(*args, **kwargs):
        return zlib.decompressobj(*args, **kwargs)

    @staticmethod
    def decompress(data: bytes, *args, **kwargs) -> bytes:
        if _budget.get() is None:
            return zlib.decompress(data, *args, **kwargs)
        inflater = zlib.decompressobj()
        parts: list[bytes] = []
        chunk = inflater.decompress(data, _CHUNK)
        while True:
            _spend(len(chunk))
            parts.append(chunk)
            if not inflater.unconsumed_tail:
                break
            chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
        if not inflater.eof and not parts[-1] and len(data):
            # Truncated data: zlib.decompress would raise, and pdfminer then
            # falls back to its byte-by-byte recovery.
            raise zlib.error("incomplete or truncated stream")
        return b"".join(parts)


def _bounded_lzwdecode(data: bytes) -> bytes:
    parts: list[bytes] = []
    for chunk in pdfminer_lzw.LZWDecoder(BytesIO(data)).run():
        _spend(len(chunk))
        parts.append(chunk)
    return b"".join(parts)


pdftypes.zlib = _BoundedZlib  # type: ignore[assignment]
pdftypes.lzwdecode = _bounded_lzwdecode


# --- Lines ----------------------------------------------------------------------------------

_BOLD_RE = re.compile(r"bold|black|heavy|semibold|demi", re.I)
_MARKER_CHARS = frozenset("0123456789*†‡§¶")
_HYPHENS = "-\u2010\u00ad\u2011"
_PAGE_NUMBER_RE = re.compile(
    r"(?:page|p\.|seite|pág\.?)?\s*(?:\d{1,5}|[ivxlcdm]{1,8})(?:\s*(?:of|/|von|de)\s*\d{1,5})?", re.I
)
_NOTE_LABEL_RE = re.compile(r"(\d{1,3}|[*†‡§¶]{1,3})[.)]?\s+(?=\S)")
_WORD_RE = re.compile(r"[^\W\d_]+(?:[-\u2010][^\W\d_]+)*", re.UNICODE)
# Share of the page height at the top and at the bottom where running heads and folios live.
_MARGIN_ZONE = 0.12


@dataclass
class _Line:
    page: int
    x0: float
    x1: float
    top: float
    baseline: float
    size: float
    bold: bool
    text: str
    markers: list[str] = field(default_factory=list)
    column: str = "full"
    col_left: float = 0.0
    col_right: float = 0.0


@dataclass
class _Page:
    number: int
    height: float
    lines: list[_Line]
    chars: int


def _line_from(layout_line: LTTextLine, page: int) -> _Line | None:
    chars = [item for item in layout_line if isinstance(item, LTChar)]
    visible = [char for char in chars if char.get_text().strip()]
    if not visible:
        return None
    sizes = Counter(round(char.size, 1) for char in visible)
    size = sizes.most_common(1)[0][0]
    baselines = sorted(char.matrix[5] for char in visible if round(char.size, 1) == size)
    baseline = baselines[len(baselines) // 2]
    parts: list[str] = []
    markers: list[str] = []
    in_marker = False
    for item in layout_line:
        text = item.get_text()
        is_marker = (
            isinstance(item, LTChar)
            and text in _MARKER_CHARS
            and item.size <= 0.8 * size
            and item.matrix[5] > baseline + 0.15 * size
        )
        if is_marker:
            if in_marker:
                markers[-1] += text
            else:
                markers.append(text)
            in_marker = True
            continue
        in_marker = False
        if isinstance(item, (LTChar, LTAnno)):
            parts.append(text)
    body = normalise_space("".join(parts))
    if not body:
        return None
    bold = sum(1 for char in visible if _BOLD_RE.search(char.fontname or "")) >= 0.8 * len(visible)
    return _Line(
        page=page,
        x0=layout_line.x0,
        x1=layout_line.x1,
        top=layout_line.y1,
        baseline=baseline,
        size=size,
        bold=bold,
        text=body,
        markers=markers,
    )


def _page_lines(layout: LTPage, number: int) -> _Page:
    """The page's text lines: pdfminer's pieces merged into rows, split at a column gutter."""
    pieces: list[_Line] = []

    def visit(item) -> None:
        if isinstance(item, LTTextLine):
            line = _line_from(item, number)
            if line is not None:
                pieces.append(line)
        elif isinstance(item, LTTextContainer) or hasattr(item, "__iter__"):
            for child in item:
                if not isinstance(child, LTChar):
                    visit(child)

    visit(layout)
    rows = _rows(pieces)
    gutter = _gutter(rows)
    lines = [line for row in rows for line in _merge_row(row, gutter)]
    return _Page(number=number, height=layout.height, lines=lines, chars=sum(len(line.text) for line in lines))


def _rows(pieces: list[_Line]) -> list[list[_Line]]:
    """Pieces on one baseline (a raised reference mark included), left to right."""
    rows: list[list[_Line]] = []
    for piece in sorted(pieces, key=lambda piece: (-piece.baseline, piece.x0)):
        row = next(
            (
                row
                for row in rows[-3:]
                if abs(row[0].baseline - piece.baseline) <= 0.45 * max(row[0].size, piece.size)
                and not any(other.x0 < piece.x1 - 0.5 and piece.x0 < other.x1 - 0.5 for other in row)
            ),
            None,
        )
        if row is None:
            rows.append([piece])
            continue
        if piece.size <= 0.8 * row[0].size and piece.baseline > row[0].baseline and set(piece.text) <= _MARKER_CHARS:
            # A reference mark pdfminer set apart from its line.
            piece.markers = [piece.text]
            piece.text = ""
        row.append(piece)
    for row in rows:
        row.sort(key=lambda piece: piece.x0)
    return rows


def _gutter(rows: list[list[_Line]]) -> float | None:
    """The x of a gap between two columns that most rows leave empty, or None."""
    if len(rows) < 6:
        return None
    left = min(piece.x0 for row in rows for piece in row)
    right = max(piece.x1 for row in rows for piece in row)
    best, best_x = len(rows) + 1, None
    start, stop = int(left + 0.3 * (right - left)), int(left + 0.7 * (right - left))
    for x in range(start, stop + 1):
        covered = sum(1 for row in rows if any(piece.x0 <= x <= piece.x1 for piece in row))
        if covered < best:
            best, best_x = covered, x
    # A real gutter stays empty on at least half the rows: single-column text covers the middle.
    if best_x is None or best > 0.5 * len(rows):
        return None
    # The middle of the empty run around best_x.
    empty = [
        x
        for x in range(start, stop + 1)
        if sum(1 for row in rows if any(piece.x0 <= x <= piece.x1 for piece in row)) == best
    ]
    run = [x for x in empty if abs(x - best_x) <= len(empty)]
    return (min(run) + max(run)) / 2


def _merge_row(row: list[_Line], gutter: float | None) -> list[_Line]:
    """One line per row, or one per side of the gutter when the row does not cross it."""
    crossing = gutter is None or any(piece.x0 < gutter < piece.x1 for piece in row)
    groups = [row] if crossing else [[p for p in row if p.x1 <= gutter], [p for p in row if p.x0 >= gutter]]
    lines = []
    for group in groups:
        texts = [piece for piece in group if piece.text]
        if not texts:
            continue
        main = max(texts, key=lambda piece: len(piece.text))
        lines.append(
            _Line(
                page=main.page,
                x0=min(piece.x0 for piece in texts),
                x1=max(piece.x1 for piece in texts),
                top=max(piece.top for piece in texts),
                baseline=main.baseline,
                size=main.size,
                bold=all(piece.bold for piece in texts),
                text=" ".join(piece.text for piece in texts),
                markers=[marker for piece in group for marker in piece.markers],
                column="full" if crossing or gutter is None else ("left" if group[0].x1 <= gutter else "right"),
            )
        )
    return lines


# --- Opening the document -------------------------------------------------------------------


def _damaged(detail: str = "") -> TextImportError:
    suffix = f" ({detail})" if detail else ""
    return TextImportError(
        f"The PDF is damaged and cannot be read{suffix}. Save or print it to a new PDF and upload that."
    )


def _open(data: bytes) -> PDFDocument:
    if not data.lstrip()[:5].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise TextImportError("The file is not a PDF: it does not start with “%PDF-”.")
    try:
        document = PDFDocument(PDFParser(BytesIO(data)), password="")
    except PDFPasswordIncorrect:
        raise TextImportError(
            "The PDF is encrypted with a password. Remove the password (print or save it as a new PDF) and "
            "upload it again."
        ) from None
    except PDFEncryptionError as error:
        raise TextImportError(
            f"The PDF is encrypted in a way we cannot open ({error}). Save it without encryption and upload it again."
        ) from None
    except DecompressionBomb:
        raise
    except (PSException, ValueError, KeyError, TypeError, IndexError, AttributeError, zlib.error) as error:
        raise _damaged(_short(error)) from None
    if not document.catalog:
        raise _damaged("it has no document catalogue")
    return document


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 120 else text[:117] + "…"


def _metadata(document: PDFDocument) -> dict[str, str]:
    result: dict[str, str] = {}
    info = document.info[0] if document.info else {}
    for key, name in (("Title", "title"), ("Author", "author")):
        value = resolve1(info.get(key)) if isinstance(info, dict) else None
        if isinstance(value, bytes):
            value = decode_text(value)
        text = normalise_space(str(value)) if isinstance(value, str) else ""
        if text and not re.match(r"(untitled|microsoft word - |document\d*$)", text, re.I):
            result[name] = text[:300]
    language = resolve1(document.catalog.get("Lang")) if document.catalog else None
    if isinstance(language, bytes):
        language = decode_text(language)
    if isinstance(language, str) and normalise_space(language):
        result["language"] = normalise_space(language)[:35]
    return result


def _pages(document: PDFDocument, limits: PdfLimits) -> list[PDFPage]:
    pages: list[PDFPage] = []
    try:
        for page in PDFPage.create_pages(document):
            pages.append(page)
            if len(pages) > limits.max_pages:
                raise TextImportError(
                    f"The PDF has more than {limits.max_pages:,} pages, the most we import at once. "
                    "Split it into parts and import those."
                )
    except TextImportError:
        raise
    except (PSException, ValueError, KeyError, TypeError, IndexError, AttributeError, zlib.error) as error:
        raise _damaged(_short(error)) from None
    if not pages:
        raise _damaged("it has no pages")
    return pages


# --- Reading --------------------------------------------------------------------------------


@dataclass
class PdfResult:
    title: str
    blocks: list[RawBlock]
    notices: list[str]
    metadata: dict[str, str]


def inspect_pdf(data: bytes, limits: PdfLimits | None = None) -> tuple[dict[str, str], int]:
    """The PDF's metadata and page count, without laying out any page."""
    limits = limits or PdfLimits()
    token = _budget.set([limits.max_decoded_bytes])
    try:
        document = _open(data)
        return _metadata(document), len(_pages(document, limits))
    finally:
        _budget.reset(token)


def read_pdf(data: bytes, *, limits: PdfLimits | None = None, on_progress: ProgressCallback | None = None) -> PdfResult:
    """Rebuild the text of a PDF as raw blocks (see the module docstring for the rules).

    Guarantees: no running header, footer or page number in any body; no
    footnote reference mark in the text; a footnote whose mark is found on
    its page is a footnote of the block holding the mark (the others are
    left out, with a notice); the title (the first page's first heading) is
    block 0. ``on_progress(pages done, pages)`` is called after each page.
    Raises :class:`TextImportError` for encrypted, damaged, over-long or
    bomb-like PDFs and for a PDF without a text layer.
    """
    limits = limits or PdfLimits()
    token = _budget.set([limits.max_decoded_bytes])
    try:
        document = _open(data)
        metadata = _metadata(document)
        pdf_pages = _pages(document, limits)
        pages = _layout(pdf_pages, on_progress)
    finally:
        _budget.reset(token)
    with_text = [page for page in pages if page.chars >= 20]
    if not with_text:
        raise TextImportError(
            "This PDF has no text layer: it looks like a scan (pictures of pages). Run it through OCR first "
            "(for example OCRmyPDF) and upload the result, or paste the text."
        )
    notices = []
    if empty := len(pages) - len(with_text):
        notices.append(f"{empty} of {len(pages)} pages have no text layer (scanned pages?) and were skipped.")
    return _Rebuilder(pages, metadata, notices).result()


def _layout(pdf_pages: list[PDFPage], on_progress: ProgressCallback | None) -> list[_Page]:
    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(
        resources, laparams=LAParams(char_margin=1.0, line_margin=0.5, all_texts=True, boxes_flow=None)
    )
    interpreter = PDFPageInterpreter(resources, device)
    pages: list[_Page] = []
    for number, pdf_page in enumerate(pdf_pages, start=1):
        try:
            interpreter.process_page(pdf_page)
            layout = device.get_result()
        except TextImportError:
            raise
        except (PSException, ValueError, KeyError, TypeError, IndexError, AttributeError, zlib.error) as error:
            raise _damaged(f"page {number}: {_short(error)}") from None
        pages.append(_page_lines(layout, number))
        if on_progress is not None:
            on_progress(number, len(pdf_pages))
    return pages


def _normalised(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


class _Rebuilder:
    """Turns the lines of every page into raw blocks."""

    def __init__(self, pages: list[_Page], metadata: dict[str, str], notices: list[str]) -> None:
        self.pages = pages
        self.metadata = metadata
        self.notices = notices
        self.notes: dict[tuple[int, str], str] = {}
        self.placed: set[tuple[int, str]] = set()

    def result(self) -> PdfResult:
        self._drop_running_heads()
        all_lines = [line for page in self.pages for line in page.lines]
        if not all_lines:
            raise TextImportError("The PDF has no readable text.")
        sizes = Counter()
        for line in all_lines:
            sizes[line.size] += len(line.text)
        self.body_size = sizes.most_common(1)[0][0]
        for page in self.pages:
            self._take_footnotes(page)
        ordered = [line for page in self.pages for line in self._reading_order(page)]
        self.distinguishes_hyphens = any(line.text[-1] in "\u2010\u00ad" for line in ordered)
        self.vocabulary = self._vocabulary(ordered)
        paragraphs = self._paragraphs(ordered)
        blocks = self._blocks(paragraphs)
        if left_out := len(self.notes) - len(self.placed & set(self.notes)):
            plural = "s" if left_out != 1 else ""
            self.notices.append(
                f"Left out {left_out} footnote{plural} whose reference mark was not found on their page."
            )
        title = blocks[0].body if blocks and blocks[0].is_title else self.metadata.get("title", "")
        return PdfResult(title=title, blocks=blocks, notices=self.notices, metadata=self.metadata)

    # -- 1. running heads, feet and page numbers

    def _drop_running_heads(self) -> None:
        counts: Counter[str] = Counter()
        zone_lines: list[tuple[_Page, _Line, str]] = []
        for page in self.pages:
            seen: set[str] = set()
            for line in page.lines:
                if line.top >= page.height * (1 - _MARGIN_ZONE) or line.top <= page.height * _MARGIN_ZONE:
                    key = ("top:" if line.top >= page.height / 2 else "bottom:") + _normalised(line.text)
                    zone_lines.append((page, line, key))
                    if key not in seen:
                        counts[key] += 1
                        seen.add(key)
        needed = 2 if len(self.pages) <= 3 else 3
        drop: set[int] = set()
        for _page, line, key in zone_lines:
            if counts[key] >= needed or _PAGE_NUMBER_RE.fullmatch(line.text.strip(" -–—·|")):
                drop.add(id(line))
        for page in self.pages:
            page.lines = [line for line in page.lines if id(line) not in drop]

    # -- 2. footnotes at the foot of a page

    def _take_footnotes(self, page: _Page) -> None:
        if not page.lines:
            return
        by_height = sorted(page.lines, key=lambda line: -line.top)
        run: list[_Line] = []
        for line in reversed(by_height):
            if line.size > 0.9 * self.body_size:
                break
            run.insert(0, line)
        if not run or len(run) == len(by_height) or not _NOTE_LABEL_RE.match(run[0].text):
            return
        marks = {marker for line in page.lines for marker in line.markers}
        notes: list[tuple[str, list[str]]] = []
        for line in run:
            match = _NOTE_LABEL_RE.match(line.text)
            if match and (not notes or match.group(1) in marks):
                notes.append((match.group(1), [line.text[match.end() :]]))
            else:
                notes[-1][1].append(line.text)
        for label, texts in notes:
            self.notes[(page.number, label)] = self._join_texts(texts)
        taken = {id(line) for line in run}
        page.lines = [line for line in page.lines if id(line) not in taken]

    # -- 3. reading order

    def _reading_order(self, page: _Page) -> list[_Line]:
        lines = sorted(page.lines, key=lambda line: (-line.top, line.x0))
        if not lines:
            return []
        left = min(line.x0 for line in lines)
        right = max(line.x1 for line in lines)
        for line in lines:
            line.col_left, line.col_right = left, right
        ordered: list[_Line] = []
        band: list[_Line] = []
        for line in [*lines, None]:
            if line is None or line.column == "full":
                ordered.extend(self._band_order(band))
                band = []
                if line is not None:
                    ordered.append(line)
            else:
                band.append(line)
        return ordered

    def _band_order(self, band: list[_Line]) -> list[_Line]:
        left = [line for line in band if line.column == "left"]
        right = [line for line in band if line.column == "right"]
        if len(left) < 3 or len(right) < 3:
            for line in band:
                line.column = "full"
            return band
        for column in (left, right):
            column_left = min(line.x0 for line in column)
            column_right = max(line.x1 for line in column)
            for line in column:
                line.col_left, line.col_right = column_left, column_right
        return left + right

    # -- 4. paragraphs

    def _is_heading_line(self, line: _Line) -> bool:
        return line.size >= 1.12 * self.body_size or (line.bold and len(line.text) <= 120)

    def _style(self, line: _Line) -> tuple:
        if self._is_heading_line(line):
            return ("heading", round(line.size * 2) / 2, line.bold)
        if line.size <= 0.9 * self.body_size:
            return ("small",)
        return ("body",)

    def _paragraphs(self, lines: list[_Line]) -> list[list[_Line]]:
        pitches = Counter(
            round(previous.baseline - line.baseline, 1)
            for previous, line in pairwise(lines)
            if previous.page == line.page
            and previous.column == line.column
            and previous.size == line.size == self.body_size
            and 0 < previous.baseline - line.baseline < 3 * self.body_size
        )
        self.pitch = pitches.most_common(1)[0][0] if pitches else 1.2 * self.body_size
        paragraphs: list[list[_Line]] = []
        for line in lines:
            if paragraphs and not self._starts_paragraph(paragraphs[-1][-1], line, paragraphs[-1]):
                paragraphs[-1].append(line)
            else:
                paragraphs.append([line])
        return paragraphs

    def _starts_paragraph(self, previous: _Line, line: _Line, paragraph: list[_Line]) -> bool:
        if self._style(previous) != self._style(line):
            return True
        if previous.text[-1] in _HYPHENS and previous.text[-2:-1].isalpha() and line.text[0].islower():
            return False  # a word broken across the line end, page or column
        heading = self._style(line)[0] == "heading"
        same_column = previous.page == line.page and previous.column == line.column
        if same_column:
            gap = previous.baseline - line.baseline
            expected = self.pitch * line.size / self.body_size
            if gap > 1.3 * expected or gap < 0:
                return True
            if heading:
                return False
            if line.x0 > previous.x0 + 0.8 * line.size:
                return True  # a first-line indent, or a quotation set in
        elif heading:
            return False
        elif line.x0 > line.col_left + 0.8 * line.size and (
            len(paragraph) == 1 or abs(line.x0 - paragraph[0].x0) > 0.8 * line.size
        ):
            return True  # indented at the top of a column or page
        # The previous line ended short: the next word would have fitted on it.
        first_word = line.text.split(" ", 1)[0]
        char_width = (line.x1 - line.x0) / max(len(line.text), 1)
        room = previous.col_right - previous.x1
        return room > (len(first_word) + 1.5) * char_width

    # -- 5. blocks

    def _vocabulary(self, lines: list[_Line]) -> set[str]:
        words: set[str] = set()
        for line in lines:
            tokens = _WORD_RE.findall(line.text)
            if line.text[-1:] in _HYPHENS and tokens:
                tokens = tokens[:-1]  # a word broken at the line end is not a word
            words.update(token.lower() for token in tokens)
        return words

    def _join_texts(self, texts: list[str]) -> str:
        body = ""
        for text in texts:
            body = self._join(body, text) if body else text
        return normalise_space(body)

    def _join(self, left: str, right: str) -> str:
        """Join two lines of a paragraph, undoing end-of-line hyphenation."""
        hyphen = left[-1:]
        if hyphen not in _HYPHENS or len(left) < 2 or not left[-2].isalpha() or not right[:1].isalpha():
            if hyphen in _HYPHENS and right[:1].isdigit():
                return left + right  # "1917-|1918"
            return f"{left} {right}"
        head = _WORD_RE.findall(left[:-1])
        tail = _WORD_RE.findall(right)
        head_word = head[-1] if head else ""
        tail_word = tail[0] if tail else ""
        if hyphen == "\u00ad":
            return left[:-1] + right
        if self.distinguishes_hyphens:
            # The producer marks its own breaks (U+2010, soft hyphen): "-" is the author's.
            return left + right if hyphen == "-" else left[:-1] + right
        if right[0].isupper() and not head_word.isupper():
            return left + right  # "anti-|Soviet", "Austro-|German"
        joined = (head_word + tail_word).lower()
        hyphenated = f"{head_word}-{tail_word}".lower()
        if hyphenated in self.vocabulary and joined not in self.vocabulary:
            return left + right
        return left[:-1] + right

    def _blocks(self, paragraphs: list[list[_Line]]) -> list[RawBlock]:
        heading_sizes = sorted(
            {lines[0].size for lines in paragraphs if self._style(lines[0])[0] == "heading"}, reverse=True
        )
        blocks: list[RawBlock] = []
        first_page = paragraphs[0][0].page if paragraphs else 1
        for index, lines in enumerate(paragraphs):
            body = self._join_texts([line.text for line in lines])
            if not body:
                continue
            footnotes = []
            for line in lines:
                for marker in line.markers:
                    key = (line.page, marker)
                    if key in self.notes and key not in self.placed:
                        self.placed.add(key)
                        footnotes.append(Footnote(label=marker, body=self.notes[key]))
            if self._style(lines[0])[0] == "heading" and len(body) <= 300:
                level = min(6, heading_sizes.index(lines[0].size) + 1)
                is_title = not blocks and lines[0].page == first_page and index == 0 and level == 1
                if not is_title and level == 1:
                    level = 2
                blocks.append(RawBlock(kind=HEADING, body=body, level=level, is_title=is_title, footnotes=footnotes))
                continue
            listed = _item_family(body) is not None
            block = _text_block(_item_body(body) if listed else body, list_item=listed)
            block.footnotes = footnotes
            blocks.append(block)
        return blocks
