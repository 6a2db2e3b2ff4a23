"""Data types shared by every part of the text-import parser.

Nothing here imports Django: the parser is pure Python so it can run in a CLI,
a Celery task or a test without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HEADING = "heading"
PARAGRAPH = "paragraph"
QUOTATION = "quotation"
LIST_ITEM = "list_item"

BLOCK_KINDS = (HEADING, PARAGRAPH, QUOTATION, LIST_ITEM)
FORMATS = ("txt", "md", "html", "epub", "pdf")
# Formats that arrive as bytes of a container (zip, PDF), not as text.
BINARY_FORMATS = ("epub", "pdf")


class TextImportError(ValueError):
    """A text cannot be imported; ``message`` tells the person what to do.

    ``field`` names the request field the problem belongs to (``"file"`` for
    the uploaded content, ``"format"`` for the declared format) so an API can
    attach the message to the right form field.
    """

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"TextImportError({self.message!r}, field={self.field!r})"


@dataclass(frozen=True)
class Footnote:
    """A footnote or endnote kept with the passage that refers to it.

    ``label`` is the reference mark as printed ("1", "*"); ``body`` the
    note's plain text, white space collapsed.
    """

    label: str
    body: str

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "body": self.body}


@dataclass
class ParsedBlock:
    """One passage of a text, in reading order.

    ``body`` is plain text with white space collapsed to single spaces and no
    markup; quotation marks and written list numbers are kept.
    """

    kind: str
    body: str
    level: int = 0
    section: str = ""
    quoted: bool = False
    attribution: str = ""
    cited_works: list[str] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)


@dataclass
class ParsedDocument:
    """The result of parsing one text: its title, blocks and import notices.

    ``metadata`` is what the file says about itself (EPUB package metadata,
    PDF document information): any of "title", "author", "language",
    "source", each one line.
    """

    title: str
    blocks: list[ParsedBlock]
    notices: list[str]
    format: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class RawBlock:
    """A block as a format reader produces it, before the shared analysis.

    Format readers (plain text, Markdown, HTML) only decide structure. The
    shared pipeline then assigns sections and finds attributions and cited
    works, so those rules behave the same for every format.

    ``is_title`` marks the document title block (it never becomes a section).
    ``ends_section`` marks a block that follows a hard section break (two or
    more blank lines in plain text). ``marked_works`` are works the markup
    itself identifies (``<cite>``), as ``(offset in body, title)`` pairs,
    ``attribution`` one the markup states (a blockquote footer), and
    ``footnotes`` the notes whose reference marks were in the block.
    """

    kind: str
    body: str
    level: int = 0
    quoted: bool = False
    is_title: bool = False
    ends_section: bool = False
    marked_works: list[tuple[int, str]] = field(default_factory=list)
    attribution: str = ""
    footnotes: list[Footnote] = field(default_factory=list)
