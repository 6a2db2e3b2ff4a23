"""Pure-Python parser that splits an imported text into passages.

No Django here: the parser turns bytes or text into a :class:`ParsedDocument`
that the ``readings`` app stores as passages. Public API::

    decode_bytes(data) -> (text, notices)
    detect_format(filename=..., content_type=..., text=...) -> "txt" | "md" | "html"
    parse_document(text, fmt, on_progress=None) -> ParsedDocument
"""

from .attributions import find_attributions, find_cited_works
from .decoding import decode_bytes, detect_format
from .document import parse_document
from .model import (
    BLOCK_KINDS,
    FORMATS,
    HEADING,
    LIST_ITEM,
    PARAGRAPH,
    QUOTATION,
    ParsedBlock,
    ParsedDocument,
    TextImportError,
)

__all__ = [
    "BLOCK_KINDS",
    "FORMATS",
    "HEADING",
    "LIST_ITEM",
    "PARAGRAPH",
    "QUOTATION",
    "ParsedBlock",
    "ParsedDocument",
    "TextImportError",
    "decode_bytes",
    "detect_format",
    "find_attributions",
    "find_cited_works",
    "parse_document",
]
