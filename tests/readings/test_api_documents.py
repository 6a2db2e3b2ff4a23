"""EPUB and PDF through the API: inspect, import (whole book or chapters), revisions, and bad files."""

import io
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from readings.models import Passage, Text, TextRevision
from readings.services.notes import note_create

from .documents import (
    DATA,
    ESSAY_PDF,
    ESSAY_TXT,
    MANIFESTO_EPUB,
    MANIFESTO_HTML,
    SCANNED_PDF,
    small_epub,
    tiny_pdf,
)

pytestmark = pytest.mark.django_db

EPUB_TYPE = "application/epub+zip"


def post_file(api, user, group, path_or_bytes, name=None, content_type="application/octet-stream", url="", **fields):
    data = path_or_bytes.read_bytes() if hasattr(path_or_bytes, "read_bytes") else path_or_bytes
    name = name or getattr(path_or_bytes, "name", "upload.bin")
    return api(user).post(
        f"/api/v1/texts/{url}",
        {"group": group.id, "file": SimpleUploadedFile(name, data, content_type=content_type), **fields},
        format="multipart",
    )


def passages(api, user, text_id) -> list[dict]:
    return api(user).get(f"/api/v1/texts/{text_id}/passages/?page_size=500").json()["results"]


def compared(rows) -> list[tuple]:
    return [
        (p["kind"], " ".join(p["body"].split()), p["quoted"], p["cited_works"], p["attribution"], p["footnotes"])
        for p in rows
    ]


def test_inspect_answers_metadata_and_chapters_and_saves_nothing(world, api):
    response = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, url="inspect/")

    assert response.status_code == 200
    assert response.json() == {
        "format": "epub",
        "metadata": {
            "title": "Manifesto of the Communist Party",
            "author": "Karl Marx and Friedrich Engels",
            "language": "en-GB",
            "source": "Marx and Engels, Manifesto of the Communist Party, authorised English translation by "
            "Samuel Moore, edited by Friedrich Engels (London, 1888)",
        },
        "chapters": [
            {"id": "preface-1872", "title": "Preface to the German Edition of 1872", "level": 1},
            {"id": "preamble", "title": "Preamble", "level": 1},
            {"id": "chapter-1", "title": "I. Bourgeois and Proletarians", "level": 1},
            {"id": "chapter-2", "title": "II. Proletarians and Communists", "level": 1},
            {"id": "chapter-4", "title": "IV. Position of the Communists", "level": 1},
            {"id": "endnotes", "title": "Endnotes", "level": 1},
        ],
        "pages": None,
    }
    assert not Text.objects.exists()


def test_inspect_a_pdf_answers_its_metadata_and_page_count(world, api):
    response = post_file(api, world.facilitator, world.group, ESSAY_PDF, url="inspect/")

    assert response.json() == {
        "format": "pdf",
        "metadata": {"title": "The October revolution and the bolsheviks", "language": "en"},
        "chapters": [],
        "pages": 28,
    }


def test_whole_epub_imports_like_its_html_source(world, api):
    book = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, content_type=EPUB_TYPE)
    html = post_file(api, world.organizer, world.group, MANIFESTO_HTML, content_type="text/html")

    assert book.status_code == 201
    body = book.json()
    assert (body["title"], body["author"], body["source"], body["language"], body["format"], body["notices"]) == (
        "Manifesto of the Communist Party",
        "Karl Marx and Friedrich Engels",
        "Marx and Engels, Manifesto of the Communist Party, authorised English translation by Samuel Moore, "
        "edited by Friedrich Engels (London, 1888)",
        "en-GB",
        "epub",
        [],
    )
    book_passages = passages(api, world.member, body["id"])
    html_passages = passages(api, world.member, html.json()["id"])
    assert len(book_passages) == body["passage_count"] == 30
    assert compared(book_passages) == compared(html_passages)
    assert [p["body"] for p in book_passages if p["kind"] == "heading"] == [
        p["body"] for p in html_passages if p["kind"] == "heading"
    ]
    epoch = next(p for p in book_passages if p["body"].startswith("Our epoch"))
    assert [note["label"] for note in epoch["footnotes"]] == ["1"]
    assert epoch["footnotes"][0]["body"].startswith("By bourgeoisie is meant the class of modern Capitalists")


def test_chosen_chapters_as_json_list_or_repeated_form_fields(world, api):
    one = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, chapters=["chapter-1"])
    two = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, chapters=["chapter-2", "preamble"])

    assert (one.status_code, one.json()["title"], one.json()["passage_count"]) == (
        201,
        "Manifesto of the Communist Party: I. Bourgeois and Proletarians",
        7,
    )
    assert (two.json()["title"], two.json()["passage_count"]) == ("Manifesto of the Communist Party", 16)
    bodies = [p["body"][:20] for p in passages(api, world.member, two.json()["id"])]
    # The preamble comes first (spine order), then chapter II.
    assert bodies[:3] == ["Manifesto of the Com", "A spectre is hauntin", "Where is the party i"]
    assert bodies[7:9] == ["II: Proletarians and", "In what relation do "]


def test_given_title_and_author_beat_the_metadata(world, api):
    response = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, title="The Manifesto", author="M & E")

    assert (response.json()["title"], response.json()["author"]) == ("The Manifesto", "M & E")


def test_pdf_imports_with_the_passages_of_its_plain_text(world, api):
    pdf = post_file(api, world.organizer, world.group, ESSAY_PDF, content_type="application/pdf")
    txt = post_file(api, world.organizer, world.group, ESSAY_TXT, content_type="text/plain")

    assert pdf.status_code == 201
    assert (pdf.json()["title"], pdf.json()["format"], pdf.json()["language"]) == (
        "The October revolution and the bolsheviks",
        "pdf",
        "en",
    )
    from_pdf, from_txt = passages(api, world.member, pdf.json()["id"]), passages(api, world.member, txt.json()["id"])
    assert len(from_pdf) == len(from_txt) == 121
    assert [(p["position"], p["body"]) for p in from_pdf if p["kind"] == "heading"] == [
        (p["position"], p["body"]) for p in from_txt if p["kind"] == "heading"
    ]
    same = sum(
        " ".join(a["body"].split()) == " ".join(b["body"].split()) for a, b in zip(from_pdf, from_txt, strict=True)
    )
    assert same / len(from_txt) >= 0.98
    assert [p["footnotes"] for p in from_pdf if p["footnotes"]] == [
        [{"label": "1", "body": "Dated 17 December 1924."}],
        [{"label": "2", "body": "The six conditions are listed in the article's first part."}],
    ]


def test_corrected_pdf_as_a_revision_keeps_anchors_and_notes(world, api):
    first = post_file(api, world.organizer, world.group, ESSAY_PDF)
    text = Text.objects.get(pk=first.json()["id"])
    meanwhile = text.passages.get(body__startswith="Meanwhile, inside Russia itself")
    after = text.passages.get(position=meanwhile.position + 1)
    note = note_create(author=world.member, passage=meanwhile, body="Six.", visibility="group", selector=None)

    response = post_file(
        api, world.organizer, world.group, DATA / "october-notes-corrected.pdf", url=f"{text.id}/revisions/"
    )

    assert (response.status_code, response.json()["revision"], response.json()["passage_count"]) == (201, 2, 122)
    meanwhile.refresh_from_db()
    after.refresh_from_db()
    note.refresh_from_db()
    assert (meanwhile.anchor, meanwhile.retired, meanwhile.body.startswith("Meanwhile, within Russia")) == (
        meanwhile.anchor,
        False,
        True,
    )
    assert (after.retired, after.position) == (False, meanwhile.position + 1)
    assert (note.passage_id, note.anchor_state) == (meanwhile.id, "anchored")
    assert TextRevision.objects.get(text=text, number=2).changes == {"kept": 120, "edited": 1, "added": 1, "retired": 0}


def _edited_epub(replacements: dict[str, tuple[str, str]]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(MANIFESTO_EPUB.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in replacements:
                data = data.decode().replace(*replacements[info.filename]).encode()
            archive.writestr(info, data)
    return out.getvalue()


def test_corrected_epub_as_a_revision_keeps_anchors_and_notes(world, api):
    first = post_file(api, world.organizer, world.group, MANIFESTO_EPUB)
    text = Text.objects.get(pk=first.json()["id"])
    freeman = text.passages.get(body__startswith="Freeman and slave")
    note = note_create(
        author=world.member,
        passage=freeman,
        body="Pairs.",
        visibility="private",
        selector={"start": 0, "end": 17, "exact": "Freeman and slave"},
    )
    corrected = _edited_epub(
        {
            "OEBPS/text/chapter-1.xhtml": (
                "<p>In the earlier epochs",
                "<p>A paragraph the editor added.</p><p>In the earlier epochs",
            ),
            "OEBPS/text/chapter-2.xhtml": ("pretty generally applicable", "pretty generally applicable today"),
        }
    )

    response = post_file(
        api, world.organizer, world.group, corrected, name="manifesto.epub", url=f"{text.id}/revisions/"
    )

    assert (response.status_code, response.json()["revision"]) == (201, 2)
    assert TextRevision.objects.get(text=text, number=2).changes == {"kept": 29, "edited": 1, "added": 1, "retired": 0}
    freeman.refresh_from_db()
    note.refresh_from_db()
    assert (freeman.retired, freeman.footnotes) == (False, [{"label": "3", "body": freeman.footnotes[0]["body"]}])
    assert (note.passage_id, note.anchor_state, note.selector["exact"]) == (freeman.id, "anchored", "Freeman and slave")
    added = text.passages.get(body="A paragraph the editor added.")
    assert (added.position, added.revision_added) == (freeman.position + 1, 2)


def test_reimporting_the_same_epub_makes_no_revision(world, api):
    first = post_file(api, world.organizer, world.group, MANIFESTO_EPUB)

    again = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, url=f"{first.json()['id']}/revisions/")

    assert (again.status_code, again.json()["revision"]) == (200, 1)
    assert again.json()["notices"] == ["This content is identical to revision 1; no new revision was made."]


def _zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


BAD_FILES = [
    ("not-zip.epub", b"PK\x03\x04 nothing", {}, "The file is not an EPUB: it is not a zip archive."),
    (
        "no-container.epub",
        _zip([("mimetype", b"application/epub+zip"), ("x.xhtml", b"<p/>")]),
        {},
        "The file is not an EPUB: it has no META-INF/container.xml (every EPUB has one).",
    ),
    (
        "bomb.epub",
        small_epub([("zeros.bin", bytes(3 * 1024 * 1024))]),
        {"EPUB_MAX_UNCOMPRESSED_BYTES": 1024 * 1024},
        "The EPUB unpacks to 3.0 MB; at most 1.0 MB is allowed (an archive this large is refused as a possible "
        "zip bomb).",
    ),
    (
        "many.epub",
        small_epub([(f"f{n}.txt", b"x") for n in range(10)]),
        {"EPUB_MAX_ENTRIES": 10},
        "The EPUB holds 15 files; at most 10 are allowed (an archive this large is refused as a possible zip bomb).",
    ),
    (
        "evil.epub",
        small_epub([("../evil.sh", b"rm -rf /")]),
        {},
        "The EPUB contains an unsafe file name “../evil.sh” (path traversal); it is refused.",
    ),
    (
        "drm.epub",
        small_epub([("META-INF/rights.xml", b"<rights/>")]),
        {},
        "The EPUB is protected by DRM (it carries rights information). Only DRM-free EPUBs can be imported: "
        "export the text from the shop's own reader, or use a DRM-free edition.",
    ),
    (
        "locked.pdf",
        tiny_pdf([["A secret page of text for nobody."]], user_password="secret"),
        {},
        "The PDF is encrypted with a password. Remove the password (print or save it as a new PDF) and upload it "
        "again.",
    ),
    (
        "broken.pdf",
        tiny_pdf([["Objects nobody can find any more."]], break_xref=True),
        {},
        "The PDF is damaged and cannot be read (it has no document catalogue). Save or print it to a new PDF and "
        "upload that.",
    ),
    (
        "long.pdf",
        tiny_pdf([[f"Page {n} says something."] for n in range(6)]),
        {"PDF_MAX_PAGES": 5},
        "The PDF has more than 5 pages, the most we import at once. Split it into parts and import those.",
    ),
    (
        "bomb.pdf",
        tiny_pdf([["A page with a bomb in it."]], extra_stream=zlib.compress(bytes(3 * 1024 * 1024))),
        {"PDF_MAX_DECODED_BYTES": 1024 * 1024},
        "The PDF's compressed streams unpack to more than the limit allows (a decompression bomb?); it is refused.",
    ),
    (
        "scan.pdf",
        SCANNED_PDF.read_bytes(),
        {},
        "This PDF has no text layer: it looks like a scan (pictures of pages). Run it through OCR first (for "
        "example OCRmyPDF) and upload the result, or paste the text.",
    ),
    (
        "big.pdf",
        ESSAY_PDF.read_bytes(),
        {"PDF_MAX_BYTES": 50_000},
        "The PDF is 0.1 MB; the limit is 0.0 MB.",
    ),
]


# Inspecting a PDF reads its catalogue and page tree, not its pages: a bomb in
# a page or a missing text layer is found when it is imported.
FOUND_BY_INSPECT = [row for row in BAD_FILES if row[0] not in ("bomb.pdf", "scan.pdf")]
CASES = [
    pytest.param(url, *row, id=f"{url or 'import'}-{row[0]}")
    for url in ("", "revision", "inspect/")
    for row in (FOUND_BY_INSPECT if url == "inspect/" else BAD_FILES)
]


@pytest.mark.parametrize(("url", "name", "data", "limits", "message"), CASES)
def test_bad_files_are_400s_naming_the_problem_and_write_nothing(
    world, api, settings, url, name, data, limits, message
):
    for setting, value in limits.items():
        setattr(settings, setting, value)
    before = None
    if url == "revision":
        before = post_file(api, world.organizer, world.group, small_epub(), name="small.epub").json()
        url = f"{before['id']}/revisions/"
    counts = (Text.objects.count(), Passage.objects.count(), TextRevision.objects.count())

    response = post_file(api, world.organizer, world.group, data, name=name, url=url)

    assert response.status_code == 400
    assert response.json() == {"detail": f"file: {message}", "errors": {"file": [message]}}
    assert (Text.objects.count(), Passage.objects.count(), TextRevision.objects.count()) == counts


def test_unknown_chapter_is_a_400_on_chapters(world, api):
    response = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, chapters=["chapter-9"])

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["chapters"]
    assert not Text.objects.exists()


def test_chapters_with_a_pdf_or_pasted_epub_are_400s(world, api):
    pdf = post_file(api, world.organizer, world.group, ESSAY_PDF, chapters=["1"])
    pasted = api(world.organizer).post(
        "/api/v1/texts/", {"group": world.group.id, "content": "PK", "format": "epub"}, format="json"
    )

    assert pdf.json()["errors"] == {"chapters": ["Chapters can only be chosen from an EPUB."]}
    assert pasted.json()["errors"] == {"format": ["A EPUB cannot be pasted as content: upload the file."]}


def test_a_pdf_larger_than_texts_may_be_passes_the_request_limits(world, api, settings):
    settings.TEXT_MAX_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 3000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 3000
    settings.UPLOAD_MAX_BYTES = 200_000

    response = post_file(api, world.organizer, world.group, ESSAY_PDF)
    too_big = post_file(api, world.organizer, world.group, ESSAY_PDF.read_bytes() * 3, name="three.pdf")

    assert (response.status_code, response.json()["passage_count"]) == (201, 121)
    assert too_big.status_code == 400
    assert too_big.json()["detail"] == (
        "file: The request is 0.2 MB; texts may be up to 0.0 MB, EPUBs 50.0 MB and PDFs 50.0 MB."
    )


def test_default_limits_let_fifty_megabyte_pdfs_through(settings):
    assert settings.PDF_MAX_BYTES == settings.EPUB_MAX_BYTES == 50 * 1024 * 1024
    assert settings.UPLOAD_MAX_BYTES > settings.PDF_MAX_BYTES


def test_chapters_with_a_file_spooled_to_disk(world, api, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # the EPUB goes to a temporary file, as a large one would

    response = post_file(api, world.organizer, world.group, MANIFESTO_EPUB, chapters=["chapter-1", "chapter-2"])

    assert (response.status_code, response.json()["passage_count"]) == (201, 16)
