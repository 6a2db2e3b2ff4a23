"""Decoding uploaded bytes and detecting the format of a text."""

import codecs

import pytest

from readings.parsing import TextImportError, decode_bytes, detect_format
from tests.scaling import LINEAR, growth

TEXT = "Title\n\n“Quoted” text — with Lenin’s words, café.\n"


def test_decode_utf8_without_bom():
    assert decode_bytes(TEXT.encode("utf-8")) == (TEXT, [])


def test_decode_utf8_with_bom_strips_bom():
    assert decode_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8")) == (TEXT, [])


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_decode_utf16_and_utf32_with_bom(bom, codec):
    assert decode_bytes(bom + TEXT.encode(codec)) == (TEXT, [])


def test_decode_normalises_crlf_and_cr_newlines():
    assert decode_bytes(b"one\r\ntwo\rthree\n") == ("one\ntwo\nthree\n", [])


def test_decode_cp1252_fallback_with_notice():
    data = b"Title\r\n\r\n\x93Quoted\x94 text \x96 Lenin\x92s caf\xe9."
    assert decode_bytes(data) == (
        "Title\n\n“Quoted” text – Lenin’s café.",
        ["Decoded as Windows-1252 (cp1252): the file was not valid UTF-8."],
    )


def test_decode_cp1252_undefined_bytes_replaced_with_notice():
    text, notices = decode_bytes(b"caf\xe9 \x81 and \x8d")
    assert text == "café \ufffd and \ufffd"
    assert notices == [
        "Decoded as Windows-1252 (cp1252): the file was not valid UTF-8.",
        "2 bytes could not be decoded and were replaced with \ufffd.",
    ]


def test_decode_utf8_bom_with_invalid_bytes_replaces_them():
    text, notices = decode_bytes(codecs.BOM_UTF8 + b"ok \xff ok")
    assert text == "ok \ufffd ok"
    assert len(notices) == 1
    assert notices[0].startswith("The file is marked as UTF-8 but contains invalid bytes")


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_decode_empty_raises(data):
    with pytest.raises(TextImportError) as caught:
        decode_bytes(data)
    assert (caught.value.message, caught.value.field) == ("The file is empty.", "file")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "a PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive"),
        (b"plain text with a NUL\x00 byte in it \x93", "it contains NUL bytes"),
        (bytes(range(1, 9)) * 40 + b"\x93\x94 some text", "mostly control characters"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 20, "mostly control characters"),
    ],
)
def test_decode_binary_raises_before_fallback(data, says):
    with pytest.raises(TextImportError) as caught:
        decode_bytes(data)
    assert says in caught.value.message
    assert caught.value.message.startswith("This file looks like ")
    supported = "Upload a plain-text (.txt), Markdown (.md), HTML (.html), EPUB (.epub) or PDF (.pdf) file."
    assert supported in caught.value.message


def test_decode_invalid_utf16_with_bom_raises():
    with pytest.raises(TextImportError) as caught:
        decode_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8a")
    assert caught.value.message == (
        "The file starts with a UTF-16 byte-order mark but is not valid UTF-16. "
        "Save it again as UTF-8 and upload it again."
    )


def test_decode_a_few_control_characters_is_still_text():
    text, notices = decode_bytes(b"Title\n\nText with a stray \x1a end-of-file mark and \x0c form feed." * 3)
    assert notices == []
    assert text.startswith("Title\n\nText with a stray \x1a")


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("notes.txt", "txt"),
        ("NOTES.TEXT", "txt"),
        ("essay.md", "md"),
        ("essay.markdown", "md"),
        ("page.html", "html"),
        ("page.HTM", "html"),
        ("OEBPS/text/chapter-3.xhtml", "html"),
        ("C:\\Users\\me\\essay.md", "md"),
    ],
)
def test_detect_format_from_extension(filename, expected):
    assert detect_format(filename=filename, content_type="text/html", text="# heading") == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/plain; charset=utf-8", "txt"),
        ("text/markdown", "md"),
        ("text/x-markdown", "md"),
        ("TEXT/HTML; charset=UTF-8", "html"),
        ("application/xhtml+xml", "html"),
    ],
)
def test_detect_format_from_content_type_when_extension_unknown(content_type, expected):
    assert detect_format(filename="upload.bin", content_type=content_type, text="# heading") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!DOCTYPE html>\n<html><body><p>x</p></body></html>", "html"),
        ('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "html"),
        ("\ufeff  <html><p>x</p></html>", "html"),
        ("Some text\n<p>First</p>\n<p>Second</p>\n", "html"),
        ("# Title\n\nText.", "md"),
        ("Title\n\n> a quotation\n", "md"),
        ("Title\n\nSee [the site](https://example.org).", "md"),
        ("Title\n\n```\ncode\n```\n", "md"),
        ("Title\n\n- a list\n- in plain text\n\n“Quoted” and #hashtag.", "txt"),
        ("", "txt"),
    ],
)
def test_detect_format_by_sniffing_content(text, expected):
    assert detect_format(text=text) == expected


@pytest.mark.parametrize("unit", ["[", "[^", "<p ", "# ", " "])
def test_detect_format_pathological_text_is_linear(unit):
    assert growth(lambda n: detect_format(text=unit * n), 50_000) < LINEAR
