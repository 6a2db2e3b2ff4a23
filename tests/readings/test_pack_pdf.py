"""The PDF pack (Typst): the same words as the printable HTML, markers equal to the note numbers, inert.

Each test renders a real PDF and reads it back with poppler (pdftotext,
pdfinfo, pdffonts), as a facilitator's printer would see it.
"""

import re
import shutil
import subprocess
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import rest_framework
from lxml import html as lxml_html

from readings.pack import formats, typesetting
from readings.pack.builder import build_pack, pack_scope
from readings.services.importing import text_revise
from readings.services.notes import note_create, note_delete, note_set_hidden
from readings.services.questions import question_create
from sessions_app.selectors import membership_for

from ..conftest import service_unavailable
from ..factories import MembershipFactory, UserFactory
from .conftest import at

pytestmark = pytest.mark.django_db

# A4 in points, and the page margins of readings/pack/pack.typ: the running header and the
# page numbers live in the top and bottom margins, outside the text that is compared.
PAGE_WIDTH, PAGE_HEIGHT, TOP, BOTTOM = 595, 842, 57, 62
RICH_NOTE = (
    "Compare **the land** with *peace*; see [the decree](https://example.org/decree) and `§12`.\n\n"
    "- first point\n- second point\n\n"
    "> a quotation\n\n"
    "1. one\n2. two"
)


def poppler(tool: str) -> str:
    if not shutil.which(tool):
        service_unavailable(tool, "install poppler-utils (.ci/system-packages does)")
    return tool


def pdf_text(data: bytes, tmp_path, *, crop: bool = True) -> str:
    """The PDF's words in the order they were laid out (pdftotext -raw), without the page margins if `crop`."""
    path = tmp_path / "pack.pdf"
    path.write_bytes(data)
    args = [poppler("pdftotext"), "-raw", "-nopgbrk"]
    if crop:
        args += ["-x", "0", "-y", str(TOP), "-W", str(PAGE_WIDTH), "-H", str(PAGE_HEIGHT - TOP - BOTTOM)]
    return subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_texts(data: bytes, tmp_path) -> list[str]:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        [poppler("pdftotext"), "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def squeeze(text: str) -> str:
    """Text compared without layout: compatibility-normalised (ligatures), no whitespace, no list bullets."""
    return re.sub(r"[\s•‣]", "", unicodedata.normalize("NFKC", text))


def assert_prints_sections_in_order(printed: str, sections: list[tuple[str, str]]) -> None:
    """The squeezed PDF text is each HTML section's words, in order, and nothing else."""
    position = 0
    for name, text in sections:
        expected = squeeze(text)
        assert printed[position : position + len(expected)] == expected, f"section {name} differs"
        position += len(expected)
    assert printed[position:] == ""


def printed_text(element) -> str:
    """The words a browser prints for an HTML element: its text, with ordered lists' numbers, CSS capitals.

    (The footnotes' list shows no numbers: each footnote prints its own label.)
    """
    parts: list[str] = []

    def walk(node, upper: bool) -> None:
        if not isinstance(node.tag, str):
            return
        upper = upper or "group" in node.get("class", "").split()
        numbered = not node.xpath("ancestor::*[contains(concat(' ', @class, ' '), ' footnotes ')]")
        if node.tag == "li" and node.getparent().tag == "ol" and numbered:
            siblings = [li for li in node.getparent() if li.tag == "li"]
            start = int(node.getparent().get("start", "1"))
            parts.append(f"{node.get('value') or start + siblings.index(node)}. ")
        if node.text:
            parts.append(node.text.upper() if upper else node.text)
        for child in node:
            walk(child, upper)
            if child.tail:
                parts.append(child.tail.upper() if upper else child.tail)

    walk(element, False)
    return "".join(parts)


def html_sections(data: bytes) -> list[tuple[str, str]]:
    """(name, printed text) of each section of the printable HTML, in order."""
    page = lxml_html.fromstring(data)
    sections = page.xpath("//article[@class='pack']/*[self::header or self::section or self::footer]")
    return [(f"{node.tag}.{node.get('class')}#{node.get('id', '')}", printed_text(node)) for node in sections]


@pytest.fixture
def member_b(world):
    user = UserFactory(username="member_b", display_name="Member B")
    MembershipFactory(group=world.group, user=user)
    return user


@pytest.fixture
def pack_of(world):
    def build(user) -> dict:
        scope = pack_scope(user=user, session=world.session, membership=membership_for(user, world.group.pk))
        return build_pack(scope)

    return build


@pytest.fixture
def discussed(world, essay, reading, member_b):
    """Every kind of thing the pack prints: quoted words with several notes, threads, Markdown, questions."""
    world.session.location = "Library, room 2"
    world.session.online_url = "https://meet.example.org/october"
    world.session.description = "Bring the text.\nWe start on time."
    world.session.save()
    twelve, fourteen = at(essay, 12), at(essay, 14)
    start = twelve.body.index("hungry for land")
    land = {"start": start, "end": start + 15, "exact": "hungry for land"}
    question_create(
        session=world.session,
        author=world.organizer,
        prompt="Why did the peasants follow the Bolsheviks?",
        kind="opening",
        passages=[twelve, fourteen],
        minutes=10,
        facilitator_notes="Start from §12.",
    )
    question_create(session=world.session, author=world.organizer, prompt="What would you\nhave done?")
    first = note_create(author=member_b, passage=twelve, body=RICH_NOTE, visibility="group", selector=land)
    reply = note_create(author=world.member, passage=twelve, body="A reply with *emphasis*.", parent=first)
    note_create(author=member_b, passage=twelve, body="A reply to the reply.", parent=reply)
    note_create(author=world.member, passage=twelve, body="Same words again.", visibility="group", selector=land)
    note_create(author=world.member, passage=twelve, body="On the whole passage.", visibility="private")
    for n in range(4):
        note_create(author=member_b, passage=fourteen, body=f"One of four, {n}.", visibility="group", tags=["theme"])
    gone = note_create(author=member_b, passage=fourteen, body="Soon deleted.", visibility="group")
    note_create(author=world.member, passage=fourteen, body="The reply outlives it.", parent=gone)
    note_delete(note=gone)
    hidden = note_create(author=world.member, passage=at(essay, 16), body="Mine, hidden.", visibility="group")
    note_create(author=member_b, passage=at(essay, 16), body="A reply under it.", parent=hidden)
    note_set_hidden(note=hidden, hidden=True, by=world.organizer)  # its author still sees it, marked
    thirteen = at(essay, 13)
    note_create(author=member_b, passage=thirteen, body="On words that go.", visibility="group")
    text_revise(text=essay, created_by=None, content=essay.full_text.replace(thirteen.body + "\n\n", ""))
    twelve.refresh_from_db()  # the original's own footnotes, as an imported EPUB or PDF brings them
    twelve.footnotes = [
        {"label": "1", "body": "Lenin, “The Tasks of the Proletariat”, 1917."},
        {"label": "*", "body": "As the 1924 text has it."},
    ]
    twelve.save()
    return {"twelve": twelve, "fourteen": fourteen}


def test_pdf_prints_the_same_sections_and_words_as_the_printable_html(world, discussed, pack_of, tmp_path):
    pack = pack_of(world.member)

    sections = html_sections(formats.html(pack))
    printed = squeeze(pdf_text(formats.pdf(pack), tmp_path))

    assert [name for name, _ in sections] == [
        "header.masthead#",
        "section.reading#reading-1",
        "section.questions#questions",
        "footer.colophon#",
    ]
    assert_prints_sections_in_order(printed, sections)


def test_pdf_note_markers_are_separate_and_equal_the_numbers_in_the_note_lists(world, discussed, pack_of, tmp_path):
    text = " ".join(pdf_text(formats.pdf(pack_of(world.member)), tmp_path).split())

    # §12: notes 1 and 2 quote "hungry for land", note 3 is on the whole passage; notes 4–8 are on
    # the whole of the next one (§13 since the revision), 8 deleted with its reply kept.
    assert "hungry for land1,2" in text
    assert "1. “hungry for land” Compare the land with peace; see the decree and §12." in text
    assert "2. “hungry for land” Same words again. — Member" in text
    assert "3. On the whole passage. — Member · private" in text
    assert "within the country”.4–8 4. One of four, 0. — Member B · #theme" in text
    assert [f"{n}. One of four, {n - 4}. — Member B · #theme" in text for n in (5, 6, 7)] == [True] * 3
    assert "8. (deleted) The reply outlives it. — Member" in text
    assert "9. Mine, hidden. — Member · hidden by an organizer A reply under it. — Member B" in text
    assert "Notes whose words changed in a later revision 10. On words that go. — Member B" in text


def test_pdf_nests_replies_under_their_note(world, discussed, pack_of, tmp_path):
    text = pdf_text(formats.pdf(pack_of(world.member)), tmp_path)

    lines = [line.strip() for line in text.splitlines()]
    thread = lines[lines.index("1. one") + 2 : lines.index("1. one") + 5]
    assert thread == ["— Member B", "A reply with emphasis. — Member", "A reply to the reply. — Member B"]


def test_pdf_has_no_blank_pages_and_numbers_every_page(world, discussed, pack_of, tmp_path):
    pages = page_texts(formats.pdf(pack_of(world.member)), tmp_path)

    total = len(pages)
    assert total >= 2
    assert [page.strip().splitlines()[-1] for page in pages] == [f"{n} / {total}" for n in range(1, total + 1)]
    assert all(len(page.split()) > 20 or "Questions for discussion" in page for page in pages)
    assert "Questions for discussion" in pages[-1]


def test_pdf_links_only_to_http_and_mailto_addresses(world, essay, reading, pack_of, tmp_path):
    note_create(
        author=world.member,
        passage=at(essay, 12),
        body="[web](https://example.org/a) [mail](mailto:a@example.org) [ftp](ftp://example.org/f) "
        "[js](javascript:alert(1)) ![a picture](https://example.org/p.png)",
        visibility="group",
    )
    path = tmp_path / "links.pdf"
    path.write_bytes(formats.pdf(pack_of(world.member)))

    listing = subprocess.run([poppler("pdfinfo"), "-url", str(path)], capture_output=True, text=True, check=True)
    urls = {line.split()[-1] for line in listing.stdout.splitlines()[1:] if line.strip()}
    text = " ".join(pdf_text(path.read_bytes(), tmp_path).split())
    assert urls == {"https://example.org/a", "mailto:a@example.org", "https://example.org/p.png"}
    assert "web mail ftp js a picture" in text


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Counter.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_pdf_fetches_nothing_for_a_notes_images(world, essay, reading, pack_of, tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/tracker.png"
    _Counter.hits = []
    note_create(
        author=world.member,
        passage=at(essay, 12),
        body=f"![tracker]({url}) and ![local](file:///etc/passwd)",
        visibility="group",
    )
    try:
        data = formats.pdf(pack_of(world.member))
    finally:
        server.shutdown()

    assert data.startswith(b"%PDF-")
    assert _Counter.hits == []
    assert "tracker and local" in " ".join(pdf_text(data, tmp_path).split())


def test_pdf_prints_typst_markup_in_user_text_as_plain_words(world, essay, reading, pack_of, tmp_path):
    world.session.title = '#set page(fill: red) #read("/etc/passwd") ]'
    world.session.save()
    hostile = '#pagebreak() = Heading *bold* $x^2$ #image("https://example.org/x.png") \\ ) ] } "'
    note_create(author=world.member, passage=at(essay, 12), body=f"`{hostile}`", visibility="group")

    data = formats.pdf(pack_of(world.member))

    text = " ".join(pdf_text(data, tmp_path).split())
    assert '#set page(fill: red) #read("/etc/passwd") ]' in text
    assert hostile in text
    assert "root:" not in text


def test_pdf_uses_only_the_fonts_inside_the_typst_wheel(world, discussed, pack_of, tmp_path):
    path = tmp_path / "fonts.pdf"
    path.write_bytes(formats.pdf(pack_of(world.member)))

    listing = subprocess.run([poppler("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout
    families = {re.sub(r"^[A-Z]{6}\+", "", line.split()[0]).split("-")[0] for line in listing.splitlines()[2:]}
    assert families <= {"LibertinusSerif", "DejaVuSansMono"}
    assert "LibertinusSerif" in families


def test_pdf_takes_missing_glyphs_from_the_font_folders_in_settings(world, essay, reading, pack_of, tmp_path, settings):
    # DRF ships FontAwesome; its heart (U+F004) is in no font inside the typst wheel.
    fonts = Path(rest_framework.__file__).parent / "static" / "rest_framework" / "fonts"
    note_create(author=world.member, passage=at(essay, 12), body="I \uf004 this passage.", visibility="group")
    pack = pack_of(world.member)
    without, with_folder = tmp_path / "without.pdf", tmp_path / "with.pdf"

    without.write_bytes(formats.pdf(pack))
    settings.PACK_PDF_FONT_DIRS = [str(fonts)]
    with_folder.write_bytes(formats.pdf(pack))

    def families(path: Path) -> set[str]:
        listing = subprocess.run([poppler("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout
        return {re.sub(r"^[A-Z]{6}\+", "", line.split()[0]).split("-")[0] for line in listing.splitlines()[2:]}

    assert "FontAwesome" not in families(without)
    assert "FontAwesome" in families(with_folder)


def test_a_typst_error_or_a_compile_past_its_time_fails_the_render_with_the_reason(
    world, essay, reading, pack_of, tmp_path, settings, monkeypatch
):
    pack = pack_of(world.member)
    broken = tmp_path / "broken.typ"
    broken.write_text("#let doc = json(bytes(sys.inputs.pack))\n#doc.no_such_field\n")
    monkeypatch.setattr(typesetting, "TEMPLATE", broken)

    with pytest.raises(typesetting.TypesetError, match='dictionary does not contain key "no_such_field"'):
        formats.pdf(pack)

    slow = tmp_path / "slow.typ"
    slow.write_text("#for i in range(50000000) { }\n")  # about 5 s of Typst's time
    monkeypatch.setattr(typesetting, "TEMPLATE", slow)
    settings.PACK_PDF_TIMEOUT_SECONDS = 1
    with pytest.raises(typesetting.TypesetError, match=r"Typst took longer than 1 s\."):
        formats.pdf(pack)


def test_facilitators_pdf_prints_the_brief_with_the_same_words_as_the_printable_html(
    world, discussed, pack_of, tmp_path
):
    from readings.services.notes import note_mark_helpful
    from readings.services.progress import progress_record

    note_create(
        author=world.member,
        passage=discussed["fourteen"],
        body="What does this mean?",
        visibility="group",
        tags=["question"],
    )
    note_mark_helpful(
        note=discussed["twelve"].notes.filter(parent=None, visibility="group").first(), user=world.facilitator
    )
    progress_record(user=world.member, session=world.session, passages=[discussed["twelve"]])
    question_create(session=world.session, author=world.member, prompt="Shall we read §20 too?", propose=True)
    pack = pack_of(world.facilitator)

    sections = html_sections(formats.html(pack))
    printed = squeeze(pdf_text(formats.pdf(pack), tmp_path))

    assert [name for name, _ in sections][:2] == ["header.masthead#", "section.brief#brief"]
    brief_text = dict(sections)["section.brief#brief"]
    assert "Question 1: Why did the peasants follow the Bolsheviks? (no answer yet)" in brief_text
    assert "1 note asking" in brief_text
    assert "Member: " in brief_text
    assert "Shall we read §20 too? (Member)" in brief_text
    assert_prints_sections_in_order(printed, sections)
