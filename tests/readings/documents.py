"""Small EPUBs and PDFs built in memory, for the bad-input tests.

The realistic documents are files in `data/` (see `data/make_documents.py`);
these are the minimal ones each bad case needs: a zip with chosen entries,
and a PDF written object by object (optionally RC4-encrypted, compressed or
broken), so no tool beyond the standard library is needed.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MANIFESTO_EPUB = DATA / "communist-manifesto.epub"
MANIFESTO_HTML = DATA / "communist-manifesto.html"
ESSAY_EPUB2 = DATA / "october-notes-epub2.epub"
ESSAY_PDF = DATA / "october-notes.pdf"
SCANNED_PDF = DATA / "october-notes-scan.pdf"
ESSAY_TXT = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"

CONTAINER = (
    b'<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    b'<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
    b"</container>"
)


def opf(items: list[tuple[str, str]], *, title: str = "A Small Book", spine: list[str] | None = None) -> bytes:
    """A package document listing `items` as (id, href) XHTML files, all in the spine."""
    manifest = "".join(f'<item id="{i}" href="{href}" media-type="application/xhtml+xml"/>' for i, href in items)
    spine_ids = spine if spine is not None else [i for i, _ in items]
    itemrefs = "".join(f'<itemref idref="{i}"/>' for i in spine_ids)
    return (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
        '<dc:identifier id="id">urn:isbn:9780000000000</dc:identifier><dc:language>en</dc:language></metadata>'
        f"<manifest>{manifest}</manifest><spine>{itemrefs}</spine></package>"
    ).encode()


def page(body: str) -> bytes:
    return (
        f'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>'
        f"<body>{body}</body></html>"
    ).encode()


def small_epub(extra: list[tuple[str, bytes]] = (), *, entries: list[tuple[str, bytes]] | None = None) -> bytes:
    """A valid two-chapter EPUB (no navigation: each document is a chapter), plus `extra` entries."""
    if entries is None:
        entries = [
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", CONTAINER),
            ("content.opf", opf([("one", "one.xhtml"), ("two", "two.xhtml")])),
            ("one.xhtml", page("<h2>One</h2><p>The first chapter.</p>")),
            ("two.xhtml", page("<h2>Two</h2><p>The second chapter.</p>")),
        ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*entries, *extra]:
            archive.writestr(name, data)
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _md5(data: bytes) -> bytes:
    # MD5 and RC4 are what the PDF standard security handler (revision 2) prescribes.
    return hashlib.md5(data, usedforsecurity=False).digest()


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _escape(text: str) -> bytes:
    return text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def tiny_pdf(
    pages: list[list[str]],
    *,
    user_password: str | None = None,
    compress: bool = False,
    extra_stream: bytes | None = None,
    break_xref: bool = False,
) -> bytes:
    """A PDF with one Helvetica line per string on each page.

    `user_password` encrypts it (RC4, 40-bit, owner password "owner"; "" is
    the empty user password every reader opens); `compress` deflates the
    content streams; `extra_stream` is added as a deflated content stream of
    the first page (a decompression bomb); `break_xref` writes garbage
    instead of the objects' offsets and drops the objects' headers.
    """
    file_id = _md5(repr(pages).encode())
    objects: dict[int, bytes] = {}
    page_ids = []
    next_id = 4
    for lines in pages:
        content = b"BT /F1 12 Tf 14 TL 72 760 Td " + b"".join(b"(" + _escape(line) + b") ' " for line in lines) + b"ET"
        page_id, content_id = next_id, next_id + 1
        contents = f"{content_id} 0 R"
        next_id += 2
        if extra_stream is not None and not page_ids:
            contents = f"[{content_id} 0 R {next_id} 0 R]"
            objects[next_id] = ("stream", extra_stream)
            next_id += 1
        page_ids.append(page_id)
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} "
            "/Resources << /Font << /F1 3 0 R >> >> >>"
        ).encode()
        objects[content_id] = ("stream", zlib.compress(content) if compress else content, compress)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"

    key = None
    encrypt = b""
    if user_password is not None:
        owner_key = _md5((b"owner" + _PAD)[:32])[:5]
        owner_entry = _rc4(owner_key, (user_password.encode() + _PAD)[:32])
        permissions = -4
        key = _md5((user_password.encode() + _PAD)[:32] + owner_entry + struct.pack("<i", permissions) + file_id)[:5]
        user_entry = _rc4(key, _PAD)
        encrypt_id = next_id
        objects[encrypt_id] = (
            b"<< /Filter /Standard /V 1 /R 2 /O <"
            + owner_entry.hex().encode()
            + b"> /U <"
            + user_entry.hex().encode()
            + b"> /P "
            + str(permissions).encode()
            + b" >>"
        )
        encrypt = f" /Encrypt {encrypt_id} 0 R".encode()

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        value = objects[number]
        header = b"" if break_xref else f"{number} 0 obj\n".encode()
        out.write(header)
        if isinstance(value, tuple):
            data = value[1]
            deflated = len(value) == 2 or value[2]
            if key is not None:
                data = _rc4(_md5(key + struct.pack("<i", number)[:3] + b"\x00\x00")[:10], data)
            filters = " /Filter /FlateDecode" if deflated else ""
            out.write(f"<< /Length {len(data)}{filters} >>\nstream\n".encode() + data + b"\nendstream")
        else:
            out.write(value)
        out.write(b"\nendobj\n" if not break_xref else b"\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    for number in range(1, size):
        offset = 999_999_999 if break_xref else offsets[number]
        out.write(f"{offset:010d} 00000 n \n".encode())
    trailer = f"trailer\n<< /Size {size} /Root 1 0 R /ID [<{file_id.hex()}> <{file_id.hex()}>]".encode()
    out.write(trailer + encrypt + f" >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()
