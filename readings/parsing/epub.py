"""Read an EPUB (2 or 3): metadata, chapters, and each chapter's blocks.

An EPUB is a zip archive: ``META-INF/container.xml`` names the package
document (OPF), whose manifest lists the files, whose spine gives the
reading order and whose metadata names the book. The navigation document
(EPUB 3 ``nav``) or the NCX (EPUB 2) lists the chapters. Each content
document is read by the HTML rules (:class:`.html.HtmlPage`); endnotes in
another file are attached to the passage that refers to them.

The archive is checked before anything is read: entry count, declared and
actual uncompressed size (zip bombs), entry names (path traversal), DRM
(``encryption.xml`` may only list obfuscated fonts). Every problem raises
:class:`TextImportError` saying what is wrong.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import unquote

from lxml import etree

from .decoding import decode_bytes
from .html import HtmlPage, notes_notice
from .model import HEADING, RawBlock, TextImportError
from .textutil import normalise_space

_CONTAINER = "META-INF/container.xml"
_ENCRYPTION = "META-INF/encryption.xml"
# Files only DRM schemes write (Apple FairPlay, Adobe ADEPT, Barnes & Noble).
_DRM_FILES = ("META-INF/sinf.xml", "META-INF/rights.xml")
# Font obfuscation (IDPF and Adobe): a font scrambled with the book's id. Not DRM.
_FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
_CONTENT_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/x-dtbook+xml"})
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "ops": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_NOT_AN_EPUB = "The file is not an EPUB: "


@dataclass(frozen=True)
class EpubLimits:
    """How much an EPUB may unpack to: a zip bomb stops at these."""

    max_entries: int = 5000
    max_uncompressed_bytes: int = 250 * 1024 * 1024


@dataclass
class Chapter:
    """An entry of the book's table of contents: what an organizer picks.

    ``id`` is the manifest id of the chapter's first content document (stable
    across corrected editions of the same book); ``documents`` are the spine
    positions it covers: its own document up to the next chapter at the same
    or a higher level, so choosing a part includes its chapters.
    """

    id: str
    title: str
    level: int
    documents: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "level": self.level}


@dataclass
class _Document:
    """A content document of the spine."""

    idref: str
    path: str
    linear: bool


@dataclass
class EpubBook:
    """An opened EPUB: metadata, spine and chapters, nothing parsed yet."""

    metadata: dict[str, str]
    version: str
    spine: list[_Document]
    chapters: list[Chapter]
    archive: _Archive


@dataclass
class EpubResult:
    """Blocks of the chosen chapters, the book's title block first."""

    title: str
    blocks: list[RawBlock]
    notices: list[str]
    metadata: dict[str, str]


class _Archive:
    """The zip archive, checked once, read with a running size budget."""

    def __init__(self, data: bytes, limits: EpubLimits) -> None:
        try:
            self.zip = zipfile.ZipFile(BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
            raise TextImportError(_NOT_AN_EPUB + "it is not a zip archive.") from None
        if len(infos) > limits.max_entries:
            raise TextImportError(
                f"The EPUB holds {len(infos):,} files; at most {limits.max_entries:,} are allowed "
                "(an archive this large is refused as a possible zip bomb)."
            )
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_uncompressed_bytes:
            raise TextImportError(
                f"The EPUB unpacks to {_mb(declared)}; at most {_mb(limits.max_uncompressed_bytes)} is allowed "
                "(an archive this large is refused as a possible zip bomb)."
            )
        for info in infos:
            _check_name(info.filename)
            if info.flag_bits & 0x1:
                raise TextImportError(
                    "The EPUB is password-protected (its zip entries are encrypted). "
                    "Only DRM-free EPUBs can be imported."
                )
        self.infos = {info.filename: info for info in infos}
        self.budget = limits.max_uncompressed_bytes
        self.cache: dict[str, bytes] = {}

    def has(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str) -> bytes:
        """The entry's bytes; never more than it declares, nor than the budget left."""
        if name in self.cache:
            return self.cache[name]
        info = self.infos.get(name)
        if info is None:
            raise KeyError(name)
        limit = min(info.file_size, self.budget)
        try:
            with self.zip.open(info) as handle:
                data = handle.read(limit + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError) as error:
            raise TextImportError(f"The EPUB is damaged: “{name}” cannot be unpacked ({error}).") from None
        if len(data) > limit:
            raise TextImportError(f"The EPUB's “{name}” unpacks to more than it declares (a zip bomb?); it is refused.")
        self.budget -= len(data)
        self.cache[name] = data
        return data


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _check_name(name: str) -> None:
    """Refuse an entry name that would leave the archive's folder (path traversal)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name) or ".." in parts or "\x00" in name:
        raise TextImportError(f"The EPUB contains an unsafe file name “{name[:100]}” (path traversal); it is refused.")


def _xml(archive: _Archive, name: str, what: str) -> etree._Element:
    """Parse an XML entry without DTDs, entities or network access."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False)
    try:
        return etree.fromstring(archive.read(name), parser)
    except etree.XMLSyntaxError as error:
        raise TextImportError(f"The EPUB's {what} ({name}) is not well-formed XML: {error.msg}.") from None


def _resolve(base: str, href: str) -> tuple[str, str]:
    """The archive path of ``href`` relative to the file ``base``, and its fragment."""
    href, _, fragment = href.partition("#")
    if not href:
        return base, fragment
    if "://" in href or href.startswith(("/", "data:", "mailto:")):
        return "", fragment
    path = posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(href)))
    if path.startswith("../") or path == "..":
        raise TextImportError(f"The EPUB refers to “{href[:100]}”, outside the book (path traversal); it is refused.")
    return path, fragment


def _one_line(text: str | None) -> str:
    return normalise_space(text or "")


def _join_names(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _metadata(package: etree._Element) -> dict[str, str]:
    """Title, author(s), language and source of the book, each on one line."""
    meta = package.find("opf:metadata", _NS)
    if meta is None:
        return {}
    titles = [_one_line(node.text) for node in meta.iterfind("dc:title", _NS)]
    # EPUB 3 may mark the main title among several (subtitle, collection…).
    refines = {
        str(node.get("refines", "")).lstrip("#"): _one_line(node.text)
        for node in meta.iterfind("opf:meta[@property='title-type']", _NS)
    }
    main = [
        _one_line(node.text)
        for node in meta.iterfind("dc:title", _NS)
        if refines.get(str(node.get("id", ""))) == "main"
    ]
    creators = []
    for node in meta.iterfind("dc:creator", _NS):
        role = node.get(f"{{{_NS['opf']}}}role") or ""
        if role and role != "aut":
            continue  # an illustrator or editor in EPUB 2 is not the author
        if name := _one_line(node.text):
            creators.append(name)
    result: dict[str, str] = {}
    if title := (main or [title for title in titles if title] or [""])[0]:
        result["title"] = title
    if creators:
        result["author"] = _join_names(list(dict.fromkeys(creators)))
    if language := _one_line(meta.findtext("dc:language", namespaces=_NS)):
        result["language"] = language[:35]
    source = _one_line(meta.findtext("dc:source", namespaces=_NS))
    if not source:
        unique = package.get("unique-identifier", "")
        identifiers = list(meta.iterfind("dc:identifier", _NS))
        chosen = next(
            (node for node in identifiers if node.get("id") == unique), identifiers[0] if identifiers else None
        )
        identifier = _one_line(chosen.text if chosen is not None else "")
        # A random urn:uuid names no edition a reader could look up.
        if identifier and not identifier.lower().startswith("urn:uuid:"):
            source = identifier
    if source:
        result["source"] = source
    return result


def _check_drm(archive: _Archive, content_paths: set[str]) -> None:
    for name in _DRM_FILES:
        if archive.has(name):
            raise TextImportError(
                "The EPUB is protected by DRM (it carries rights information). Only DRM-free EPUBs can be "
                "imported: export the text from the shop's own reader, or use a DRM-free edition."
            )
    if not archive.has(_ENCRYPTION):
        return
    root = _xml(archive, _ENCRYPTION, "encryption list")
    for data in root.iterfind(".//enc:EncryptedData", _NS):
        method = data.find("enc:EncryptionMethod", _NS)
        algorithm = method.get("Algorithm", "") if method is not None else ""
        reference = data.find(".//enc:CipherReference", _NS)
        uri = unquote(reference.get("URI", "")) if reference is not None else ""
        if algorithm not in _FONT_OBFUSCATION or uri in content_paths:
            raise TextImportError(
                "The EPUB is protected by DRM: its content documents are encrypted. Only DRM-free EPUBs can be "
                "imported: export the text from the shop's own reader, or use a DRM-free edition."
            )


def open_epub(data: bytes, limits: EpubLimits | None = None) -> EpubBook:
    """Check the archive and read its package: metadata, spine and chapters.

    Raises :class:`TextImportError` for anything that is not a readable,
    DRM-free EPUB within ``limits``.
    """
    archive = _Archive(data, limits or EpubLimits())
    if not archive.has(_CONTAINER):
        raise TextImportError(_NOT_AN_EPUB + "it has no META-INF/container.xml (every EPUB has one).")
    container = _xml(archive, _CONTAINER, "container")
    rootfile = container.find(".//c:rootfile", _NS)
    opf_path = _resolve("", rootfile.get("full-path", ""))[0] if rootfile is not None else ""
    if not opf_path or not archive.has(opf_path):
        raise TextImportError(
            "The EPUB's container.xml names no package document that is in the archive"
            + (f" (“{opf_path}” is missing)." if opf_path else ".")
        )
    package = _xml(archive, opf_path, "package document")
    manifest: dict[str, tuple[str, str, str]] = {}  # id → (path, media type, properties)
    for item in package.iterfind("opf:manifest/opf:item", _NS):
        path, _ = _resolve(opf_path, item.get("href", ""))
        manifest[item.get("id", "")] = (path, item.get("media-type", ""), item.get("properties", ""))
    spine_element = package.find("opf:spine", _NS)
    spine: list[_Document] = []
    for itemref in spine_element.iterfind("opf:itemref", _NS) if spine_element is not None else []:
        idref = itemref.get("idref", "")
        if idref not in manifest:
            raise TextImportError(f"The EPUB's spine lists “{idref}”, which its manifest does not have.")
        path, media_type, _ = manifest[idref]
        if not archive.has(path):
            raise TextImportError(f"The EPUB's spine item “{path}” is missing from the archive.")
        if media_type in _CONTENT_TYPES:
            spine.append(_Document(idref=idref, path=path, linear=itemref.get("linear", "yes") != "no"))
    if not spine:
        raise TextImportError("The EPUB's spine lists no content documents: there is nothing to read.")
    _check_drm(archive, {document.path for document in spine})
    entries = _nav_entries(archive, package, manifest, spine_element)
    chapters = _chapters(entries, spine)
    return EpubBook(
        metadata=_metadata(package),
        version=package.get("version", ""),
        spine=spine,
        chapters=chapters,
        archive=archive,
    )


def _nav_entries(archive, package, manifest, spine_element) -> list[tuple[str, str, int]]:
    """(label, target path, level) for every table-of-contents entry, in order.

    The EPUB 3 navigation document comes first; an EPUB 2 NCX (the spine's
    ``toc``) otherwise. A broken navigation file is ignored: the spine alone
    still reads.
    """
    nav_path = next((path for path, _, props in manifest.values() if "nav" in props.split()), "")
    entries: list[tuple[str, str, int]] = []
    if nav_path and archive.has(nav_path):
        try:
            root = _xml(archive, nav_path, "navigation document")
        except TextImportError:
            root = None
        if root is not None:
            navs = root.iterfind(".//x:nav", _NS)
            toc = next(
                (nav for nav in navs if "toc" in str(nav.get(f"{{{_NS['ops']}}}type", "")).split()),
                root.find(".//x:nav", _NS),
            )
            if toc is not None:
                _walk_nav(toc.find("x:ol", _NS), nav_path, 1, entries)
    if entries:
        return entries
    toc_id = spine_element.get("toc", "") if spine_element is not None else ""
    ncx_path = manifest.get(toc_id, ("", "", ""))[0] or next(
        (path for path, media, _ in manifest.values() if media == "application/x-dtbncx+xml"), ""
    )
    if ncx_path and archive.has(ncx_path):
        try:
            root = _xml(archive, ncx_path, "NCX table of contents")
        except TextImportError:
            return []
        _walk_ncx(root.find("ncx:navMap", _NS), ncx_path, 1, entries)
    return entries


def _walk_nav(ol, base: str, level: int, entries: list) -> None:
    if ol is None or level > 10:
        return
    for li in ol.iterfind("x:li", _NS):
        link = li.find("x:a", _NS)
        if link is not None and link.get("href"):
            path, _ = _resolve(base, link.get("href", ""))
            entries.append((_one_line("".join(link.itertext())), path, level))
        _walk_nav(li.find("x:ol", _NS), base, level + 1, entries)


def _walk_ncx(parent, base: str, level: int, entries: list) -> None:
    if parent is None or level > 10:
        return
    for point in parent.iterfind("ncx:navPoint", _NS):
        content = point.find("ncx:content", _NS)
        if content is not None and content.get("src"):
            path, _ = _resolve(base, content.get("src", ""))
            entries.append((_one_line(point.findtext("ncx:navLabel/ncx:text", namespaces=_NS)), path, level))
        _walk_ncx(point, base, level + 1, entries)


def _chapters(entries: list[tuple[str, str, int]], spine: list[_Document]) -> list[Chapter]:
    """One chapter per table-of-contents entry that starts a spine document.

    Entries pointing into the same document as an earlier one merge into it;
    without a usable table of contents every linear document is a chapter.
    """
    index_of = {document.path: index for index, document in enumerate(spine)}
    chapters: list[Chapter] = []
    seen: set[int] = set()
    for label, path, level in entries:
        index = index_of.get(path)
        if index is None or index in seen:
            continue
        seen.add(index)
        chapters.append(Chapter(id=spine[index].idref, title=label or spine[index].idref, level=level))
        chapters[-1].documents = [index]
    if not chapters:
        return [
            Chapter(id=document.idref, title=posixpath.basename(document.path), level=1, documents=[index])
            for index, document in enumerate(spine)
            if document.linear
        ]
    starts = sorted((chapter.documents[0], chapter) for chapter in chapters)
    for position, (start, chapter) in enumerate(starts):
        end = len(spine)
        for later_start, later in starts[position + 1 :]:
            if later.level <= chapter.level:
                end = later_start
                break
        chapter.documents = [start] + [index for index in range(start + 1, end) if spine[index].linear]
    return chapters


def inspect_epub(data: bytes, limits: EpubLimits | None = None) -> dict:
    """Metadata and chapter list of an EPUB, without reading any chapter.

    Returns ``{"metadata": {...}, "chapters": [{"id", "title", "level"}]}``.
    """
    book = open_epub(data, limits)
    return {"metadata": book.metadata, "chapters": [chapter.as_dict() for chapter in book.chapters]}


def read_epub(data: bytes, *, chapters: list[str] | None = None, limits: EpubLimits | None = None) -> EpubResult:
    """The blocks of the chosen chapters (all linear documents when ``chapters`` is None).

    Guarantees: documents are read in spine order, each once, by the HTML
    rules; the book's title (from its metadata, else the first heading) is
    block 0, a level-1 heading marked ``is_title``; a note referred to from
    any chosen chapter is a footnote of the block that refers to it, wherever
    the note lives in the book; a chapter's first block ends the sections
    of the chapter before it. Raises :class:`TextImportError` naming an
    unknown chapter id (``field`` "chapters") and when the chosen chapters
    have no text.
    """
    book = open_epub(data, limits)
    if chapters is None:
        chosen = [index for index, document in enumerate(book.spine) if document.linear]
    else:
        by_id = {chapter.id: chapter for chapter in book.chapters}
        unknown = [str(chapter_id) for chapter_id in chapters if str(chapter_id) not in by_id]
        if unknown:
            raise TextImportError(
                f"The book has no chapter {', '.join(f'“{c}”' for c in unknown)}; its chapters are {', '.join(by_id)}.",
                field="chapters",
            )
        if not chapters:
            raise TextImportError("Choose at least one chapter.", field="chapters")
        chosen = sorted({index for chapter_id in chapters for index in by_id[str(chapter_id)].documents})
    pages: dict[str, HtmlPage] = {}

    def page(path: str) -> HtmlPage:
        if path not in pages:
            text, _ = decode_bytes(book.archive.read(path))
            pages[path] = HtmlPage(text)
        return pages[path]

    in_spine = {document.path for document in book.spine}
    chapter_starts = {chapter.documents[0] for chapter in book.chapters}
    blocks: list[RawBlock] = []
    for index in chosen:
        document = book.spine[index]

        def resolve(href: str, base: str = document.path) -> str | None:
            path, fragment = _resolve(base, href)
            if not fragment or path not in in_spine:
                return None
            return page(path).note_text(fragment)

        chapter_blocks = [block for block in page(document.path).read(resolve) if block.body]
        if chapter_blocks and index in chapter_starts:
            # A heading of the previous chapter does not reach into this one.
            chapter_blocks[0].ends_section = True
        blocks.extend(chapter_blocks)
    for block in blocks:
        block.is_title = False
    if not blocks:
        raise TextImportError(
            "The chosen chapters have no readable text." if chapters is not None else "The EPUB has no readable text."
        )
    title = book.metadata.get("title") or next((b.body for b in blocks if b.kind == HEADING), "")
    if title:
        blocks.insert(0, RawBlock(kind=HEADING, body=title, level=1, is_title=True))
    # Notes in chosen documents that nothing chosen refers to are left out.
    unreferenced = sum(pages[book.spine[index].path].unreferenced_notes for index in chosen)
    return EpubResult(title=title, blocks=blocks, notices=notes_notice(unreferenced), metadata=book.metadata)
