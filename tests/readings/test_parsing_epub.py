"""EPUB reading: chapters, metadata, the HTML rules per chapter, endnotes, and every bad archive."""

import io
import zipfile

import pytest

from readings.parsing import EpubLimits, Footnote, TextImportError, inspect_epub, parse_binary, parse_document

from .documents import CONTAINER, ESSAY_EPUB2, ESSAY_TXT, MANIFESTO_EPUB, MANIFESTO_HTML, opf, page, small_epub

MANIFESTO_CHAPTERS = [
    {"id": "preface-1872", "title": "Preface to the German Edition of 1872", "level": 1},
    {"id": "preamble", "title": "Preamble", "level": 1},
    {"id": "chapter-1", "title": "I. Bourgeois and Proletarians", "level": 1},
    {"id": "chapter-2", "title": "II. Proletarians and Communists", "level": 1},
    {"id": "chapter-4", "title": "IV. Position of the Communists", "level": 1},
    {"id": "endnotes", "title": "Endnotes", "level": 1},
]


def _compared(document):
    """What the acceptance compares: kind, heading level, body, quoted, attribution, cited works, footnotes."""
    return [
        (b.kind, b.level, " ".join(b.body.split()), b.quoted, b.attribution, b.cited_works, b.footnotes)
        for b in document.blocks
    ]


def test_epub3_metadata_and_chapters_from_the_nav_with_line_breaks_collapsed():
    assert inspect_epub(MANIFESTO_EPUB.read_bytes()) == {
        "metadata": {
            "title": "Manifesto of the Communist Party",
            "author": "Karl Marx and Friedrich Engels",
            "language": "en-GB",
            "source": "Marx and Engels, Manifesto of the Communist Party, authorised English translation by "
            "Samuel Moore, edited by Friedrich Engels (London, 1888)",
        },
        "chapters": MANIFESTO_CHAPTERS,
    }


def test_epub3_whole_book_equals_its_html_source_exactly():
    book = parse_binary(MANIFESTO_EPUB.read_bytes(), "epub")
    html = parse_document(MANIFESTO_HTML.read_text(encoding="utf-8"), "html")

    assert _compared(book) == _compared(html)
    assert len(book.blocks) == 30
    assert (book.title, book.notices) == ("Manifesto of the Communist Party", [])


def test_epub3_hgroup_quotation_cited_work_foreign_phrase_and_endnotes():
    book = parse_binary(MANIFESTO_EPUB.read_bytes(), "epub")

    def by_body(start):
        return next(b for b in book.blocks if b.body.startswith(start))

    assert [(b.body, b.level) for b in book.blocks if b.kind == "heading"] == [
        ("Manifesto of the Communist Party", 1),
        ("Preface to the German Edition of 1872", 2),
        ("I: Bourgeois and Proletarians", 2),
        ("II: Proletarians and Communists", 2),
        ("IV: Position of the Communists in Relation to the Various Existing Opposition Parties", 2),
    ]
    quote = by_body("“the working class cannot simply lay hold")
    assert (quote.kind, quote.quoted, quote.attribution, quote.cited_works) == (
        "quotation",
        True,
        "The Civil War in France",
        ["The Civil War in France"],
    )
    # The newspaper is a cited work; the French phrases are not.
    assert by_body("But then, the Manifesto has become a hist").cited_works == ["Neue Rheinische Zeitung"]
    epoch = by_body("Our epoch, the epoch of the bourgeoisie, ")
    assert epoch.body.startswith("Our epoch, the epoch of the bourgeoisie, possesses")
    assert epoch.footnotes == [
        Footnote(
            "1",
            "By bourgeoisie is meant the class of modern Capitalists, owners of the means of social production and "
            "employers of wage labour. By proletariat, the class of modern wage labourers who, having no means of "
            "production of their own, are reduced to selling their labour power in order to live. "
            "[Engels, 1888 English edition]",
        )
    ]
    assert [note.label for note in by_body("Freeman and slave, patrician and plebeia").footnotes] == ["3"]


def test_epub_one_chapter_keeps_its_endnotes_from_another_file():
    book = parse_binary(MANIFESTO_EPUB.read_bytes(), "epub", chapters=["chapter-1"])

    assert [b.body[:30] for b in book.blocks] == [
        "Manifesto of the Communist Par",
        "I: Bourgeois and Proletarians",
        "The history of all hitherto ex",
        "Freeman and slave, patrician a",
        "In the earlier epochs of histo",
        "The modern bourgeois society t",
        "Our epoch, the epoch of the bo",
    ]
    assert [[n.label for n in b.footnotes] for b in book.blocks] == [[], [], ["2"], ["3"], [], [], ["1"]]
    assert book.notices == []


def test_epub_several_chapters_are_read_in_spine_order_each_once():
    book = parse_binary(MANIFESTO_EPUB.read_bytes(), "epub", chapters=["chapter-4", "preamble", "preamble"])

    assert [b.body[:25] for b in book.blocks if b.kind == "heading"] == [
        "Manifesto of the Communis",
        "IV: Position of the Commu",
    ]
    assert book.blocks[1].body.startswith("A spectre is haunting Europe")
    assert book.blocks[1].section == ""  # the preamble is not under the previous chapter's heading


def test_epub2_with_ncx_equals_the_plain_text_source():
    book = parse_binary(ESSAY_EPUB2.read_bytes(), "epub")
    text = parse_document(ESSAY_TXT.read_text(encoding="utf-8"), "txt")

    assert inspect_epub(ESSAY_EPUB2.read_bytes())["chapters"] == [
        {"id": "part1", "title": "Introduction", "level": 1},
        {"id": "part2", "title": "Part 2", "level": 1},
        {"id": "part3", "title": "Part 3", "level": 1},
        {"id": "part4", "title": "Part 4", "level": 1},
    ]
    assert len(book.blocks) == len(text.blocks) == 121
    assert _compared(book) == _compared(text)
    assert [b.section for b in book.blocks] == [b.section for b in text.blocks]


def test_epub_unknown_or_no_chapter_names_the_chapters_field():
    with pytest.raises(TextImportError) as unknown:
        parse_binary(MANIFESTO_EPUB.read_bytes(), "epub", chapters=["chapter-3"])
    with pytest.raises(TextImportError) as empty:
        parse_binary(MANIFESTO_EPUB.read_bytes(), "epub", chapters=[])
    with pytest.raises(TextImportError) as textless:
        parse_binary(MANIFESTO_EPUB.read_bytes(), "epub", chapters=["endnotes"])

    assert (unknown.value.field, unknown.value.message) == (
        "chapters",
        "The book has no chapter “chapter-3”; its chapters are preface-1872, preamble, chapter-1, chapter-2, "
        "chapter-4, endnotes.",
    )
    assert (empty.value.field, empty.value.message) == ("chapters", "Choose at least one chapter.")
    assert (textless.value.field, textless.value.message) == ("file", "The chosen chapters have no readable text.")


def test_epub_without_navigation_offers_each_document_as_a_chapter():
    assert inspect_epub(small_epub())["chapters"] == [
        {"id": "one", "title": "one.xhtml", "level": 1},
        {"id": "two", "title": "two.xhtml", "level": 1},
    ]


def _zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


BASE = [
    ("mimetype", b"application/epub+zip"),
    ("META-INF/container.xml", CONTAINER),
    ("content.opf", opf([("one", "one.xhtml")])),
    ("one.xhtml", page("<p>Text.</p>")),
]
DRM = (
    b'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
    b'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
    b'<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
    b'<enc:CipherData><enc:CipherReference URI="one.xhtml"/></enc:CipherData></enc:EncryptedData></encryption>'
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 not really a zip", "The file is not an EPUB: it is not a zip archive."),
        (b"plain words", "The file is not an EPUB: it is not a zip archive."),
        (
            _zip([e for e in BASE if e[0] != "META-INF/container.xml"]),
            "The file is not an EPUB: it has no META-INF/container.xml (every EPUB has one).",
        ),
        (
            _zip([e for e in BASE if e[0] != "one.xhtml"]),
            "The EPUB's spine item “one.xhtml” is missing from the archive.",
        ),
        (
            _zip([*BASE[:2], ("content.opf", opf([("one", "one.xhtml")], spine=["two"])), BASE[3]]),
            "The EPUB's spine lists “two”, which its manifest does not have.",
        ),
        (
            _zip([*BASE, ("META-INF/encryption.xml", DRM)]),
            "The EPUB is protected by DRM: its content documents are encrypted. Only DRM-free EPUBs can be "
            "imported: export the text from the shop's own reader, or use a DRM-free edition.",
        ),
        (
            _zip([*BASE, ("META-INF/rights.xml", b"<rights/>")]),
            "The EPUB is protected by DRM (it carries rights information). Only DRM-free EPUBs can be imported: "
            "export the text from the shop's own reader, or use a DRM-free edition.",
        ),
        (
            _zip([*BASE, ("../../etc/passwd", b"root")]),
            "The EPUB contains an unsafe file name “../../etc/passwd” (path traversal); it is refused.",
        ),
        (
            _zip([*BASE, ("/absolute.txt", b"x")]),
            "The EPUB contains an unsafe file name “/absolute.txt” (path traversal); it is refused.",
        ),
        (
            _zip([*BASE[:2], ("content.opf", opf([("one", "../../one.xhtml")])), BASE[3]]),
            "The EPUB refers to “../../one.xhtml”, outside the book (path traversal); it is refused.",
        ),
        (
            _zip([*BASE[:2], ("content.opf", b"<package><unclosed></package>"), BASE[3]]),
            "The EPUB's package document (content.opf) is not well-formed XML: "
            "Opening and ending tag mismatch: unclosed line 1 and package, line 1, column 30.",
        ),
    ],
    ids=[
        "bad-zip",
        "not-zip",
        "no-container",
        "spine-item-missing",
        "spine-idref-unknown",
        "drm-encrypted-content",
        "drm-rights",
        "traversal-entry",
        "absolute-entry",
        "traversal-href",
        "malformed-opf",
    ],
)
def test_bad_epubs_are_refused_naming_the_problem(data, message):
    with pytest.raises(TextImportError) as error:
        parse_binary(data, "epub")

    assert (error.value.field, error.value.message) == ("file", message)


def test_font_obfuscation_is_not_drm():
    book = parse_binary(MANIFESTO_EPUB.read_bytes(), "epub", chapters=["preamble"])

    assert book.blocks[1].body.startswith("A spectre is haunting Europe")


def test_zip_bombs_are_refused_by_unpacked_size_and_entry_count():
    bomb = _zip([*BASE, ("zeros.bin", bytes(8 * 1024 * 1024))])
    many = _zip([*BASE, *((f"f{n}.txt", b"x") for n in range(30))])

    assert len(bomb) < 100_000
    with pytest.raises(TextImportError) as size:
        parse_binary(bomb, "epub", epub_limits=EpubLimits(max_uncompressed_bytes=4 * 1024 * 1024))
    with pytest.raises(TextImportError) as count:
        parse_binary(many, "epub", epub_limits=EpubLimits(max_entries=20))

    assert size.value.message == (
        "The EPUB unpacks to 8.0 MB; at most 4.0 MB is allowed "
        "(an archive this large is refused as a possible zip bomb)."
    )
    assert count.value.message == (
        "The EPUB holds 34 files; at most 20 are allowed (an archive this large is refused as a possible zip bomb)."
    )


def test_an_entry_that_unpacks_past_its_declared_size_is_refused():
    data = bytearray(_zip(BASE))
    # Shrink the declared size of one.xhtml in its central directory record.
    record = data.find(b"one.xhtml", data.find(b"PK\x01\x02")) - 46
    data[record + 24 : record + 28] = (5).to_bytes(4, "little")

    with pytest.raises(TextImportError) as error:
        parse_binary(bytes(data), "epub")

    assert error.value.message in (
        "The EPUB's “one.xhtml” unpacks to more than it declares (a zip bomb?); it is refused.",
        "The EPUB is damaged: “one.xhtml” cannot be unpacked (Bad CRC-32 for file 'one.xhtml').",
    )
