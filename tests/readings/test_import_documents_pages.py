"""EPUB and PDF on the web: the import page's two steps, and footnotes in the reader and every pack format."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from readings.models import Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import

from .documents import ESSAY_PDF, MANIFESTO_EPUB, small_epub

pytestmark = pytest.mark.django_db


def import_url(world) -> str:
    return f"/groups/{world.group.pk}/texts/import/"


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_epub_upload_shows_its_chapters_first_and_saves_nothing(world, client):
    client.force_login(world.organizer)

    response = client.post(
        import_url(world), {"file": SimpleUploadedFile("manifesto.epub", MANIFESTO_EPUB.read_bytes())}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Step 2 of 2: choose the chapters to import." in page
    assert re.findall(r'<input type="checkbox" name="chapters" value="([^"]+)" checked>', page) == [
        "preface-1872",
        "preamble",
        "chapter-1",
        "chapter-2",
        "chapter-4",
        "endnotes",
    ]
    assert "Title Manifesto of the Communist Party Author Karl Marx and Friedrich Engels Language en-GB" in words(
        response
    )
    assert re.search(r'name="upload" value="[\w-]{16,}"', page)
    assert not Text.objects.exists()


def test_second_step_imports_the_chosen_chapters(world, client):
    client.force_login(world.organizer)
    first = client.post(import_url(world), {"file": SimpleUploadedFile("manifesto.epub", MANIFESTO_EPUB.read_bytes())})
    token = re.search(r'name="upload" value="([^"]+)"', first.content.decode()).group(1)

    response = client.post(
        import_url(world), {"upload": token, "step": "chapters", "chapters": ["chapter-1"], "title": "", "author": ""}
    )

    text = Text.objects.get()
    assert response.headers["Location"] == f"/texts/{text.pk}/"
    assert (text.title, text.author, text.language, text.passages.count()) == (
        "Manifesto of the Communist Party: I. Bourgeois and Proletarians",
        "Karl Marx and Friedrich Engels",
        "en-GB",
        7,
    )
    detail = words(client.get(f"/texts/{text.pk}/"))
    assert "The history of all hitherto existing society is the history of class struggles." in detail
    # The token is spent: the same second step again has nothing to import.
    again = client.post(import_url(world), {"upload": token, "step": "chapters", "chapters": ["chapter-1"]})
    assert again.status_code == 400
    assert "The uploaded file has expired; upload it again." in again.content.decode()
    assert Text.objects.count() == 1


def test_second_step_without_a_chapter_asks_again(world, client):
    client.force_login(world.organizer)
    first = client.post(import_url(world), {"file": SimpleUploadedFile("manifesto.epub", MANIFESTO_EPUB.read_bytes())})
    token = re.search(r'name="upload" value="([^"]+)"', first.content.decode()).group(1)

    response = client.post(import_url(world), {"upload": token, "step": "chapters"})

    assert response.status_code == 400
    assert "Choose at least one chapter." in response.content.decode()
    assert "Step 2 of 2" in response.content.decode()
    assert not Text.objects.exists()


def test_another_persons_upload_token_is_not_theirs(world, client):
    client.force_login(world.organizer)
    first = client.post(import_url(world), {"file": SimpleUploadedFile("manifesto.epub", MANIFESTO_EPUB.read_bytes())})
    token = re.search(r'name="upload" value="([^"]+)"', first.content.decode()).group(1)
    client.force_login(world.facilitator)

    response = client.post(import_url(world), {"upload": token, "step": "chapters", "chapters": ["chapter-1"]})

    assert response.status_code == 400
    assert not Text.objects.exists()


def test_pdf_and_single_chapter_epub_import_in_one_step(world, client):
    client.force_login(world.facilitator)
    single = small_epub(
        entries=[
            ("mimetype", b"application/epub+zip"),
            *[(name, data) for name, data in _small_entries() if name != "two.xhtml"],
        ]
    )

    pdf = client.post(import_url(world), {"file": SimpleUploadedFile("notes.pdf", ESSAY_PDF.read_bytes())})
    epub = client.post(import_url(world), {"file": SimpleUploadedFile("small.epub", single)})

    assert (pdf.status_code, epub.status_code) == (302, 302)
    assert sorted(Text.objects.values_list("title", "original_format")) == [
        ("A Small Book", "epub"),
        ("The October revolution and the bolsheviks", "pdf"),
    ]


def _small_entries():
    from .documents import CONTAINER, opf, page

    return [
        ("META-INF/container.xml", CONTAINER),
        ("content.opf", opf([("one", "one.xhtml")])),
        ("one.xhtml", page("<h2>One</h2><p>The only chapter.</p>")),
    ]


def test_import_page_refuses_a_scan_on_the_file_field(world, client):
    from .documents import SCANNED_PDF

    client.force_login(world.organizer)

    response = client.post(import_url(world), {"file": SimpleUploadedFile("scan.pdf", SCANNED_PDF.read_bytes())})

    assert response.status_code == 400
    assert re.search(r'class="field-error" id="id_file_error">This PDF has no text layer', response.content.decode())
    assert not Text.objects.exists()


@pytest.fixture
def manifesto_reading(world):
    text = text_import(
        group=world.group, created_by=world.organizer, data=MANIFESTO_EPUB.read_bytes(), filename="m.epub"
    )
    start = text.passages.get(body__startswith="The history of all hitherto")
    end = text.passages.get(body__startswith="Freeman and slave")
    return assignment_create(session=world.session, text=text, start_passage=start, end_passage=end)


def test_reader_shows_the_footnotes_under_their_passage(world, client, manifesto_reading):
    client.force_login(world.member)

    page = client.get(f"/sessions/{world.session.pk}/read/").content.decode()

    notes = re.findall(
        r'<aside class="passage-footnotes" aria-label="Footnotes of passage (\d+)">\s*<ol>(.*?)</ol>', page
    )
    assert [(position, re.sub(r"<[^>]+>", "", items)[:40]) for position, items in notes] == [
        ("14", "2 That is, all written history. In 1847,"),
        ("15", "3 Guild-master, that is, a full member o"),
    ]


def test_pack_carries_footnotes_in_json_markdown_and_html(world, api, manifesto_reading):
    client = api(world.member)
    base = f"/api/v1/sessions/{world.session.pk}/pack/"

    pack = client.get(base).json()
    markdown = client.get(base + "?format=md").content.decode()
    printable = client.get(base + "?format=html").content.decode()

    assert [p["footnotes"] for p in pack["readings"][0]["passages"]] == [
        [{"label": "2", "body": pack["readings"][0]["passages"][0]["footnotes"][0]["body"]}],
        [
            {
                "label": "3",
                "body": "Guild-master, that is, a full member of a guild, a master within, not a head of a "
                "guild. [Engels, 1888 English edition]",
            }
        ],
    ]
    assert "> *3.* Guild-master, that is, a full member of a guild" in markdown
    assert '<li><span class="fn-label">3</span> Guild-master, that is, a full member of a guild' in printable
