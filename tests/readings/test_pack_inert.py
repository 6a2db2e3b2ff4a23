"""Every export of the pack is inert: no script, no remote resource, no link but http(s) and mailto, and no
field that can rewrite the structure of the file it sits in."""

import io
import os
import shutil
import subprocess
import zipfile
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from readings.models import Note
from readings.services.notes import note_create
from readings.services.questions import question_create

from ..conftest import service_unavailable
from .conftest import at, pack_response

pytestmark = pytest.mark.django_db

# What members have typed into notes, each meant to run script, fetch something or break out of the file.
HOSTILE_BODIES = [
    "<script>alert('note')</script> and <img src=x onerror=alert(1)> and <b onmouseover=alert(2)>bold</b>",
    "[js](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox(1)) "
    "[file](file:///etc/passwd) [relative](/admin/) [ftp](ftp://files.example.org/f) [proto](//evil.example/x)",
    "![tracking pixel](http://tracker.example/pixel.png?u=1) ![](https://tracker.example/no-alt.png) "
    "![inline](data:image/png;base64,iVBORw0KGgo=) ![local](file:///etc/passwd)",
    '<a href="javascript:alert(1)" onclick="alert(2)">raw link</a> <iframe src="http://evil.example/"></iframe> '
    "<style>body{background:url(http://tracker.example/bg.png)}</style> <svg onload=alert(3)></svg>",
    "Line one\n# Heading injected\n- list injected\n\n```\n</code><script>x</script>\n```\n\n> quoted\n\n"
    "<!-- comment --> &lt;script&gt; ]]> <![CDATA[ x ]]> \x0c form feed",
    "Good links: [site](https://example.org/a_(b)?q=1&r=2) <https://example.org/auto> [mail](mailto:a@example.org)",
]


@pytest.fixture
def hostile(world, essay, reading):
    """A session whose every field, and the notes on it, were written by someone hostile."""
    session = world.session
    session.title = "Week one\n# Injected heading\n<script>alert('title')</script>"
    session.location = "Room 1\n- injected item\n[x](javascript:alert(1))"
    session.online_url = "javascript:alert('online')"  # saved past validation, as an old row might be
    session.save()
    world.group.name = "Readers\n===\n<img src=http://tracker.example/g.png>"
    world.group.save()
    reading.instructions = "Read this.\n# Not a heading\n- not a list\n<script>alert('i')</script>"
    reading.save()
    essay.title = "Essay\n---"
    essay.author = "An Author\n1. not a list"
    essay.save()
    world.member.display_name = "Eve\n# Owned <script>alert('name')</script>"
    world.member.save()
    question_create(
        session=session,
        author=world.organizer,
        prompt="- Why?\n1. Really?\n<script>alert('q')</script>",
        passages=[at(essay, 12)],
        facilitator_notes="Start here.\n# Not a heading\n![pixel](http://tracker.example/f.png)",
    )
    passage = at(essay, 12)
    passage.footnotes = [
        {"label": "1\n# x", "body": "An imported note.\n# Not a heading\n<script>alert('fn')</script>"}
    ]
    passage.save()
    start = passage.body.index("hungry for land")
    first = note_create(
        author=world.member,
        passage=passage,
        body=HOSTILE_BODIES[0],
        visibility="group",
        selector={"start": start, "end": start + 15, "exact": "hungry for land"},
        tags=["a_b", "c_d"],
    )
    for body in HOSTILE_BODIES[1:]:
        note_create(author=world.member, passage=passage, body=body, visibility="group")
    note_create(author=world.facilitator, passage=passage, body=HOSTILE_BODIES[2], parent=first)
    # A mention shows the member's display name, which is anything they typed.
    world.facilitator.display_name = "Fay\n# Owned <script>alert('mention')</script> [x](javascript:alert(2))"
    world.facilitator.save()
    note_create(author=world.member, passage=passage, body="Ask @facilitator, then @organizer.", visibility="group")
    return session


def pack(api, user, world, fmt: str) -> bytes:
    response = pack_response(api, user, world, fmt)
    assert response.status_code == 200
    return response.content


def epub_pages(data: bytes) -> dict[str, str]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name).decode() for name in archive.namelist() if name.endswith((".xhtml", ".html"))}


PIXEL_LINK = '<a href="http://tracker.example/pixel.png?u=1" rel="noopener noreferrer nofollow">tracking pixel</a>'
SAFE_SCHEMES = {"http", "https", "mailto"}
REFERENCING = {"src", "srcset", "poster", "data", "background", "action", "formaction", "xlink:href", "cite"}
ACTIVE = {"script", "iframe", "frame", "object", "embed", "img", "image", "svg", "video", "audio", "source", "form"}


def inertness_faults(markup: str, *, local_files: bool = False) -> list[str]:
    """Everything in `markup` that runs script, fetches a resource, or links anywhere but http(s)/mailto.

    With `local_files` (an EPUB), links and the stylesheet may name files inside the book.
    """
    faults = []
    soup = BeautifulSoup(markup, "xml" if local_files else "lxml")
    for element in soup.find_all(True):
        if element.name in ACTIVE:
            faults.append(f"<{element.name}>")
        for attribute, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if attribute.lower().startswith("on"):
                faults.append(f"{attribute}= on <{element.name}>")
            elif attribute.lower() in REFERENCING:
                faults.append(f"{attribute}={value!r} on <{element.name}>")
            elif attribute.lower() == "href":
                parts = urlsplit(value.strip())
                local = local_files and not parts.scheme and not parts.netloc and not value.startswith("/")
                if not (parts.scheme.lower() in SAFE_SCHEMES or value.startswith("#") or local):
                    faults.append(f"href={value!r} on <{element.name}>")
            elif attribute.lower() == "style" and "url(" in value:
                faults.append(f"style with url() on <{element.name}>")
    for style in soup.find_all("style"):
        if "url(" in style.text or "@import" in style.text:
            faults.append("<style> that fetches")
    return faults


def test_the_checker_finds_what_it_looks_for():
    assert inertness_faults(
        '<p onclick="x">a</p><img src="http://t/p.png"><a href="javascript:x">j</a><a href="/rel">r</a>'
        '<a href="https://ok.example/">ok</a><a href="#note-1">n</a><style>p{background:url(http://t/)}</style>'
    ) == [
        "onclick= on <p>",
        "<img>",
        "src='http://t/p.png' on <img>",
        "href='javascript:x' on <a>",
        "href='/rel' on <a>",
        "<style> that fetches",
    ]


# --- Note Markdown, rendered: images become links, only http(s)/mailto links survive ------------------


def test_a_notes_image_becomes_a_link_with_its_text_wherever_the_note_is_shown(world, api, essay, reading):
    body = (
        "See ![the map](http://tracker.example/map.png) and ![](https://tracker.example/x.png) "
        "![d](data:image/png;base64,AA)"
    )

    note = api(world.member).post(
        "/api/v1/notes/", {"passage": at(essay, 12).id, "body": body, "visibility": "group"}, format="json"
    )

    rel = 'rel="noopener noreferrer nofollow"'
    assert note.json()["body_html"] == (
        f'<p>See <a href="http://tracker.example/map.png" {rel}>the map</a> and '
        f'<a href="https://tracker.example/x.png" {rel}>https://tracker.example/x.png</a> d</p>'
    )


def test_a_notes_links_keep_only_http_https_and_mailto(world, api, essay, reading):
    note = note_create(author=world.member, passage=at(essay, 12), body=HOSTILE_BODIES[1], visibility="group")

    assert inertness_faults(note.body_html) == []
    assert note.body_html == "<p>js data vb file relative ftp proto</p>"


# --- The Markdown pack ----------------------------------------------------------------------------


def test_markdown_pack_keeps_every_field_on_its_line_and_every_note_inert(world, api, hostile):
    text = pack(api, world.member, world, "md").decode()
    lines = text.splitlines()

    assert lines[0] == "# Week one \\# Injected heading \\<script\\>alert('title')\\</script\\>"
    assert lines[2].startswith("**Readers === \\<img src=http://tracker.example/g.png\\>** · ")
    assert lines[3] == "Where: Room 1 - injected item \\[x\\](javascript:alert(1))"
    assert lines[4] == "Online: javascript:alert('online')"
    assert "## Essay --- — An Author 1. not a list" in lines
    assert "> Read this.\\" in lines
    assert "> \\# Not a heading\\" in lines
    assert "> \\- not a list\\" in lines
    assert "> \\<script\\>alert('i')\\</script\\>" in lines
    author = "*Eve \\# Owned \\<script\\>alert('name')\\</script\\>*"
    assert (
        "- **[1]** “hungry for land” \\<script\\>alert('note')\\</script\\> and \\<img src=x onerror=alert(1)\\> "
        f"and \\<b onmouseover=alert(2)\\>bold\\</b\\> — {author} #a\\_b #c\\_d"
    ) in lines
    assert f"- **[2]** js data vb file relative ftp proto — {author}" in lines
    assert (
        "- **[3]** [tracking pixel](http://tracker.example/pixel.png?u=1) "
        "[https://tracker.example/no-alt.png](https://tracker.example/no-alt.png) inline local — " + author
    ) in lines
    assert (
        "- **[6]** Good links: [site](https://example.org/a_%28b%29?q=1&r=2) "
        "[https://example.org/auto](https://example.org/auto) [mail](mailto:a@example.org) — " + author
    ) in lines
    assert "> *1 \\# x.* An imported note.\\" in lines
    assert "> \\# Not a heading\\" in lines
    assert "> \\<script\\>alert('fn')\\</script\\>  " in lines
    assert "1. \\- Why? 1. Really? \\<script\\>alert('q')\\</script\\> *(discussion · §12)*" in lines


BRIEF_HEADINGS = [
    "Facilitator’s brief",
    "Who has read",
    "Where members got stuck",
    "Questions and their answers",
    "Most helpful notes",
    "Most replied-to notes",
    "Proposed questions waiting for a decision",
]


def test_markdown_pack_renders_to_exactly_its_own_structure_and_nothing_active(world, api, hostile):
    """Read by any Markdown viewer (this one even passes raw HTML through), the pack has only our headings,
    our list items and our quotes, no HTML and no link but http(s)/mailto."""
    viewer = MarkdownIt("commonmark", {"html": True})
    text = pack(api, world.facilitator, world, "md").decode()
    data = api(world.facilitator).get(f"/api/v1/sessions/{world.session.id}/pack/").json()
    passages = data["readings"][0]["passages"]

    tokens = viewer.parse(text)
    page = BeautifulSoup(viewer.render(text), "lxml")

    assert [heading.get_text() for heading in page.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])] == [
        "Week one # Injected heading <script>alert('title')</script>",
        *BRIEF_HEADINGS,  # a facilitator's pack: the brief, its lines naming Eve as written
        "Essay --- — An Author 1. not a list",
        *(f"§{p['position']} {p['body']}" for p in passages if p["kind"] == "heading"),
        "Questions for discussion",
    ]
    # Seven notes, one reply, the question and its hint, the passages that are list items, and the brief's lines
    # (the totals, one per member, stuck passage, answer, note or proposal, or the line saying there is none):
    # nothing else.
    list_items = sum(p["kind"] == "list_item" for p in passages)
    brief = data["brief"]
    brief_lines = (
        1  # the totals
        + len(brief["progress"]["members"])
        + max(1, len(brief["stuck"]))
        + max(1, len(brief["questions"]) + sum(len(q["answers"]) for q in brief["questions"]))
        + max(1, len(brief["most_helpful"]))
        + max(1, len(brief["most_replied"]))
        + max(1, len(brief["proposed"]))
    )
    assert len(page.find_all("li")) == 7 + 1 + 1 + 1 + list_items + brief_lines
    footnotes = sum(bool(p.get("footnotes")) for p in passages)
    assert len(page.find_all("blockquote")) == 1 + footnotes + sum(p["kind"] == "quotation" for p in passages)
    assert [t.type for t in tokens if t.type.startswith("html")] == []
    assert inertness_faults(str(page)) == []


def test_markdown_pack_links_the_online_address_only_when_it_is_http(world, api, reading):
    world.session.online_url = "https://meet.example.org/room?x=(1)"
    world.session.save()

    text = pack(api, world.member, world, "md").decode()

    assert "Online: <https://meet.example.org/room?x=(1)>" in text.splitlines()


# --- HTML, EPUB and PDF ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "facilitator", "organizer"])
def test_html_pack_from_hostile_notes_is_inert(world, api, hostile, role):
    page = pack(api, world.user(role), world, "html").decode()

    assert inertness_faults(page) == []
    assert PIXEL_LINK in page
    assert "Online: javascript:alert(&#x27;online&#x27;)" in page


def test_epub_pack_from_hostile_notes_is_inert(world, api, hostile):
    pages = epub_pages(pack(api, world.facilitator, world, "epub"))

    assert {name: inertness_faults(page, local_files=True) for name, page in pages.items()} == {
        name: [] for name in pages
    }
    assert PIXEL_LINK in pages["EPUB/notes.xhtml"]


def test_pdf_pack_shows_a_notes_image_as_its_link_text(world, api, hostile, tmp_path):
    if not shutil.which("pdftotext"):
        service_unavailable("pdftotext", "install poppler-utils (.ci/system-packages does)")
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(pack(api, world.member, world, "pdf"))

    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    urls = subprocess.run(["pdfinfo", "-url", str(pdf)], capture_output=True, text=True, check=True).stdout

    assert "tracking pixel" in " ".join(text.split())
    # The image is a link (an annotation), not a picture fetched from the tracker; and it is the only way out.
    assert {line.split()[-1] for line in urls.splitlines()[1:]} == {
        "http://tracker.example/pixel.png?u=1",
        "https://tracker.example/no-alt.png",
        "https://example.org/a_(b)?q=1&r=2",
        "https://example.org/auto",
        "mailto:a@example.org",
    }


@pytest.mark.slow
def test_epub_with_hostile_notes_passes_epubcheck(world, api, hostile, tmp_path):
    jar = "/usr/share/java/epubcheck.jar"
    if not shutil.which("java") or not os.path.exists(jar):
        service_unavailable("epubcheck", "install epubcheck (.ci/system-packages does)")
    book = tmp_path / "pack.epub"
    book.write_bytes(pack(api, world.organizer, world, "epub"))

    result = subprocess.run(["java", "-jar", jar, str(book)], capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors or warnings detected." in result.stdout


def test_notes_rendered_before_images_became_links_are_rendered_again(world, essay, reading):
    """The data migration's rule, applied to a row written by the old renderer."""
    from importlib import import_module

    rerender = import_module("readings.migrations.0007_note_images_as_links").rerender_note_html
    old = note_create(author=world.member, passage=at(essay, 12), body="![p](http://tracker.example/p.png)")
    Note.objects.filter(pk=old.pk).update(body_html='<p><img src="http://tracker.example/p.png" alt="p"></p>')

    rerender(Note.objects.all())

    assert Note.objects.get(pk=old.pk).body_html == (
        '<p><a href="http://tracker.example/p.png" rel="noopener noreferrer nofollow">p</a></p>'
    )
