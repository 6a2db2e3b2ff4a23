"""Turn uploaded bytes into text, and guess a text's format.

Decoding never guesses silently: UTF-8 (with or without BOM) and BOM-marked
UTF-16/UTF-32 are decoded as such; anything else that is still text is read
as Windows-1252 and a notice says so. Binary files are refused *before* the
Windows-1252 fallback, which would otherwise turn any bytes into "text".
"""

from __future__ import annotations

import codecs
import os
import re

from .model import TextImportError
from .textutil import normalise_newlines

# Byte-order marks, longest first: the UTF-32-LE mark starts with UTF-16-LE's.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_UTF8_BOM = codecs.BOM_UTF8

# Control bytes that never occur in text (tab, LF, FF, CR and ESC excluded).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32), 127])
_CONTROL_CHARS = frozenset(chr(byte) for byte in _CONTROL_BYTES)
# "Mostly control characters": more than this share of the content. Real
# text has none at all, so a tenth is already far beyond any text file.
_MAX_CONTROL_SHARE = 0.10

# Well-known binary formats, for a more helpful message.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (for example a Word .docx file)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word/Office document"),
    (b"{\\rtf", "an RTF document"),
)
_SUPPORTED = "Upload a plain-text (.txt), Markdown (.md), HTML (.html), EPUB (.epub) or PDF (.pdf) file."

_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".epub": "epub",
    ".pdf": "pdf",
}
_CONTENT_TYPES = {
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/epub+zip": "epub",
    "application/pdf": "pdf",
}
_SNIFF_CHARS = 100_000
# Markup at the very start of a file means HTML.
_HTML_START_RE = re.compile(r"<(?:!doctype\s+html|html[\s>]|\?xml\b|head[\s>]|body[\s>])", re.I)
# HTML block tags anywhere in the first part of the file.
_HTML_TAG_RE = re.compile(r"<(?:p|div|h[1-6]|body|article|section|blockquote|ul|ol|li|table|br)\b[^<>]*>", re.I)
# Markdown that plain text would not contain: ATX headings, "> " quotations,
# code fences, footnote definitions and inline links. Repetitions are
# bounded so that text full of "[" cannot make the search quadratic.
_MARKDOWN_RE = re.compile(
    r"^(?:#{1,6}[ \t]+\S|>[ \t]?\S|```|~~~|\[\^[^\]\s]{1,100}\]:)|\[[^\]\n]{1,200}\]\([^)\s]{1,500}\)",
    re.MULTILINE,
)


def _binary_message(what: str) -> str:
    return f"This file looks like {what}, not text. {_SUPPORTED}"


def _reject_binary_bytes(data: bytes) -> None:
    """Raise when ``data`` is not text; runs before any fallback decoding."""
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise TextImportError(_binary_message(what))
    if b"\x00" in data:
        raise TextImportError(
            _binary_message("a binary file (it contains NUL bytes)")
            + " If it is UTF-16 text without a byte-order mark, save it as UTF-8 and upload it again."
        )
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > len(data) * _MAX_CONTROL_SHARE:
        raise TextImportError(_binary_message("a binary file (it is mostly control characters)"))


def _reject_binary_text(text: str) -> None:
    """Raise when decoded ``text`` is mostly control characters or NULs."""
    controls = sum(1 for char in text if char in _CONTROL_CHARS)
    if controls > len(text) * _MAX_CONTROL_SHARE:
        raise TextImportError(_binary_message("a binary file (it is mostly control characters)"))


def _finish(text: str) -> str:
    """Normalise newlines and refuse a file with nothing in it."""
    text = normalise_newlines(text)
    if not text:
        raise TextImportError("The file is empty.")
    return text


def decode_bytes(data: bytes) -> tuple[str, list[str]]:
    """Decode uploaded bytes to text; return ``(text, notices)``.

    Guarantees: the BOM is stripped and newlines are ``\\n``; UTF-8 (with or
    without BOM) and UTF-16/UTF-32 with a BOM decode exactly; other text
    decodes as Windows-1252 with a notice, so text input never raises.
    Raises :class:`TextImportError` for an empty file ("The file is
    empty.") and for binary data (NUL bytes outside BOM-marked UTF-16/32,
    a known binary signature, or mostly control characters), detected before
    the Windows-1252 fallback.
    """
    if not data:
        raise TextImportError("The file is empty.")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                raise TextImportError(
                    f"The file starts with a {name} byte-order mark but is not valid "
                    f"{name}. Save it again as UTF-8 and upload it again."
                ) from None
            _reject_binary_text(text)
            return _finish(text), []
    _reject_binary_bytes(data)
    has_bom = data.startswith(_UTF8_BOM)
    body = data[len(_UTF8_BOM) :] if has_bom else data
    try:
        return _finish(body.decode("utf-8")), []
    except UnicodeDecodeError:
        pass
    if has_bom:
        # The file says it is UTF-8; trust that and flag the damage.
        text = body.decode("utf-8", errors="replace")
        return _finish(text), [
            "The file is marked as UTF-8 but contains invalid bytes; they were "
            "replaced with \ufffd. Check those places against the original."
        ]
    return _decode_cp1252(data)


def _decode_cp1252(data: bytes) -> tuple[str, list[str]]:
    """Decode as Windows-1252, replacing its five undefined bytes."""
    notices = ["Decoded as Windows-1252 (cp1252): the file was not valid UTF-8."]
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        count = text.count("\ufffd")
        were = "were" if count != 1 else "was"
        notices.append(f"{count} byte{'s' if count != 1 else ''} could not be decoded and {were} replaced with \ufffd.")
    return _finish(text), notices


def detect_binary_format(data: bytes, *, filename: str | None = None, content_type: str | None = None) -> str | None:
    """Return "epub" or "pdf" when an upload is one of them, else None (it is text, or refused as binary).

    The extension or content type decides when they name EPUB or PDF; else
    the bytes: "%PDF-" opens a PDF, and a zip archive whose first entry is
    the EPUB ``mimetype`` (or that holds ``META-INF/container.xml``) is an
    EPUB. A name or type that says text wins, so the text reader can refuse
    binary content with its own message.
    """
    declared = detect_format(filename=filename, content_type=content_type, text=None, sniff=False)
    if declared:
        return declared if declared in ("epub", "pdf") else None
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") and (
        b"mimetypeapplication/epub+zip" in data[:100] or b"META-INF/container.xml" in data[-65536:]
    ):
        return "epub"
    return None


def detect_format(
    *,
    filename: str | None = None,
    content_type: str | None = None,
    text: str | None = None,
    sniff: bool = True,
) -> str:
    """Return "txt", "md", "html", "epub" or "pdf" for an upload.

    The file extension decides first (.txt .text .md .markdown .html .htm
    .xhtml .epub .pdf), then the content type (text/plain, text/markdown,
    text/html, application/xhtml+xml, application/epub+zip,
    application/pdf), then the content itself: a document starting with
    markup or containing HTML block tags is HTML, one with Markdown
    headings, "> " quotations, code fences or links is Markdown, anything
    else is plain text. With ``sniff`` false, "" when name and type say
    nothing. Never raises.
    """
    if filename:
        base = filename.replace("\\", "/").rsplit("/", 1)[-1]
        extension = os.path.splitext(base)[1].lower()
        if extension in _EXTENSIONS:
            return _EXTENSIONS[extension]
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type in _CONTENT_TYPES:
            return _CONTENT_TYPES[media_type]
    return sniff_format(text or "") if sniff else ""


def sniff_format(text: str) -> str:
    """Guess the format from the content alone (see :func:`detect_format`)."""
    head = text[:_SNIFF_CHARS].lstrip("\ufeff \t\r\n")
    if _HTML_START_RE.match(head):
        return "html"
    if _MARKDOWN_RE.search(head):
        return "md"
    if len(_HTML_TAG_RE.findall(head, 0, 20_000)) >= 2 and "</" in head:
        return "html"
    return "txt"
