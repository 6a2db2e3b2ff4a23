"""Markdown parsing: markdown-it tokens mapped to blocks."""

import contextlib

import pytest

from readings.parsing import ParsedBlock, TextImportError, parse_document
from tests.scaling import LINEAR, growth

ESSAY = """\
# Notes on *October*

Intro with **bold**, `code`, a [link](https://example.org), ![an image](x.png)
and a note[^1] on a second line.

## Tactics

> “Quoted line one.”
> continues here
>
> 1. a quoted point

- bullet one
- bullet *two*
  with continuation

1) first
2) second
   - nested bullet

In his pamphlet ‘Our Revolution’, Trotsky warned that “it would fail” (p 12).

### Deeper

Text with <span class="x">inline html</span> and &amp; an entity.

## Last Part

Final words.[^note]

[^1]: The first note.
    Still the first note.
[^note]: Another note.
"""


def _blocks(text):
    return [(b.kind, b.level, b.section, b.quoted, b.body) for b in parse_document(text, "md").blocks]


def test_markdown_essay_maps_every_rule_to_blocks():
    doc = parse_document(ESSAY, "md")
    assert doc.title == "Notes on October"
    assert doc.format == "md"
    assert doc.notices == ["Dropped 2 footnote definitions (the notes, not the text they annotate)."]
    assert [(b.kind, b.level, b.section, b.quoted, b.body) for b in doc.blocks] == [
        ("heading", 1, "", False, "Notes on October"),
        ("paragraph", 0, "", False, "Intro with bold, code, a link, an image and a note on a second line."),
        ("heading", 2, "", False, "Tactics"),
        ("quotation", 0, "Tactics", True, "“Quoted line one.” continues here"),
        ("list_item", 0, "Tactics", True, "1. a quoted point"),
        ("list_item", 0, "Tactics", False, "bullet one"),
        ("list_item", 0, "Tactics", False, "bullet two with continuation"),
        ("list_item", 0, "Tactics", False, "1) first"),
        ("list_item", 0, "Tactics", False, "2) second"),
        ("list_item", 0, "Tactics", False, "nested bullet"),
        (
            "paragraph",
            0,
            "Tactics",
            False,
            "In his pamphlet ‘Our Revolution’, Trotsky warned that “it would fail” (p 12).",
        ),
        ("heading", 3, "Tactics", False, "Deeper"),
        ("paragraph", 0, "Deeper", False, "Text with inline html and & an entity."),
        ("heading", 2, "", False, "Last Part"),
        ("paragraph", 0, "Last Part", False, "Final words."),
    ]


def test_markdown_attribution_and_cited_work_in_paragraph():
    doc = parse_document(ESSAY, "md")
    block = next(b for b in doc.blocks if b.body.startswith("In his pamphlet"))
    assert (block.attribution, block.cited_works) == ("p 12", ["Our Revolution"])
    assert [b.body for b in doc.blocks if b.attribution or b.cited_works] == [block.body]


def test_markdown_title_is_first_line_when_no_heading_opens():
    doc = parse_document("Just a *first* line\nand more\n\n# Later Heading\n\nText", "md")
    assert doc.title == "Just a first line"
    assert [(b.kind, b.section, b.body) for b in doc.blocks] == [
        ("paragraph", "", "Just a first line and more"),
        ("heading", "", "Later Heading"),
        ("paragraph", "Later Heading", "Text"),
    ]


def test_markdown_setext_heading_and_same_level_heading_closes_section():
    text = "Title\n=====\n\nPart A\n------\n\ntext a\n\nPart B\n------\n\ntext b\n"
    assert _blocks(text) == [
        ("heading", 1, "", False, "Title"),
        ("heading", 2, "", False, "Part A"),
        ("paragraph", 0, "Part A", False, "text a"),
        ("heading", 2, "", False, "Part B"),
        ("paragraph", 0, "Part B", False, "text b"),
    ]


def test_markdown_quote_with_paragraphs_heading_and_list_is_all_quoted():
    text = "# T\n\n> ## Quoted Heading\n>\n> First.\n>\n> Second.\n>\n> - item\n"
    assert _blocks(text) == [
        ("heading", 1, "", False, "T"),
        ("quotation", 0, "", True, "Quoted Heading"),
        ("quotation", 0, "", True, "First."),
        ("quotation", 0, "", True, "Second."),
        ("list_item", 0, "", True, "item"),
    ]


def test_markdown_loose_list_item_paragraphs_form_one_block():
    text = "# T\n\n1. First paragraph.\n\n   Second paragraph.\n\n2. Next item.\n"
    assert _blocks(text)[1:] == [
        ("list_item", 0, "", False, "1. First paragraph. Second paragraph."),
        ("list_item", 0, "", False, "2. Next item."),
    ]


def test_markdown_paragraph_opening_with_quote_mark_is_not_quoted():
    # Markdown marks quotations explicitly with ">"; dialogue stays a paragraph.
    assert _blocks("# T\n\n“Hello,” she said.")[1] == ("paragraph", 0, "", False, "“Hello,” she said.")


def test_markdown_inline_markup_never_left_in_bodies():
    text = "# T\n\n*em* _em_ **strong** ~~gone~~ `code` [text](http://x) <b>b</b> <br> line\\\nbreak\n"
    assert _blocks(text)[1] == ("paragraph", 0, "", False, "em em strong gone code text b line break")


def test_markdown_code_fence_html_block_and_table_become_paragraphs():
    text = (
        "# T\n\n```python\nprint('x')\n```\n\n<div><p>From <em>HTML</em></p><script>x()</script></div>\n\n"
        "| Year | Event |\n|------|-------|\n| 1917 | October |\n"
    )
    assert _blocks(text)[1:] == [
        ("paragraph", 0, "", False, "print('x')"),
        ("paragraph", 0, "", False, "From HTML"),
        ("paragraph", 0, "", False, "Year; Event"),
        ("paragraph", 0, "", False, "1917; October"),
    ]


def test_markdown_blockquote_attribution_after_closing_mark():
    doc = parse_document("# T\n\n> “The dictatorship of the proletariat.” (ibid.)\n", "md")
    assert doc.blocks[1] == ParsedBlock(
        kind="quotation",
        body="“The dictatorship of the proletariat.” (ibid.)",
        quoted=True,
        attribution="ibid.",
    )


@pytest.mark.parametrize("text", ["", "\n\n   \n", "[^1]: only a footnote\n", "<!-- comment -->\n"])
def test_markdown_without_text_raises(text):
    with pytest.raises(TextImportError) as caught:
        parse_document(text, "md")
    assert caught.value.message == "The Markdown file has no readable text."


@pytest.mark.parametrize("unit", ["[^", "<p ", "[", "*a ", "> ", "`"])
def test_markdown_pathological_input_is_linear(unit):
    def parse(n: int) -> None:
        with contextlib.suppress(TextImportError):  # some of these have no text at all
            parse_document("# T\n\n" + unit * n, "md")

    assert growth(parse, 2_500) < LINEAR
