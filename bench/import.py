"""Benchmark: importing texts (parse + store) through `text_import`.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle .venv/bin/python bench/import.py`
Prints ms and passages/s for the sample essay and for 1 MB and 5 MB texts
built by repeating it; targets: sample < 100 ms, 5 MB < 5 s, linear growth.
Then the binary formats: a 300-page PDF (the essay typeset by WeasyPrint,
repeated) and a 1 MB EPUB with figures (the essay in chapters with PNG
figures), each parsed alone and imported end to end.
Then how long refusing a 4 MB file of one-line "a) H" items takes (over
TEXT_MAX_PASSAGES: it once made 700,000 passages in a 63 s request).
"""

import io
import random
import sys
import zipfile

from _django import ROOT, machine, median_ms, throwaway_database
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from readings.parsing import decode_bytes, parse_binary, parse_document
from readings.services.importing import text_import
from sessions_app.models import StudyGroup

sys.path.insert(0, str(ROOT / "tests" / "readings" / "data"))
# The test documents' generator: the same typesetting and the same EPUB layout.
import make_documents

SAMPLE = (ROOT / "sample-texts" / "october-revolution-study-notes.txt").read_bytes()
MB = 1024 * 1024


def built_to(size: int) -> bytes:
    """Real material repeated to `size` bytes, cut at a paragraph boundary."""
    body = SAMPLE.split(b"\n", 1)[1]
    copies = size // len(body) + 1
    data = SAMPLE.split(b"\n", 1)[0] + b"\n" + body * copies
    return data[: data.rfind(b"\n\n", 0, size)]


class Rollback(Exception):
    pass


def pdf_of_pages(pages: int) -> tuple[bytes, int]:
    """The essay typeset as the test PDF is, repeated until it fills `pages` pages."""
    from weasyprint import HTML

    page = make_documents.essay_pdf_html()
    head, body = page.split("<h1>", 1)
    body = "<h1>" + body.removesuffix("</html>")
    copies = 1
    while True:
        document = HTML(string=head + body * copies + "</html>").render()
        if len(document.pages) >= pages:
            return document.write_pdf(), len(document.pages)
        copies = max(copies + 1, int(copies * pages / len(document.pages)) + 1)


def png(width: int, height: int, seed: int) -> bytes:
    """A noisy figure (it does not compress away), as a real scan or photo would not."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("L", (width, height), bytes(rng.getrandbits(8) for _ in range(width * height)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def epub_with_figures(size: int) -> bytes:
    """The essay in chapters, one figure per chapter, until the file is about `size` bytes."""
    chapters = make_documents.essay_chapters()
    entries = [("mimetype", b"application/epub+zip"), ("META-INF/container.xml", make_documents.CONTAINER)]
    manifest, spine, nav, total, index = [], [], [], 0, 0
    while total < size:
        for label, blocks in chapters:
            index += 1
            figure = png(320, 240, index)
            body = (
                f'<section><h2>{label} ({index})</h2><figure><img src="../images/f{index}.png" alt="Figure {index}"/>'
                f"<figcaption>Figure {index}.</figcaption></figure>"
                + "".join(make_documents.block_html(block) for block in blocks)
                + "</section>"
            )
            entries.append((f"OEBPS/text/c{index}.xhtml", make_documents.xhtml_page(label, body, epub3=True)))
            entries.append((f"OEBPS/images/f{index}.png", figure))
            manifest.append(f'<item id="c{index}" href="text/c{index}.xhtml" media-type="application/xhtml+xml"/>')
            manifest.append(f'<item id="f{index}" href="images/f{index}.png" media-type="image/png"/>')
            spine.append(f'<itemref idref="c{index}"/>')
            nav.append(f'<li><a href="text/c{index}.xhtml">{label} ({index})</a></li>')
            total += len(figure) + sum(len(block.body) for block in blocks) // 3
            if total >= size:
                break
    entries.append(
        (
            "OEBPS/nav.xhtml",
            make_documents.xhtml_page("Contents", f'<nav epub:type="toc"><ol>{"".join(nav)}</ol></nav>', epub3=True),
        )
    )
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="u">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="u">bench</dc:identifier>'
        "<dc:title>Bench book</dc:title><dc:language>en</dc:language></metadata><manifest>"
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        f"{''.join(manifest)}</manifest><spine>{''.join(spine)}</spine></package>"
    )
    entries.append(("OEBPS/content.opf", opf.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def import_once(group: StudyGroup, data: bytes, filename: str = "bench.txt") -> int:
    """Import inside a transaction that is rolled back, so every run starts equal."""
    count = 0
    try:
        with transaction.atomic():
            text = text_import(group=group, created_by=None, data=data, filename=filename)
            count = text.passages.count()
            raise Rollback
    except Rollback:
        pass
    return count


def main() -> None:
    with throwaway_database():
        group = StudyGroup.objects.create(name="Bench", slug="bench")
        rows = []
        for label, data, repeat in (
            ("sample essay", SAMPLE, 15),
            ("1 MB", built_to(MB), 5),
            ("5 MB", built_to(5 * MB), 3),
        ):
            passages = import_once(group, data)
            text, _ = decode_bytes(data)
            parse_ms = median_ms(lambda text=text: parse_document(text, "txt"), repeat=repeat)
            total_ms = median_ms(lambda data=data: import_once(group, data), repeat=repeat)
            rows.append((label, len(data), passages, parse_ms, total_ms))
        print(f"Machine: {machine()}")
        print(
            f"{'input':<14}{'bytes':>11}{'passages':>10}{'parse ms':>10}{'import ms':>11}{'passages/s':>12}{'ms/MB':>9}"
        )
        for label, size, passages, parse_ms, total_ms in rows:
            print(
                f"{label:<14}{size:>11,}{passages:>10,}{parse_ms:>10.1f}{total_ms:>11.1f}"
                f"{passages / (total_ms / 1000):>12,.0f}{total_ms / (size / MB):>9.0f}"
            )
        sample_ms, five_mb_ms = rows[0][4], rows[2][4]
        one_mb, five_mb = rows[1], rows[2]
        growth = (five_mb[4] / five_mb[1]) / (one_mb[4] / one_mb[1])
        print(f"\nsample essay under 100 ms: {'yes' if sample_ms < 100 else 'NO'} ({sample_ms:.1f} ms)")
        print(f"5 MB under 5 s: {'yes' if five_mb_ms < 5000 else 'NO'} ({five_mb_ms / 1000:.2f} s)")
        print(f"linear: ms per byte at 5 MB is {growth:.2f}x that at 1 MB (1.00 = perfectly linear)")
        items = "".join(f"{letter}) H\n" for letter in "abcdefghijklmnopqrstuvwxyz").encode() * (4 * MB // 130)

        def refuse() -> None:
            try:
                import_once(group, items)
            except ValidationError:
                return
            raise AssertionError("the one-line items were imported")

        refused_ms = median_ms(refuse, repeat=1)
        print(
            f"4 MB of one-line items refused (over {settings.TEXT_MAX_PASSAGES:,} passages): {refused_ms / 1000:.1f} s"
        )

        pdf, pages = pdf_of_pages(300)
        epub = epub_with_figures(MB)
        print(f"\n{'input':<22}{'bytes':>11}{'passages':>10}{'parse ms':>10}{'import ms':>11}{'ms/page':>9}")
        for label, data, name, fmt, units in (
            (f"PDF, {pages} pages", pdf, "bench.pdf", "pdf", pages),
            ("EPUB with figures", epub, "bench.epub", "epub", 0),
        ):
            passages = import_once(group, data, name)
            parse_ms = median_ms(lambda data=data, fmt=fmt: parse_binary(data, fmt), repeat=3)
            total_ms = median_ms(lambda data=data, name=name: import_once(group, data, name), repeat=3)
            per_page = f"{total_ms / units:>9.1f}" if units else f"{'':>9}"
            print(f"{label:<22}{len(data):>11,}{passages:>10,}{parse_ms:>10.1f}{total_ms:>11.1f}{per_page}")


if __name__ == "__main__":
    main()
