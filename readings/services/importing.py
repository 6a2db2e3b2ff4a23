"""Importing texts and their revisions into passages.

`text_import` makes a new Text from a file or pasted content; `text_revise`
imports a new version into an existing Text, updating its passages in place
(see `readings/matching.py`). Both are atomic: bad input raises
`ValidationError` naming the field at fault and writes nothing. Text formats
(txt, md, html) are decoded first; EPUB and PDF files are read from their
bytes, each under its own size limit. `text_inspect` answers what a file is
(metadata, an EPUB's chapters) without storing anything.
"""

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from core.services import UNSET, given, model_update
from core.validators import single_line
from sessions_app.models import StudyGroup, User

from ..enums import TextFormat
from ..matching import match_revision
from ..models import Passage, Text, TextRevision
from ..pack.versions import pack_versions_bump_for_text
from ..parsing import (
    EpubLimits,
    ParsedDocument,
    PdfLimits,
    TextImportError,
    decode_bytes,
    detect_binary_format,
    detect_format,
    inspect_epub,
    parse_binary,
    parse_document,
)
from ..parsing.pdf import inspect_pdf
from ..rendering import markdown_problem
from .assignments import reading_minutes_refresh_for_text
from .notes import notes_reanchor_for_text

ProgressCallback = Callable[[int, int], None]
PASSAGE_SEPARATOR = "\n\n"
# Active positions are moved out of the way before renumbering, because a
# unique index is checked row by row during an UPDATE.
_POSITION_SHIFT = 10_000_000


@dataclass
class ImportedContent:
    """What a file or pasted content turned into, before anything is stored."""

    document: ParsedDocument
    checksum: str
    size_bytes: int
    filename: str
    notices: list[str]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


_BINARY_LIMITS = {"pdf": ("PDF_MAX_BYTES", "PDF"), "epub": ("EPUB_MAX_BYTES", "EPUB")}


def _normalised_format(fmt: str | None) -> str | None:
    if not fmt:
        return None
    fmt = fmt.lower().lstrip(".")
    fmt = {"markdown": "md", "htm": "html", "xhtml": "html", "text": "txt"}.get(fmt, fmt)
    if fmt not in TextFormat.values:
        raise TextImportError(
            f"“{fmt}” is not a format we import; use one of {', '.join(TextFormat.values)}.", field="format"
        )
    return fmt


def epub_limits() -> EpubLimits:
    return EpubLimits(
        max_entries=settings.EPUB_MAX_ENTRIES, max_uncompressed_bytes=settings.EPUB_MAX_UNCOMPRESSED_BYTES
    )


def pdf_limits() -> PdfLimits:
    return PdfLimits(max_pages=settings.PDF_MAX_PAGES, max_decoded_bytes=settings.PDF_MAX_DECODED_BYTES)


def _binary_format(data: bytes, fmt: str | None, filename: str, content_type: str) -> str | None:
    """ "epub" or "pdf" when the upload is one, checked against its own size limit; None for text."""
    binary = fmt if fmt in _BINARY_LIMITS else None
    if fmt is None:
        binary = detect_binary_format(data, filename=filename or None, content_type=content_type or None)
    if binary is not None:
        setting, name = _BINARY_LIMITS[binary]
        limit = getattr(settings, setting)
        if len(data) > limit:
            raise TextImportError(f"The {name} is {_megabytes(len(data))}; the limit is {_megabytes(limit)}.")
    return binary


def _check_size(size: int, field: str) -> None:
    limit = settings.TEXT_MAX_BYTES
    if size > limit:
        raise TextImportError(
            f"The text is {_megabytes(size)}; the limit is {_megabytes(limit)}. Split it into parts.", field=field
        )


def check_upload(*, data: bytes, fmt: str | None, field: str, filename: str = "", content_type: str = "") -> str | None:
    """What can be checked of an upload without reading it: its size for its format, and the format asked for.

    Returns the format's normal name (None: detect it); raises ValidationError
    naming `field` (or `format`). For imports that will run in a worker, so
    that what the request can refuse, it refuses at once.
    """
    try:
        fmt = _normalised_format(fmt)
        if field == "content" and fmt in _BINARY_LIMITS:
            raise TextImportError(f"A {fmt.upper()} cannot be pasted as content: upload the file.", field="format")
        if field != "file" or _binary_format(data, fmt, filename, content_type) is None:
            _check_size(len(data), field)
        return fmt
    except TextImportError as error:
        raise ValidationError({error.field: error.message}) from None


def read_content(
    *,
    data: bytes | None = None,
    content: str | None = None,
    fmt: str | None = None,
    filename: str = "",
    content_type: str = "",
    chapters: list[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportedContent:
    """Decode, size-check and parse an upload (`data`) or pasted `content`.

    `chapters` picks an EPUB's chapters by id (all when None). Raises
    ValidationError naming the field at fault: `file` or `content` for the
    text itself, `format` for an unknown format, `chapters` for a chapter
    the book does not have.
    """
    try:
        return _read_content(
            data=data,
            content=content,
            fmt=fmt,
            filename=filename,
            content_type=content_type,
            chapters=chapters,
            on_progress=on_progress,
        )
    except TextImportError as error:
        raise ValidationError({error.field: error.message}) from None


def _read_content(
    *,
    data: bytes | None,
    content: str | None,
    fmt: str | None,
    filename: str,
    content_type: str,
    chapters: list[str] | None,
    on_progress: ProgressCallback | None,
) -> ImportedContent:
    field = "content" if content is not None else "file"
    fmt = _normalised_format(fmt)
    if content is not None:
        if fmt in _BINARY_LIMITS:
            raise TextImportError(f"A {fmt.upper()} cannot be pasted as content: upload the file.", field="format")
        data = content.encode("utf-8")
    if data is None:
        raise TextImportError("Send a file, or the text itself as “content”.", field="file")
    binary = _binary_format(data, fmt, filename, content_type) if content is None else None
    if binary is not None:
        document = parse_binary(
            data,
            binary,
            chapters=chapters,
            epub_limits=epub_limits(),
            pdf_limits=pdf_limits(),
            on_progress=on_progress,
        )
        if len(document.blocks) > settings.TEXT_MAX_PASSAGES:
            raise TextImportError(
                f"The book splits into {len(document.blocks):,} passages; the limit is "
                f"{settings.TEXT_MAX_PASSAGES:,}. Import it in parts (a few chapters at a time)."
            )
        return ImportedContent(
            document=document,
            checksum=_document_checksum(document),
            size_bytes=len(data),
            filename=single_line(PurePath(filename).name)[:255] if filename else "",
            notices=list(document.notices),
        )
    if chapters is not None:
        raise TextImportError("Chapters can only be chosen from an EPUB.", field="chapters")
    _check_size(len(data), field)
    try:
        decoded, notices = decode_bytes(data)
        if not fmt:
            fmt = detect_format(filename=filename or None, content_type=content_type or None, text=decoded)
        if fmt == TextFormat.MD and (problem := markdown_problem(decoded, what="text")):
            raise TextImportError(problem, field=field)
        document = parse_document(decoded, fmt, on_progress=on_progress, max_blocks=settings.TEXT_MAX_PASSAGES)
    except TextImportError as error:
        if error.field == "file":
            error.field = field
        raise
    if not document.blocks:
        raise TextImportError("We found no readable text in it.", field=field)
    return ImportedContent(
        document=document,
        checksum=hashlib.sha256(decoded.encode("utf-8")).hexdigest(),
        size_bytes=len(data),
        # An upload's name is the client's to choose; it is shown on one line.
        filename=single_line(PurePath(filename).name)[:255] if filename else "",
        notices=notices + document.notices,
    )


def _document_checksum(document: ParsedDocument) -> str:
    """SHA-256 of what a binary file's passages say (bodies and footnotes), so a re-import is recognised."""
    digest = hashlib.sha256()
    for block in document.blocks:
        digest.update(block.body.encode("utf-8"))
        for note in block.footnotes:
            digest.update(f"\x1f{note.label}\x1f{note.body}".encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def text_inspect(*, data: bytes, filename: str = "", content_type: str = "", fmt: str | None = None) -> dict:
    """What an upload is, without storing anything: format, metadata, and an EPUB's chapters.

    Returns `{"format", "metadata": {"title", "author", "language", "source"},
    "chapters": [{"id", "title", "level"}], "pages"}` (chapters empty and pages
    null where they do not apply). Text formats are parsed for their title.
    Raises ValidationError naming `file` (or `format`) for what cannot be imported.
    """
    try:
        fmt = _normalised_format(fmt)
        binary = _binary_format(data, fmt, filename, content_type)
        if binary == "epub":
            found = inspect_epub(data, epub_limits())
            return {"format": "epub", **found, "pages": None}
        if binary == "pdf":
            metadata, pages = inspect_pdf(data, pdf_limits())
            return {"format": "pdf", "metadata": metadata, "chapters": [], "pages": pages}
    except TextImportError as error:
        raise ValidationError({error.field: error.message}) from None
    imported = read_content(data=data, fmt=fmt, filename=filename, content_type=content_type)
    metadata = {"title": imported.document.title} if imported.document.title else {}
    return {"format": imported.document.format, "metadata": metadata, "chapters": [], "pages": None}


# The web import page reads an EPUB's chapters first and imports on a second
# request; the upload waits in the shared cache (Redis in production, so any
# web node can take the second step) for this long.
UPLOAD_STASH_SECONDS = 3600


def _stash_key(user_id: int, group_id: int, token: str) -> str:
    return f"import-upload:{group_id}:{user_id}:{token}"


def upload_stash(*, user: User, group: StudyGroup, data: bytes, filename: str, content_type: str) -> str:
    """Keep an upload for the second step of the import page; returns the token that fetches it.

    The token is only good for the same person and group, for UPLOAD_STASH_SECONDS.
    """
    token = secrets.token_urlsafe(16)
    value = {"data": data, "filename": filename, "content_type": content_type}
    cache.set(_stash_key(user.pk, group.pk, token), value, timeout=UPLOAD_STASH_SECONDS)
    return token


def upload_unstash(*, user: User, group: StudyGroup, token: str) -> dict | None:
    """The stashed upload (`data`, `filename`, `content_type`), or None when it expired or is not theirs."""
    if not token or len(token) > 64:
        return None
    return cache.get(_stash_key(user.pk, group.pk, token))


def upload_discard(*, user: User, group: StudyGroup, token: str) -> None:
    cache.delete(_stash_key(user.pk, group.pk, token))


def _passage_fields(document: ParsedDocument) -> tuple[str, list[dict]]:
    """The full text and, per block, the fields a Passage row stores."""
    rows, offset = [], 0
    for position, block in enumerate(document.blocks, start=1):
        start = offset
        offset += len(block.body)
        rows.append(
            {
                "position": position,
                "kind": block.kind,
                "heading_level": block.level,
                "section": block.section[:500],
                "body": block.body,
                "word_count": len(block.body.split()),
                "quoted": block.quoted,
                "attribution": block.attribution[:500],
                "cited_works": block.cited_works,
                "footnotes": [note.as_dict() for note in block.footnotes],
                "start_offset": start,
                "end_offset": offset,
            }
        )
        offset += len(PASSAGE_SEPARATOR)
    return PASSAGE_SEPARATOR.join(block.body for block in document.blocks), rows


class TitleTaken(ValidationError):
    """`text_import(if_title_exists="ask")`: the group has a text with the title the import would take.

    `existing` is that text (the most recently changed one if several), so the
    caller can ask whether the upload is its new revision (`text_revise`) or a
    separate text (`text_import` again with `if_title_exists="import"`).
    """

    def __init__(self, *, existing: Text, title: str):
        super().__init__({"title": f"A text called “{title}” is already in this group."}, code="title_taken")
        self.existing = existing
        self.title = title


def text_with_title(*, group: StudyGroup, title: str) -> Text | None:
    """The group's text called `title` (case and surrounding spaces aside), the latest changed if several."""
    title = single_line(title.strip())
    if not title:
        return None
    return Text.objects.filter(group=group, title__iexact=title).order_by("-updated_at", "-id").first()


def _new_anchor(text: Text) -> str:
    anchor = f"p-{text.next_anchor}"
    text.next_anchor += 1
    return anchor


@transaction.atomic
def text_import(
    *,
    group: StudyGroup,
    created_by: User | None,
    title: str = "",
    author: str = "",
    source: str = "",
    data: bytes | None = None,
    content: str | None = None,
    fmt: str | None = None,
    filename: str = "",
    content_type: str = "",
    chapters: list[str] | None = None,
    on_progress: ProgressCallback | None = None,
    imported: ImportedContent | None = None,
    if_title_exists: str = "import",
) -> Text:
    """Create a Text from a file or pasted content, with one passage per block.

    The title is the one given, else the document's own (an EPUB's or PDF's
    metadata, a plain-text file's first line; an EPUB chapter imported on
    its own adds its name), else the file name. Author, source and language
    come from the file's metadata unless given. Anchors start at `p-1` in
    reading order. `chapters` picks an EPUB's chapters (all when None).
    A caller that has already read the content (`read_content`, outside this
    transaction) passes it as `imported` (with `data`, for an EPUB's chapter names).
    With `if_title_exists="ask"`, a text of the group that already has the
    title this one would take stops the import with `TitleTaken` (nothing is
    written); the default, `"import"`, makes a separate text.
    """
    if imported is None:
        imported = read_content(
            data=data,
            content=content,
            fmt=fmt,
            filename=filename,
            content_type=content_type,
            chapters=chapters,
            on_progress=on_progress,
        )
    document = imported.document
    metadata = document.metadata
    own_title = metadata.get("title") or document.title
    if own_title and chapters is not None and len(chapters) == 1 and document.format == "epub":
        chapter = inspect_epub(data or b"", epub_limits())["chapters"]
        name = next((c["title"] for c in chapter if c["id"] == str(chapters[0])), "")
        own_title = f"{own_title}: {name}" if name else own_title
    title = single_line(title.strip() or own_title or PurePath(imported.filename).stem or "Untitled text")[:300]
    if if_title_exists == "ask" and (existing := text_with_title(group=group, title=title)) is not None:
        raise TitleTaken(existing=existing, title=title)
    full_text, rows = _passage_fields(document)
    text = Text.objects.create(
        group=group,
        title=title,
        # A file's metadata may say anything; what it says is shown on one line.
        author=single_line(author.strip() or metadata.get("author", ""))[:200],
        source=single_line(source.strip() or metadata.get("source", ""))[:500],
        language=metadata.get("language", "")[:35],
        original_format=document.format,
        full_text=full_text,
        created_by=created_by,
        next_anchor=len(rows) + 1,
    )
    Passage.objects.bulk_create(
        [Passage(text=text, anchor=f"p-{row['position']}", **row) for row in rows], batch_size=2000
    )
    TextRevision.objects.create(
        text=text,
        number=1,
        format=document.format,
        filename=imported.filename,
        checksum=imported.checksum,
        size_bytes=imported.size_bytes,
        notices=imported.notices,
        changes={"kept": 0, "edited": 0, "added": len(rows), "retired": 0},
        created_by=created_by,
    )
    return text


@transaction.atomic
def text_revise(
    *,
    text: Text,
    created_by: User | None,
    data: bytes | None = None,
    content: str | None = None,
    fmt: str | None = None,
    filename: str = "",
    content_type: str = "",
    chapters: list[str] | None = None,
    on_progress: ProgressCallback | None = None,
    imported: ImportedContent | None = None,
) -> TextRevision:
    """Import a new version of `text` as revision n+1, updating passages in place.

    Unchanged passages keep row and anchor; edited ones (matched by
    similarity) keep row and anchor with the new body; new ones get fresh
    anchors; removed ones are retired, never deleted. Every note on the text
    is then resolved again (`notes_reanchor_for_text`) and the reading time
    of assignments recounted, in the same transaction. Content identical to
    the current revision makes no new revision and returns the current one.
    `chapters` picks an EPUB's chapters, as for `text_import`. As with
    `text_import`, content already read may be passed as `imported`.
    """
    if imported is None:
        imported = read_content(
            data=data,
            content=content,
            fmt=fmt,
            filename=filename,
            content_type=content_type,
            chapters=chapters,
            on_progress=on_progress,
        )
    text = Text.objects.select_for_update().get(pk=text.pk)
    current = text.revisions.order_by("-number").first()
    if current is not None and current.checksum == imported.checksum:
        current.notices = [f"This content is identical to revision {current.number}; no new revision was made."]
        return current

    number = text.revision + 1
    old = list(text.passages.filter(retired=False).order_by("position"))
    full_text, rows = _passage_fields(imported.document)
    mapping = match_revision([passage.body for passage in old], [row["body"] for row in rows])
    continued = set(mapping.values())

    text.passages.filter(retired=False).update(position=F("position") + _POSITION_SHIFT)
    retired = [passage for index, passage in enumerate(old) if index not in continued]
    for passage in retired:
        passage.retired = True
        passage.revision_retired = number
    Passage.objects.bulk_update(retired, ["retired", "revision_retired", "position"], batch_size=2000)

    updated, created, edited = [], [], 0
    for index, row in enumerate(rows):
        old_index = mapping.get(index)
        if old_index is None:
            created.append(
                Passage(text=text, anchor=_new_anchor(text), revision_added=number, revision_changed=number, **row)
            )
            continue
        passage = old[old_index]
        if passage.body != row["body"]:
            passage.revision_changed = number
            edited += 1
        for key, value in row.items():
            setattr(passage, key, value)
        updated.append(passage)
    Passage.objects.bulk_update(updated, [*rows[0].keys(), "revision_changed"], batch_size=2000)
    Passage.objects.bulk_create(created, batch_size=2000)

    text.revision = number
    text.full_text = full_text
    text.original_format = imported.document.format
    text.save(update_fields=["revision", "full_text", "original_format", "next_anchor", "updated_at"])
    revision = TextRevision.objects.create(
        text=text,
        number=number,
        format=imported.document.format,
        filename=imported.filename,
        checksum=imported.checksum,
        size_bytes=imported.size_bytes,
        notices=imported.notices,
        changes={"kept": len(updated) - edited, "edited": edited, "added": len(created), "retired": len(retired)},
        created_by=created_by,
    )
    notes_reanchor_for_text(text=text, revision=number)
    reading_minutes_refresh_for_text(text=text)
    pack_versions_bump_for_text(text_id=text.pk)
    return revision


@transaction.atomic
def text_update(*, text: Text, title: str = UNSET, author: str = UNSET, source: str = UNSET) -> Text:
    """Change a text's title, author or source (not its content: that is a revision)."""
    fields = {key: value.strip() for key, value in given(title=title, author=author, source=source).items()}
    if "title" in fields and not fields["title"]:
        raise ValidationError({"title": "Give the text a title."})
    model_update(instance=text, data=fields)
    pack_versions_bump_for_text(text_id=text.pk)
    return text
