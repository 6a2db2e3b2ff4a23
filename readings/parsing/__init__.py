"""Pure-Python parser that splits an imported text into passages.

No Django here: the parser turns bytes or text into a :class:`ParsedDocument`
that the ``readings`` app stores as passages. Public API::

    decode_bytes(data) -> (text, notices)
    detect_format(filename=..., content_type=..., text=...) -> "txt" | "md" | "html" | "epub" | "pdf"
    detect_binary_format(data, filename=..., content_type=...) -> "epub" | "pdf" | None
    parse_document(text, fmt, on_progress=None) -> ParsedDocument
    parse_binary(data, fmt, chapters=None, ...) -> ParsedDocument   # EPUB and PDF
    inspect_epub(data) -> {"metadata", "chapters"}
"""

from .attributions import find_attributions, find_cited_works
from .decoding import decode_bytes, detect_binary_format, detect_format
from .document import parse_binary, parse_document
from .epub import EpubLimits, inspect_epub
from .model import (
    BINARY_FORMATS,
    BLOCK_KINDS,
    FORMATS,
    HEADING,
    LIST_ITEM,
    PARAGRAPH,
    QUOTATION,
    Footnote,
    ParsedBlock,
    ParsedDocument,
    TextImportError,
)
from .pdf import PdfLimits

__all__ = [
    "BINARY_FORMATS",
    "BLOCK_KINDS",
    "FORMATS",
    "HEADING",
    "LIST_ITEM",
    "PARAGRAPH",
    "QUOTATION",
    "EpubLimits",
    "Footnote",
    "ParsedBlock",
    "ParsedDocument",
    "PdfLimits",
    "TextImportError",
    "decode_bytes",
    "detect_binary_format",
    "detect_format",
    "find_attributions",
    "find_cited_works",
    "inspect_epub",
    "parse_binary",
    "parse_document",
]
