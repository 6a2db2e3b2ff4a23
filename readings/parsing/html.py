"""Split an HTML or XHTML page into raw blocks.

The page is parsed with BeautifulSoup (lxml's HTML parser, which copes with
XHTML: the XML declaration, namespaced ``epub:type`` attributes and ``<br/>``).
Non-content elements are marked first (scripts, navigation, page headers and
footers, page breaks, footnote bodies and footnote reference markers) — the
tree is never modified, because BeautifulSoup's tree edits cost time in
proportion to the number of siblings — then the tree is walked in document
order, skipping what was marked: headings, ``hgroup``, paragraphs,
list items and the text directly inside containers become blocks; every
block inside a ``blockquote`` is quoted. A note whose reference marker is in
a block becomes one of that block's footnotes (the marker itself is not
text); an EPUB's endnotes in another file are found through ``resolve``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData

from .model import HEADING, LIST_ITEM, PARAGRAPH, QUOTATION, Footnote, RawBlock, TextImportError
from .textutil import normalise_space, strip_control_chars, word_set

# Elements that never hold readable text of the document.
_DROP_TAGS = word_set(
    """
    script style noscript template form button svg iframe nav object embed canvas select
    textarea input head link meta
    """
)
# A header/footer inside one of these belongs to the content (Standard Ebooks
# keeps a chapter's hgroup in its section's <header>); elsewhere it is the
# page's banner or footer.
_CONTENT_SECTIONS = frozenset({"article", "section", "main", "blockquote", "figure"})

_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements whose text is one block.
_TEXT_BLOCK_TAGS = frozenset({"p", "pre", "address", "figcaption", "caption", "summary", "dt", "legend"})
# Elements that structure the page; any other element is inline.
_BLOCK_TAGS = (
    _HEADING_TAGS
    | _TEXT_BLOCK_TAGS
    | word_set(
        """
        html body div section article main aside header footer blockquote ul ol dl dd li hgroup
        figure table thead tbody tfoot tr td th center details fieldset hr menu dialog search
        """
    )
)
# Lists and quotations nested in a list item are blocks of their own.
_NESTED_IN_ITEM = frozenset({"ul", "ol", "dl", "blockquote", "table", "pre"})

# Footnote and endnote bodies (EPUB 3 structural semantics and DPUB-ARIA).
_NOTE_TYPES = frozenset({"footnote", "footnotes", "endnote", "endnotes", "rearnote", "rearnotes", "note"})
_NOTE_ROLES = frozenset({"doc-endnotes", "doc-footnote", "doc-endnote"})
_NOTE_CLASSES = frozenset({"footnotes", "endnotes"})
# One note (rather than a list of them).
_SINGLE_NOTE_TYPES = frozenset({"footnote", "endnote", "rearnote", "note"})
_SINGLE_NOTE_ROLES = frozenset({"doc-footnote", "doc-endnote"})
# The link from a note back to its reference: "↩", "^", "Back".
_BACKLINK_TEXTS = frozenset({"↩", "↩︎", "↑", "^", "⮐", "back", "return"})
# Text of a footnote reference marker: "1", "12", "*", "†", "[3]", "(4)".
_MARKER_TEXT_RE = re.compile(r"[\[(]?(?:\d{1,4}[a-z]?|[*†‡§¶#]{1,3})[\])]?")
_NUMERIC_MARKER_RE = re.compile(r"[\[(]?\d{1,4}[a-z]?[\])]?")
# Links to notes: "#fn1", "#note-3", "endnotes.xhtml#note-1", "#_ftn2".
_NOTE_HREF_RE = re.compile(r"(?:#_?(?:fn|ftn|note|footnote|endnote)|endnotes)", re.I)
# "se:name.publication.book", "se:name.publication.essay", …
_PUBLICATION_TYPE_RE = re.compile(r"\bse:name\.publication\b|\bpublication\b")
_WORK_CLASS_RE = re.compile(r"title|publication|work", re.I)

# Below this depth a container's whole subtree becomes one paragraph, which
# keeps the recursive block walk far from Python's recursion limit. Real
# documents are a few dozen levels deep.
_MAX_DEPTH = 150

# Sentinels used while collecting text; control characters are stripped
# from the page text first so they cannot collide with real content.
_MARKER = "\x00"  # a removed footnote marker (tidies the space before it)
_WORK_OPEN = "\x01"  # start of a <cite> or publication title
_WORK_CLOSE = "\x02"
_SENTINEL_RE = re.compile("(\x00+|\x01|\x02)")
_PUNCTUATION_AFTER_MARKER = frozenset(".,;:!?)]”’\"'")
_TITLE_EDGE_CHARS = " “”‘’\"'«»"
# Dashes that introduce a quotation's source: "— Author, Work".
_ATTRIBUTION_DASHES = "—–-―~ "
# An XHTML file's XML declaration; the HTML parser does not need it (and
# BeautifulSoup warns about it), so it is removed before parsing.
_XML_DECLARATION_RE = re.compile(r"\s*<\?xml[^>]*\?>")


@dataclass
class HtmlResult:
    """What the HTML reader found: the title, raw blocks and notices."""

    title: str
    blocks: list[RawBlock]
    notices: list[str]


def _tokens(tag: Tag, attribute: str) -> set[str]:
    """The white-space separated values of ``attribute`` on ``tag``."""
    value = tag.get(attribute)
    if value is None:
        return set()
    if isinstance(value, list):
        return {token.lower() for token in value}
    return set(str(value).lower().split())


def _is_note_body(tag: Tag) -> bool:
    """True for a footnote/endnote body or a container of them."""
    types = {token.rsplit(":", 1)[-1] for token in _tokens(tag, "epub:type")}
    if tag.name == "a" or tag.name == "sup":
        return False  # references, handled as markers
    if types & _NOTE_TYPES or _tokens(tag, "role") & _NOTE_ROLES:
        return True
    return tag.name in ("section", "div", "ol", "aside") and bool(_tokens(tag, "class") & _NOTE_CLASSES)


def _is_single_note(tag: Tag) -> bool:
    types = {token.rsplit(":", 1)[-1] for token in _tokens(tag, "epub:type")}
    return bool(types & _SINGLE_NOTE_TYPES or _tokens(tag, "role") & _SINGLE_NOTE_ROLES)


def _single_notes(tag: Tag) -> list[Tag]:
    """The notes a dropped note element holds (at least itself).

    Notes marked as such (``epub:type="endnote"``…) are the notes; failing
    that, the items of its list, not counting lists inside a note.
    """
    if _is_single_note(tag):
        return [tag]
    marked = [child for child in tag.find_all(True) if _is_single_note(child)]
    within_marked = {id(inner) for note in marked for inner in note.find_all("li")}
    items = [
        item
        for item in tag.find_all("li")
        if not _inside_item(item, tag) and id(item) not in within_marked and not _is_single_note(item)
    ]
    return marked + items or [tag]


def _is_backlink(tag: Tag) -> bool:
    """True for the link from a note back to its reference marker."""
    types = {token.rsplit(":", 1)[-1] for token in _tokens(tag, "epub:type")}
    if "backlink" in types or "doc-backlink" in _tokens(tag, "role"):
        return True
    if any("back" in token for token in _tokens(tag, "class")):
        return True
    return tag.get_text().strip().lower() in _BACKLINK_TEXTS


def _inside_item(item: Tag, container: Tag) -> bool:
    """True when ``item`` sits in another ``li`` below ``container``."""
    for parent in item.parents:
        if parent is container:
            return False
        if parent.name == "li":
            return True
    return False


def _is_marker_text(text: str, *, numeric_only: bool = False) -> bool:
    """True when ``text`` is just a footnote marker such as "1" or "[3]"."""
    text = text.strip()
    pattern = _NUMERIC_MARKER_RE if numeric_only else _MARKER_TEXT_RE
    return bool(text) and bool(pattern.fullmatch(text))


def _is_note_reference(tag: Tag) -> bool:
    """True for an inline footnote reference marker that must not be read."""
    if tag.name == "a":
        types = {token.rsplit(":", 1)[-1] for token in _tokens(tag, "epub:type")}
        if "noteref" in types or "doc-noteref" in _tokens(tag, "role"):
            return True
        href = str(tag.get("href", ""))
        return bool(_NOTE_HREF_RE.search(href)) and _is_marker_text(tag.get_text(), numeric_only=True)
    if tag.name == "sup":
        return _is_marker_text(tag.get_text())
    return False


def _is_page_furniture(tag: Tag, in_content: bool) -> bool:
    """True for a page-level header/footer or a page-break marker.

    ``in_content`` says whether ``tag`` lies inside an article, section,
    main, blockquote or figure, where a header/footer is content.
    """
    if tag.name in ("header", "footer"):
        return not in_content
    types = {token.rsplit(":", 1)[-1] for token in _tokens(tag, "epub:type")}
    return "pagebreak" in types or "doc-pagebreak" in _tokens(tag, "role")


@dataclass
class _Pruned:
    """What the reader skips: ids of dropped elements and of note markers.

    ``notes`` lists every note body found (each one note), ``notes_by_id``
    those a reference marker can point at.
    """

    dropped: set[int]
    markers: set[int]
    notes: list[Tag] = field(default_factory=list)
    notes_by_id: dict[str, Tag] = field(default_factory=dict)


def _prune(soup: BeautifulSoup) -> _Pruned:
    """Mark non-content elements of ``soup`` and collect the notes.

    Works in one pass in document order: whether a tag lies inside a dropped
    element or inside content (for headers/footers) is inherited from its
    parent, so no tag walks up its ancestors.
    """
    pruned = _Pruned(dropped=set(), markers=set())
    in_dropped: set[int] = set()
    in_content: set[int] = set()
    for tag in soup.find_all(True):
        parent_id = id(tag.parent)
        if parent_id in in_dropped:
            in_dropped.add(id(tag))
            continue
        if parent_id in in_content or (tag.parent is not None and tag.parent.name in _CONTENT_SECTIONS):
            in_content.add(id(tag))
        if tag.name in _DROP_TAGS or _is_page_furniture(tag, id(tag) in in_content):
            pruned.dropped.add(id(tag))
        elif _is_note_body(tag):
            for note in _single_notes(tag):
                pruned.notes.append(note)
                if note_id := note.get("id"):
                    pruned.notes_by_id.setdefault(str(note_id), note)
            pruned.dropped.add(id(tag))
        elif _is_note_reference(tag):
            pruned.markers.add(id(tag))
        else:
            continue
        in_dropped.add(id(tag))
    return pruned


def _is_work_title(tag: Tag) -> bool:
    """True for ``<cite>`` and ``<i>``/``<em>`` marked as a publication."""
    if tag.name == "cite":
        return True
    if tag.name not in ("i", "em", "span"):
        return False
    if any(_PUBLICATION_TYPE_RE.search(token) for token in _tokens(tag, "epub:type")):
        return True
    return tag.name != "span" and any(_WORK_CLASS_RE.search(token) for token in _tokens(tag, "class"))


class _Literal(str):
    """Text the walk itself adds: spaces, sentinels, quotation marks."""

    __slots__ = ()


def _wrappers(tag: Tag, q_level: int) -> tuple[list[str], list[str]]:
    """What to add before and after the text of ``tag``.

    Block elements are set off by spaces, work titles by sentinels, and
    ``<q>`` gets the quotation marks a browser would draw (‘’ when nested).
    """
    before: list[str] = []
    after: list[str] = []
    if tag.name in _BLOCK_TAGS:
        before.append(" ")
        after.append(" ")
    if _is_work_title(tag):
        before.append(_WORK_OPEN)
        after.insert(0, _WORK_CLOSE)
    if tag.name == "q":
        before.append("‘" if q_level else "“")
        after.insert(0, "’" if q_level else "”")
    return before, after


def _collect(root: object, parts: list[str], pruned: _Pruned, refs: list[Tag] | None = None) -> None:
    """Append the readable text under ``root`` to ``parts``, with sentinels.

    Dropped elements below ``root`` are skipped (``root`` itself is read even
    when dropped: that is how a quotation reads its own caption) and note
    markers become ``_MARKER`` (and are appended to ``refs``).
    Iterative (an explicit stack) so that deeply nested markup cannot hit
    the recursion limit.
    """
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack:
        node, q_level = stack.pop()
        if type(node) is _Literal:
            parts.append(node)
        elif isinstance(node, NavigableString):
            # Comments, processing instructions and doctypes are not text.
            if type(node) is NavigableString or isinstance(node, CData):
                parts.append(strip_control_chars(str(node)))
        elif isinstance(node, Tag):
            if id(node) in pruned.dropped and node is not root:
                continue
            if id(node) in pruned.markers:
                parts.append(_MARKER)
                if refs is not None:
                    refs.append(node)
                continue
            if node.name == "br":
                parts.append(" ")
                continue
            if node.name == "img":
                continue
            before, after = _wrappers(node, q_level)
            parts.extend(before)
            stack.extend((_Literal(text), 0) for text in reversed(after))
            inner_level = q_level + (node.name == "q")
            stack.extend((child, inner_level) for child in reversed(node.contents))


def _finish(raw: str) -> tuple[str, list[tuple[int, str]]]:
    """Normalise collected text and resolve the sentinels.

    Returns the body and the works marked in it as ``(offset, title)``. A
    removed footnote marker takes the space before following punctuation
    with it ("word <sup>1</sup>." reads "word.").
    """
    text = normalise_space(raw)
    if not any(sentinel in text for sentinel in (_MARKER, _WORK_OPEN, _WORK_CLOSE)):
        return text, []
    out: list[str] = []
    length = 0
    opens: list[tuple[int, int]] = []  # (offset in body, index in out)
    works: list[tuple[int, str]] = []
    after_marker = False
    for piece in _SENTINEL_RE.split(text):
        if not piece:
            continue
        if piece[0] == _MARKER:
            after_marker = True
            continue
        if piece == _WORK_OPEN:
            opens.append((length, len(out)))
            continue
        if piece == _WORK_CLOSE:
            if opens:
                start, first_piece = opens.pop()
                title = normalise_space("".join(out[first_piece:])).strip(_TITLE_EDGE_CHARS)
                if title:
                    works.append((start, title))
            continue
        ends_with_space = not out or out[-1].endswith(" ")
        if after_marker and out and out[-1].endswith(" ") and piece[0] in _PUNCTUATION_AFTER_MARKER:
            out[-1] = out[-1][:-1]
            length -= 1
        elif piece.startswith(" ") and ends_with_space:
            piece = piece[1:]
        after_marker = False
        if piece:
            out.append(piece)
            length += len(piece)
    body = "".join(out).strip()
    works.sort(key=lambda item: item[0])
    return body, works


def _text_of(
    nodes: Iterable[object], pruned: _Pruned, refs: list[Tag] | None = None
) -> tuple[str, list[tuple[int, str]]]:
    """The normalised text of ``nodes`` and the works marked in it."""
    parts: list[str] = []
    for node in nodes:
        _collect(node, parts, pruned, refs)
    return _finish("".join(parts))


def _marker_label(marker: Tag) -> str:
    """The printed mark of a note reference: "1" for "[1]" or "(1)"."""
    return normalise_space(marker.get_text()).strip("[]() ")


# A resolver maps a reference marker's href ("endnotes.xhtml#note-1") to
# the note's text, for notes that live in another file of the same book.
NoteResolver = Callable[[str], "str | None"]


def _hgroup_text(tag: Tag, pruned: _Pruned) -> tuple[str, int]:
    """One heading for an ``hgroup``: its parts joined with ": ".

    Standard Ebooks writes ``<h2 epub:type="ordinal">IV</h2><p
    epub:type="title">The Storm</p>``; that reads "IV: The Storm". The level
    is that of the highest-ranked heading inside (2 when there is none).
    """
    texts: list[str] = []
    level = 0
    for child in tag.find_all(True, recursive=False):
        text, _ = _text_of([child], pruned)
        if text:
            texts.append(text)
        if child.name in _HEADING_TAGS:
            rank = int(child.name[1])
            level = rank if not level else min(level, rank)
    if not texts:
        text, _ = _text_of(tag.children, pruned)
        texts = [text] if text else []
    return ": ".join(texts), level or 2


def _is_inline(node: object) -> bool:
    """True for text and inline elements (anything that is not a block)."""
    if isinstance(node, Tag):
        return node.name not in _BLOCK_TAGS
    return isinstance(node, NavigableString)


class _Walker:
    """Walks the tree, skipping pruned elements, and emits raw blocks in order."""

    def __init__(self, pruned: _Pruned, footnote_for: Callable[[Tag], Footnote | None]) -> None:
        self.pruned = pruned
        self.footnote_for = footnote_for
        self.blocks: list[RawBlock] = []
        # Captions of figures, keyed by id() of the blockquote they attribute.
        self.captions: dict[int, Tag] = {}
        self.depth = 0

    def emit(self, kind: str, nodes: Iterable[object], quoted: bool, level: int = 0) -> None:
        """Emit one block from ``nodes`` unless it has no text."""
        refs: list[Tag] = []
        body, works = _text_of(nodes, self.pruned, refs)
        if not body:
            return
        if quoted and kind in (PARAGRAPH, HEADING):
            kind, level = QUOTATION, 0
        footnotes: list[Footnote] = []
        for ref in refs:
            note = self.footnote_for(ref)
            if note is not None and note not in footnotes:
                footnotes.append(note)
        self.blocks.append(
            RawBlock(kind=kind, body=body, level=level, quoted=quoted, marked_works=works, footnotes=footnotes)
        )

    def container(self, tag: Tag, quoted: bool) -> None:
        """Walk a container: runs of inline content become paragraphs."""
        run: list[object] = []
        for child in tag.children:
            if isinstance(child, Tag) and id(child) in self.pruned.dropped:
                continue
            if _is_inline(child):
                if isinstance(child, Tag) and child.name == "br" and run and _ends_with_br(run):
                    # Two <br> in a row separate paragraphs in old-style HTML.
                    self.emit(PARAGRAPH, run, quoted)
                    run = []
                    continue
                run.append(child)
            elif isinstance(child, Tag):
                self.emit(PARAGRAPH, run, quoted)
                run = []
                self.block(child, quoted)
        self.emit(PARAGRAPH, run, quoted)

    def block(self, tag: Tag, quoted: bool) -> None:
        """Emit the blocks of one block-level element."""
        if self.depth >= _MAX_DEPTH:
            # Absurdly deep markup: read the rest of this subtree as one block.
            self.emit(PARAGRAPH, [tag], quoted)
            return
        self.depth += 1
        try:
            self._dispatch(tag, quoted)
        finally:
            self.depth -= 1

    def _dispatch(self, tag: Tag, quoted: bool) -> None:
        """Route ``tag`` to the reader for its element type."""
        name = tag.name
        if name in _HEADING_TAGS:
            self.emit(HEADING, [tag], quoted, level=int(name[1]))
        elif name == "hgroup":
            self.hgroup(tag, quoted)
        elif name in _TEXT_BLOCK_TAGS:
            self.emit(PARAGRAPH, [tag], quoted)
        elif name == "li":
            self.list_item(tag, quoted)
        elif name == "blockquote":
            self.blockquote(tag)
        elif name == "figure":
            self.figure(tag, quoted)
        elif name == "hr":
            return  # a scene break, not a passage
        else:
            self.container(tag, quoted)

    def hgroup(self, tag: Tag, quoted: bool) -> None:
        """Emit an ``hgroup`` as one heading block."""
        body, level = _hgroup_text(tag, self.pruned)
        if not body:
            return
        if quoted:
            self.blocks.append(RawBlock(kind=QUOTATION, body=body, quoted=True))
        else:
            self.blocks.append(RawBlock(kind=HEADING, body=body, level=level))

    def list_item(self, tag: Tag, quoted: bool) -> None:
        """Emit a list item, then any list or quotation nested in it."""
        own = [child for child in tag.children if not (isinstance(child, Tag) and child.name in _NESTED_IN_ITEM)]
        self.emit(LIST_ITEM, own, quoted)
        for child in tag.children:
            if isinstance(child, Tag) and child.name in _NESTED_IN_ITEM and id(child) not in self.pruned.dropped:
                self.block(child, quoted)

    def blockquote(self, tag: Tag) -> None:
        """Emit a quotation, every block in it quoted.

        Its source — a ``<footer>`` or a closing ``<cite>`` inside it, or the
        ``<figcaption>`` of a ``<figure>`` around it — becomes the attribution
        of its last block rather than a block of its own.
        """
        sources = tag.find_all("footer", recursive=False)
        last_child = tag.find_all(True, recursive=False)[-1:] or [None]
        if last_child[0] is not None and last_child[0].name == "cite":
            sources.append(last_child[0])
        caption = self.captions.pop(id(tag), None)
        if caption is not None:
            sources.append(caption)
        attribution, works = "", []
        for source in sources:
            text, found = _text_of([source], self.pruned)
            attribution = attribution or text.lstrip(_ATTRIBUTION_DASHES).strip()
            works.extend(found)
            self.pruned.dropped.add(id(source))  # read here, not as a block
        first = len(self.blocks)
        self.container(tag, quoted=True)
        if attribution and len(self.blocks) > first:
            last = self.blocks[-1]
            last.attribution = last.attribution or attribution
            last.marked_works.extend((len(last.body), title) for _, title in works)

    def figure(self, tag: Tag, quoted: bool) -> None:
        """Walk a figure; a quotation's caption becomes its attribution."""
        quote = tag.find("blockquote", recursive=False)
        caption = tag.find("figcaption", recursive=False)
        if quote is not None and caption is not None:
            self.captions[id(quote)] = caption
            self.pruned.dropped.add(id(caption))
        self.container(tag, quoted)


def _ends_with_br(run: list[object]) -> bool:
    """True when the last non-blank node of ``run`` is a ``<br>``."""
    for node in reversed(run):
        if isinstance(node, Tag):
            return node.name == "br"
        if str(node).strip():
            return False
    return False


def _page_title(soup: BeautifulSoup) -> str:
    """The text of the page's ``<title>``, or ""."""
    # Prefer the <head> title: an inline SVG may carry a <title> of its own.
    tag = soup.head.find("title") if soup.head else None
    tag = tag or soup.find("title")
    return normalise_space(tag.get_text()) if tag else ""


class HtmlPage:
    """One parsed HTML/XHTML page: its notes can be looked up before it is read.

    An EPUB reads its chapters as pages; a chapter's note references may
    point at the endnotes page, so every page's notes are available (by
    ``id``) through :meth:`note_text` before any page is read.
    """

    def __init__(self, text: str) -> None:
        text = strip_control_chars(text)
        declaration = _XML_DECLARATION_RE.match(text)
        if declaration:
            text = text[declaration.end() :]
        self.soup = BeautifulSoup(text, "lxml")
        self.title = _page_title(self.soup)
        self.pruned = _prune(self.soup)
        # ids of this page's notes that a marker (here or in another page) referred to
        self.referenced: set[str] = set()
        self._texts: dict[str, str] = {}

    @property
    def note_count(self) -> int:
        return len(self.pruned.notes)

    @property
    def unreferenced_notes(self) -> int:
        """Notes no marker referred to (notes without an id cannot be referred to)."""
        return sum(1 for note in self.pruned.notes if str(note.get("id") or "") not in self.referenced)

    def note_text(self, note_id: str) -> str | None:
        """The plain text of the note with this ``id``, without its back link; None if there is none."""
        note = self.pruned.notes_by_id.get(note_id)
        if note is None:
            return None
        self.referenced.add(note_id)
        if note_id not in self._texts:
            for link in note.find_all("a"):
                if _is_backlink(link):
                    self.pruned.dropped.add(id(link))
            text, _ = _text_of([note], self.pruned)
            self._texts[note_id] = text
        return self._texts[note_id]

    def read(self, resolve: NoteResolver | None = None) -> list[RawBlock]:
        """The page's blocks, with each note attached to the block that refers to it.

        A reference ``#id`` is looked up on this page; any other href goes to
        ``resolve`` (None: the note cannot be placed and is left out).
        """

        def footnote_for(marker: Tag) -> Footnote | None:
            href = str(marker.get("href") or "")
            if marker.name != "a" or "#" not in href:
                return None
            path, _, fragment = href.partition("#")
            body = self.note_text(fragment) if not path else (resolve(href) if resolve else None)
            if not body:
                return None
            label = _marker_label(marker)
            # A note that repeats its own number ("1. The text…") loses it.
            for prefix in (f"{label}. ", f"{label}) ", f"{label} "):
                if label and body.startswith(prefix):
                    body = body[len(prefix) :]
                    break
            return Footnote(label=label, body=body)

        walker = _Walker(self.pruned, footnote_for)
        root = self.soup.body or self.soup
        try:
            walker.container(root, quoted=False)
        except RecursionError:
            raise TextImportError(
                "The HTML is nested too deeply to read. Save the page as simpler HTML or as plain text and try again."
            ) from None
        return walker.blocks


def notes_notice(count: int) -> list[str]:
    """The notice for notes that no passage refers to (none when ``count`` is 0)."""
    if not count:
        return []
    plural = "s" if count != 1 else ""
    return [f"Left out {count} footnote{plural}/endnote{plural} that no passage refers to."]


def read_html(text: str) -> HtmlResult:
    """Split HTML/XHTML ``text`` into raw blocks.

    Guarantees: no markup, script or style text in any body; entities are
    decoded; footnote markers are gone and each note they point at on the
    page is a footnote of the block holding the marker (a notice counts
    the notes nothing refers to, which are left out); ``<hr>`` makes no
    block; an ``hgroup`` is one heading whose parts are joined with ": ".
    The title is a leading ``h1`` (then also block 0, marked ``is_title``),
    else ``<title>``, else the first ``h1``, else the first other heading
    (such as an ``hgroup``). Raises :class:`TextImportError` when the page
    has no readable text.
    """
    page = HtmlPage(text)
    blocks = page.read()
    if not blocks:
        raise TextImportError(
            "The HTML page has no readable text. Check that you uploaded the page "
            "itself (not a frame or a script-only page), or paste the text instead."
        )
    title = _choose_title(blocks, page.title)
    return HtmlResult(title=title, blocks=blocks, notices=notes_notice(page.unreferenced_notes))


def _choose_title(blocks: list[RawBlock], page_title: str) -> str:
    """Pick the document title; mark a leading level-1 heading as the title."""
    first = blocks[0]
    if first.kind == HEADING and first.level == 1:
        first.is_title = True
        return first.body
    if page_title:
        return page_title
    headings = [block for block in blocks if block.kind == HEADING]
    for block in headings:
        if block.level == 1:
            return block.body
    # No h1 at all: the first heading (e.g. a chapter's hgroup) names it.
    return headings[0].body if headings else ""
