"""Build the EPUB and PDF test documents in this folder from their sources.

Run from the repository root: `.venv/bin/python tests/readings/data/make_documents.py`.
The outputs are committed, so the tests never need this script's tools
(WeasyPrint for the PDF, Pillow for the scanned page). Rerun it only when a
source changes; the EPUBs come out byte-identical each time, the PDFs may not
(WeasyPrint versions differ in layout), so check the tests after a rerun.

Sources:

- `communist-manifesto.html`: extracts of the 1888 English translation of the
  Manifesto of the Communist Party (public domain), with Engels' notes to the
  1888 edition as endnotes. It becomes an EPUB 3 (`communist-manifesto.epub`):
  one XHTML file per `<section>`, the notes in `endnotes.xhtml`, a nav
  document, a cover-less spine.
- `sample-texts/october-revolution-study-notes.txt`, the sample essay. Its
  structure as the plain-text reader sees it becomes an EPUB 2 with an NCX
  (`october-notes-epub2.epub`) and a typeset PDF (`october-notes.pdf`):
  running header, page numbers, justified and hyphenated text, two footnotes
  and one two-column page; `october-notes-corrected.pdf` is the same with one
  word changed and one paragraph added. Its opening paragraphs drawn as an
  image make the scanned-style PDF without a text layer
  (`october-notes-scan.pdf`).
"""

from __future__ import annotations

import html
import io
import re
import sys
import zipfile
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from readings.parsing.model import HEADING, LIST_ITEM, QUOTATION  # noqa: E402 (needs the path above)
from readings.parsing.plaintext import read_plaintext  # noqa: E402

ESSAY = ROOT / "sample-texts" / "october-revolution-study-notes.txt"
XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
# Every zip entry gets this timestamp, so an unchanged source gives the same bytes.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

# Footnotes added to the PDF (not in the plain text): (words they follow, note).
PDF_FOOTNOTES = [
    ("as a Preface to his book ‘On the Road to October’,", "Dated 17 December 1924."),
    ("which helped October to succeed, namely:", "The six conditions are listed in the article's first part."),
]


def write_zip(path: Path, entries: list[tuple[str, bytes]]) -> None:
    """An EPUB container: `mimetype` first and stored, the rest deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    print(f"wrote {path.relative_to(ROOT)} ({len(buffer.getvalue()):,} bytes)")


CONTAINER = b"""<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""


def xhtml_page(title: str, body: str, *, epub3: bool, lang: str = "en-GB") -> bytes:
    namespaces = f'xmlns="{XHTML_NS}"' + (f' xmlns:epub="{EPUB_NS}"' if epub3 else "")
    doctype = (
        "<!DOCTYPE html>"
        if epub3
        else ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">')
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n<html {namespaces} xml:lang="{lang}">\n'
        f"<head><title>{html.escape(title)}</title></head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode()


# --- EPUB 3 from the HTML source ---------------------------------------------------------


def manifesto_epub() -> None:
    """Split communist-manifesto.html into an EPUB 3: one file per section, endnotes apart."""
    source = (HERE / "communist-manifesto.html").read_text(encoding="utf-8")
    tree = etree.fromstring(source.encode(), etree.XMLParser(remove_blank_text=False))
    ns = {"h": XHTML_NS, "epub": EPUB_NS}
    meta = {node.get("name"): node.get("content") for node in tree.iterfind(".//h:head/h:meta", ns)}
    title = tree.findtext(".//h:head/h:title", namespaces=ns).strip()
    sections = tree.findall("./h:body/h:section", ns)
    chapter_files: list[tuple[str, str, str]] = []  # (file name, id, label)
    files: list[tuple[str, bytes]] = []
    for section in sections:
        section_id = section.get("id")
        name = "endnotes.xhtml" if section_id == "endnotes" else f"{section_id}.xhtml"
        label = section.get("data-label") or section_id
        del section.attrib["data-label"]
        for link in section.iterfind(".//h:a[@href]", ns):
            target = link.get("href")
            if target.startswith("#"):
                # The single page links within itself; the book links across files.
                target_id = target[1:]
                owner = "endnotes.xhtml" if target_id.startswith("note-") else None
                if owner is None:
                    owner = next(
                        f"{s.get('id')}.xhtml" for s in sections if s.find(f".//*[@id='{target_id}']") is not None
                    )
                link.set("href", f"{owner}#{target_id}")
        body = etree.tostring(section, encoding="unicode").replace(f' xmlns="{XHTML_NS}"', "")
        body = body.replace(f' xmlns:epub="{EPUB_NS}"', "")
        files.append((f"OEBPS/text/{name}", xhtml_page(label, body, epub3=True)))
        chapter_files.append((name, section_id, label))
    nav_items = "\n".join(
        f'      <li><a href="text/{name}">{html.escape(label)}</a></li>' for name, _, label in chapter_files
    )
    nav = xhtml_page(
        "Table of Contents",
        f'<nav epub:type="toc" id="toc"><h2>Contents</h2>\n    <ol>\n{nav_items}\n    </ol>\n</nav>\n'
        '<nav epub:type="landmarks"><ol><li><a epub:type="bodymatter" href="text/preamble.xhtml">Start</a>'
        "</li></ol></nav>",
        epub3=True,
    )
    manifest = "\n".join(
        f'    <item id="{section_id}" href="text/{name}" media-type="application/xhtml+xml"/>'
        for name, section_id, _ in chapter_files
    )
    spine = "\n".join(f'    <itemref idref="{section_id}"/>' for _, section_id, _ in chapter_files)
    # A line break inside the title: metadata is read as one line.
    wrapped_title = html.escape(title).replace(" of the ", " of the\n      ")
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="en-GB">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">{meta["identifier"]}</dc:identifier>
    <dc:title>{wrapped_title}</dc:title>
    <dc:creator id="author-1">Karl Marx</dc:creator>
    <dc:creator id="author-2">Friedrich Engels</dc:creator>
    <dc:language>en-GB</dc:language>
    <dc:source>{meta["source"]}</dc:source>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
{manifest}
    <item id="font" href="fonts/league-spartan.otf" media-type="font/otf"/>
  </manifest>
  <spine>
{spine}
  </spine>
</package>
"""
    # An obfuscated font: its encryption.xml entry is allowed (it is not DRM).
    encryption = b"""<?xml version="1.0" encoding="UTF-8"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData>
    <enc:EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>
    <enc:CipherData><enc:CipherReference URI="OEBPS/fonts/league-spartan.otf"/></enc:CipherData>
  </enc:EncryptedData>
</encryption>
"""
    write_zip(
        HERE / "communist-manifesto.epub",
        [
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", CONTAINER),
            ("META-INF/encryption.xml", encryption),
            ("OEBPS/content.opf", opf.encode()),
            ("OEBPS/nav.xhtml", nav),
            *files,
            ("OEBPS/fonts/league-spartan.otf", bytes(range(256)) * 8),
        ],
    )


# --- The sample essay's structure ---------------------------------------------------------


def essay_blocks():
    """The sample essay as the plain-text reader splits it (structure only)."""
    return read_plaintext(ESSAY.read_text(encoding="utf-8")).blocks


def essay_chapters() -> list[tuple[str, list]]:
    """The essay in chapters: the opening, then one per part break (two blank lines)."""
    blocks = essay_blocks()[1:]  # the title is the book's, not a chapter's
    chapters: list[tuple[str, list]] = [("Introduction", [])]
    for block in blocks:
        if block.ends_section and chapters[-1][1]:
            chapters.append((f"Part {len(chapters) + 1}", []))
        chapters[-1][1].append(block)
    return chapters


def block_html(block, tag_for_heading: str = "h2") -> str:
    text = html.escape(block.body, quote=False)
    if block.kind == HEADING:
        return f"<{tag_for_heading}>{text}</{tag_for_heading}>"
    if block.kind == LIST_ITEM:
        item = f'<ol class="written"><li>{text}</li></ol>'
        return f"<blockquote>{item}</blockquote>" if block.quoted else item
    if block.kind == QUOTATION:
        return f"<blockquote><p>{text}</p></blockquote>"
    return f"<p>{text}</p>"


def essay_epub2() -> None:
    """The essay as an EPUB 2: OPF 2.0, an NCX, one XHTML 1.1 file per part, no nav document."""
    title = essay_blocks()[0].body
    chapters = essay_chapters()
    files, nav_points, manifest, spine = [], [], [], []
    for index, (label, blocks) in enumerate(chapters, start=1):
        name = f"part{index:02d}.html"
        body = "\n".join(block_html(block) for block in blocks)
        files.append((f"OPS/{name}", xhtml_page(label, f'<div class="part">\n{body}\n</div>', epub3=False)))
        manifest.append(f'    <item id="part{index}" href="{name}" media-type="application/xhtml+xml"/>')
        spine.append(f'    <itemref idref="part{index}"/>')
        nav_points.append(
            f'    <navPoint id="np{index}" playOrder="{index}"><navLabel><text>{html.escape(label)}</text></navLabel>'
            f'<content src="{name}"/></navPoint>'
        )
    opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="BookId">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>{html.escape(title)}</dc:title>
    <dc:creator opf:role="aut">Study circle notes</dc:creator>
    <dc:language>en</dc:language>
    <dc:identifier id="BookId" opf:scheme="UUID">urn:uuid:6b1e4c1e-5b8e-4e55-9d1e-0c7e2d2f1917</dc:identifier>
  </metadata>
  <manifest>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
{chr(10).join(manifest)}
  </manifest>
  <spine toc="ncx">
{chr(10).join(spine)}
  </spine>
</package>
"""
    ncx = f"""<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="urn:uuid:6b1e4c1e-5b8e-4e55-9d1e-0c7e2d2f1917"/></head>
  <docTitle><text>{html.escape(title)}</text></docTitle>
  <navMap>
{chr(10).join(nav_points)}
  </navMap>
</ncx>
"""
    container = CONTAINER.replace(b"OEBPS/content.opf", b"OPS/book.opf")
    write_zip(
        HERE / "october-notes-epub2.epub",
        [
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", container),
            ("OPS/book.opf", opf.encode()),
            ("OPS/toc.ncx", ncx.encode()),
            *files,
        ],
    )


# --- PDFs ---------------------------------------------------------------------------------

PDF_CSS = """
@page {
  size: A5; margin: 22mm 16mm 20mm 16mm;
  @top-center { content: "October revolution · study notes"; font: italic 8pt "DejaVu Serif"; color: #444; }
  @bottom-center { content: counter(page); font: 8pt "DejaVu Serif"; }
}
@page :first { @top-center { content: none; } }
html { font: 10pt/1.35 "DejaVu Serif"; hyphens: auto; text-align: justify; }
h1 { font: bold 17pt/1.2 "DejaVu Sans"; text-align: left; margin: 0 0 12pt; hyphens: manual; }
h2 { font: bold 12pt/1.25 "DejaVu Sans"; text-align: left; margin: 12pt 0 5pt; hyphens: manual; }
p { margin: 0 0 6pt; }
.quote { margin-left: 14pt; margin-right: 14pt; }
.part-break { margin-top: 30pt; }
.columns { columns: 2; column-gap: 12pt; break-before: page; break-after: page; }
.columns p { margin-bottom: 5pt; }
.fn { float: footnote; font-size: 7.5pt; text-align: left; }
::footnote-call { content: counter(footnote); vertical-align: super; font-size: 6pt; line-height: 1; }
::footnote-marker { content: counter(footnote) ". "; }
"""


# The corrected edition: one word changed, one paragraph added (for the revision tests).
CORRECTION = ("Meanwhile, inside Russia itself", "Meanwhile, within Russia itself")
ADDED_AFTER = "These were as follows:"
ADDED = "The three circumstances are taken one by one below, in Stalin's own order."


def essay_pdf_html(*, corrected: bool = False) -> str:
    blocks = essay_blocks()
    if corrected:
        for block in blocks:
            block.body = block.body.replace(*CORRECTION)
        at = next(i for i, block in enumerate(blocks) if block.body.endswith(ADDED_AFTER))
        blocks.insert(at + 1, type(blocks[at])(kind="paragraph", body=ADDED))
    notes = list(PDF_FOOTNOTES)
    parts = [f"<title>{html.escape(blocks[0].body)}</title><style>{PDF_CSS}</style>"]
    parts.append(f"<h1>{html.escape(blocks[0].body)}</h1>")
    in_columns = False
    for index, block in enumerate(blocks[1:], start=1):
        # Blocks 30–41 make the two-column page.
        if index == 30:
            parts.append('<div class="columns">')
            in_columns = True
        if index == 42 and in_columns:
            parts.append("</div>")
            in_columns = False
        text = html.escape(block.body, quote=False)
        for anchor, note in notes:
            escaped = html.escape(anchor, quote=False)
            if escaped in text:
                text = text.replace(escaped, f'{escaped}<span class="fn">{html.escape(note)}</span>', 1)
        classes = []
        if block.ends_section:
            classes.append("part-break")
        if block.kind == HEADING:
            tag = "h2"
        else:
            tag = "p"
            if block.quoted:
                classes.append("quote")
        attribute = f' class="{" ".join(classes)}"' if classes else ""
        parts.append(f"<{tag}{attribute}>{text}</{tag}>")
    return f'<!DOCTYPE html><html lang="en">{"".join(parts)}</html>'


def essay_pdf(*, corrected: bool = False) -> None:
    from weasyprint import HTML

    data = HTML(string=essay_pdf_html(corrected=corrected)).write_pdf(pdf_variant=None)
    data = re.sub(rb"/CreationDate \(D:[^)]*\)", b"/CreationDate (D:20260101000000Z)", data)
    path = HERE / ("october-notes-corrected.pdf" if corrected else "october-notes.pdf")
    path.write_bytes(data)
    print(f"wrote {path.relative_to(ROOT)} ({len(data):,} bytes)")


def scanned_pdf() -> None:
    """The essay's opening as a picture of a page: a PDF without a text layer."""
    from PIL import Image, ImageDraw, ImageFont

    blocks = essay_blocks()
    page = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype("DejaVuSerif.ttf", 26)
    y = 120
    for block in blocks[:4]:
        words, line = block.body.split(), ""
        for word in words:
            if draw.textlength(f"{line} {word}", font=font) > 1000:
                draw.text((120, y), line, fill=0, font=font)
                y += 38
                line = word
            else:
                line = f"{line} {word}".strip()
        draw.text((120, y), line, fill=0, font=font)
        y += 60
    buffer = io.BytesIO()
    page.save(buffer, format="PDF", resolution=150)
    data = re.sub(rb"/(Creation|Mod)Date \(D:[^)]*\)", rb"/\1Date (D:20260101000000Z)", buffer.getvalue())
    path = HERE / "october-notes-scan.pdf"
    path.write_bytes(data)
    print(f"wrote {path.relative_to(ROOT)} ({len(buffer.getvalue()):,} bytes)")


def main() -> None:
    manifesto_epub()
    essay_epub2()
    essay_pdf()
    essay_pdf(corrected=True)
    scanned_pdf()


if __name__ == "__main__":
    main()
