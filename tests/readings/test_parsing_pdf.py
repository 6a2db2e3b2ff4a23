"""PDF reading: paragraphs rebuilt from lines, running heads, hyphens, footnotes, columns; bad PDFs refused."""

import zlib

import pytest

from readings.parsing import Footnote, PdfLimits, TextImportError, parse_binary, parse_document

from .documents import ESSAY_PDF, ESSAY_TXT, SCANNED_PDF, tiny_pdf


@pytest.fixture(scope="module")
def essay_pdf():
    return parse_binary(ESSAY_PDF.read_bytes(), "pdf")


@pytest.fixture(scope="module")
def essay_txt():
    return parse_document(ESSAY_TXT.read_text(encoding="utf-8"), "txt")


def _normalised(body: str) -> str:
    return " ".join(body.split())


def test_pdf_has_the_passages_and_headings_of_its_plain_text_source(essay_pdf, essay_txt):
    assert len(essay_pdf.blocks) == len(essay_txt.blocks) == 121
    assert [(i, b.body) for i, b in enumerate(essay_pdf.blocks) if b.kind == "heading"] == [
        (i, b.body) for i, b in enumerate(essay_txt.blocks) if b.kind == "heading"
    ]
    identical = sum(
        _normalised(a.body) == _normalised(b.body) for a, b in zip(essay_pdf.blocks, essay_txt.blocks, strict=True)
    )
    assert identical / len(essay_txt.blocks) >= 0.98
    assert [(b.kind, b.quoted, b.cited_works, b.attribution) for b in essay_pdf.blocks] == [
        (b.kind, b.quoted, b.cited_works, b.attribution) for b in essay_txt.blocks
    ]
    assert (essay_pdf.title, essay_pdf.metadata) == (
        "The October revolution and the bolsheviks",
        {"title": "The October revolution and the bolsheviks", "language": "en"},
    )


def test_pdf_drops_running_header_and_page_numbers(essay_pdf):
    bodies = " ".join(b.body for b in essay_pdf.blocks)

    assert "study notes" not in bodies
    assert not [b.body for b in essay_pdf.blocks if b.body.isdigit()]


def test_pdf_undoes_hyphenation_and_keeps_real_hyphens(essay_pdf):
    bodies = " ".join(b.body for b in essay_pdf.blocks)

    assert "\u2010" not in bodies
    assert "IMPERIALIST WORLD WAR" in bodies  # broken as “IMPERI‐” / “ALIST” in the PDF
    assert bodies.count("worker-peasant") == ESSAY_TXT.read_text(encoding="utf-8").count("worker-peasant")


def test_pdf_footnotes_belong_to_the_passage_with_their_mark(essay_pdf):
    noted = [(b.body[:40], b.footnotes) for b in essay_pdf.blocks if b.footnotes]

    assert noted == [
        ("At the end of 1924, as a Preface to his ", [Footnote("1", "Dated 17 December 1924.")]),
        (
            "Meanwhile, inside Russia itself, there w",
            [Footnote("2", "The six conditions are listed in the article's first part.")],
        ),
    ]
    assert "October’, Stalin wrote" in essay_pdf.blocks[3].body  # the mark is not in the text


def test_pdf_two_column_page_reads_column_by_column(essay_pdf, essay_txt):
    # Passages 30–41 of the essay sit on the two-column page.
    assert [b.body for b in essay_pdf.blocks[30:42]] == [b.body for b in essay_txt.blocks[30:42]]


def test_pdf_simple_lines_and_title():
    document = parse_binary(
        tiny_pdf([["Notes On Reading", "", "The first paragraph starts here and", "ends on this line."]]), "pdf"
    )

    assert [(b.kind, b.body) for b in document.blocks] == [
        ("paragraph", "Notes On Reading"),
        ("paragraph", "The first paragraph starts here and ends on this line."),
    ]


def test_pdf_with_empty_user_password_opens():
    document = parse_binary(tiny_pdf([["Readable by anyone, though encrypted."]], user_password=""), "pdf")

    assert [b.body for b in document.blocks] == ["Readable by anyone, though encrypted."]


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        (
            tiny_pdf([["Secret text nobody can read without the key."]], user_password="secret"),
            PdfLimits(),
            "The PDF is encrypted with a password. Remove the password (print or save it as a new PDF) and upload "
            "it again.",
        ),
        (
            tiny_pdf([["Objects nobody can find any more."]], break_xref=True),
            PdfLimits(),
            "The PDF is damaged and cannot be read (it has no document catalogue). Save or print it to a new PDF "
            "and upload that.",
        ),
        (
            b"%PDF-1.4\n" + bytes(range(256)) * 8,
            PdfLimits(),
            "The PDF is damaged and cannot be read (No /Root object! - Is this really a PDF?). Save or print it to "
            "a new PDF and upload that.",
        ),
        (
            tiny_pdf([[f"Page {n} has a line of text."] for n in range(12)]),
            PdfLimits(max_pages=10),
            "The PDF has more than 10 pages, the most we import at once. Split it into parts and import those.",
        ),
        (
            tiny_pdf([["A page with a bomb in it."]], extra_stream=zlib.compress(bytes(4 * 1024 * 1024))),
            PdfLimits(max_decoded_bytes=1024 * 1024),
            "The PDF's compressed streams unpack to more than the limit allows (a decompression bomb?); it is refused.",
        ),
        (
            SCANNED_PDF.read_bytes(),
            PdfLimits(),
            "This PDF has no text layer: it looks like a scan (pictures of pages). Run it through OCR first (for "
            "example OCRmyPDF) and upload the result, or paste the text.",
        ),
        (b"Just words, not a PDF.", PdfLimits(), "The file is not a PDF: it does not start with “%PDF-”."),
    ],
    ids=["encrypted", "broken-xref", "garbage", "too-many-pages", "decompression-bomb", "scanned", "not-pdf"],
)
def test_bad_pdfs_are_refused_naming_the_problem(data, limits, message):
    with pytest.raises(TextImportError) as error:
        parse_binary(data, "pdf", pdf_limits=limits)

    assert (error.value.field, error.value.message) == ("file", message)


def test_the_decompression_budget_only_applies_while_reading_a_pdf():
    big = zlib.compress(bytes(2 * 1024 * 1024))
    parse_binary(tiny_pdf([["Short page of text for the budget."]]), "pdf", pdf_limits=PdfLimits(max_decoded_bytes=1))

    from pdfminer import pdftypes

    assert len(pdftypes.zlib.decompress(big)) == 2 * 1024 * 1024
