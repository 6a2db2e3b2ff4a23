"""HTML and XHTML parsing: clean-up, structure, footnotes and a Standard Ebooks chapter."""

from pathlib import Path

import pytest

from readings.parsing import ParsedBlock, TextImportError, parse_document
from readings.parsing.model import Footnote
from tests.scaling import LINEAR, growth

DATA = Path(__file__).resolve().parent / "data"


def _html(body, head="<title>Page</title>"):
    return parse_document(f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>", "html")


def _rows(doc):
    return [(b.kind, b.level, b.section, b.quoted, b.body) for b in doc.blocks]


def test_html_headings_levels_and_sections():
    doc = _html(
        "<h1>The Essay</h1><p>Intro.</p><h2>Part One</h2><p>One.</p><h3>Sub A</h3><p>Deep.</p>"
        "<h4>Four</h4><h5>Five</h5><h6>Six</h6><p>Deepest.</p><h2>Part Two</h2><p>Two.</p>"
    )
    assert doc.title == "The Essay"
    assert _rows(doc) == [
        ("heading", 1, "", False, "The Essay"),
        ("paragraph", 0, "", False, "Intro."),
        ("heading", 2, "", False, "Part One"),
        ("paragraph", 0, "Part One", False, "One."),
        ("heading", 3, "Part One", False, "Sub A"),
        ("paragraph", 0, "Sub A", False, "Deep."),
        ("heading", 4, "Sub A", False, "Four"),
        ("heading", 5, "Four", False, "Five"),
        ("heading", 6, "Five", False, "Six"),
        ("paragraph", 0, "Six", False, "Deepest."),
        ("heading", 2, "", False, "Part Two"),
        ("paragraph", 0, "Part Two", False, "Two."),
    ]


def test_html_title_from_title_element_when_no_leading_h1():
    doc = _html("<p>Text first.</p><h1>Later</h1>", head="<title>The  Page &amp; Title</title>")
    assert doc.title == "The Page & Title"
    assert doc.blocks[1].section == ""
    assert _rows(doc)[1] == ("heading", 1, "", False, "Later")


def test_html_title_falls_back_to_first_h1_then_hgroup():
    assert _html("<p>Text.</p><h1>First H1</h1>", head="").title == "First H1"
    assert _html("<hgroup><h2>IV</h2><p>The Storm</p></hgroup><p>x</p>", head="").title == "IV: The Storm"


def test_html_hgroup_is_one_heading_joined_with_colon():
    doc = _html(
        '<section><header><hgroup><h2 epub:type="ordinal">IV</h2><p epub:type="title">The Storm</p>'
        "</hgroup></header><p>It rained.</p></section>"
    )
    assert _rows(doc) == [
        ("heading", 2, "", False, "IV: The Storm"),
        ("paragraph", 0, "IV: The Storm", False, "It rained."),
    ]


def test_html_blockquote_paragraphs_are_quoted_blocks():
    doc = _html(
        "<p>He wrote:</p><blockquote><p>First.</p><p>Second.</p><ul><li>Point</li></ul></blockquote><p>After.</p>"
    )
    assert _rows(doc) == [
        ("paragraph", 0, "", False, "He wrote:"),
        ("quotation", 0, "", True, "First."),
        ("quotation", 0, "", True, "Second."),
        ("list_item", 0, "", True, "Point"),
        ("paragraph", 0, "", False, "After."),
    ]


def test_html_blockquote_footer_or_caption_is_attribution():
    doc = _html(
        "<blockquote><p>To be.</p><footer>— Shakespeare, <cite>Hamlet</cite></footer></blockquote>"
        "<figure><blockquote><p>Words.</p></blockquote><figcaption>Jane Doe</figcaption></figure>"
    )
    assert doc.blocks == [
        ParsedBlock(
            kind="quotation",
            body="To be.",
            quoted=True,
            attribution="Shakespeare, Hamlet",
            cited_works=["Hamlet"],
        ),
        ParsedBlock(kind="quotation", body="Words.", quoted=True, attribution="Jane Doe"),
    ]


def test_html_list_items_including_nested_and_paragraphs():
    doc = _html("<ol><li>One<ul><li>nested</li></ul></li><li><p>Two</p><p>more</p></li></ol>")
    assert _rows(doc) == [
        ("list_item", 0, "", False, "One"),
        ("list_item", 0, "", False, "nested"),
        ("list_item", 0, "", False, "Two more"),
    ]


def test_html_cite_and_publication_markup_are_cited_works():
    doc = _html(
        "<p>See <cite>The State and Revolution</cite> and "
        '<i epub:type="se:name.publication.book">What Is to Be Done?</i>, '
        '<em class="book-title">Imperialism</em>, <i>emphasis only</i>, and his pamphlet ‘Our Revolution’.</p>'
    )
    assert doc.blocks[0].cited_works == [
        "The State and Revolution",
        "What Is to Be Done?",
        "Imperialism",
        "Our Revolution",
    ]


def test_html_scripts_styles_nav_and_page_furniture_dropped():
    doc = _html(
        "<header><nav><a href='/'>Home</a></nav><h1>Site Banner</h1></header>"
        "<main><article><header><h1>Real Title</h1></header><p>Body text.</p>"
        "<script>document.write('<p>no</p>')</script><style>p { color: red }</style>"
        "<noscript>Enable JS</noscript><template><p>tmpl</p></template>"
        "<form><label>Name</label><input value='x'><button>Send</button></form>"
        "<svg><title>icon</title><text>svg text</text></svg><iframe src='x'>frame</iframe>"
        "<aside role='doc-pagebreak'>12</aside><p>More<span epub:type='pagebreak' title='13'>13</span> text.</p>"
        "</article></main><footer>Copyright 2024</footer>",
        head="<title>Tab</title><style>body{}</style><script>var a = 1;</script>",
    )
    assert doc.title == "Real Title"
    assert _rows(doc) == [
        ("heading", 1, "", False, "Real Title"),
        ("paragraph", 0, "", False, "Body text."),
        ("paragraph", 0, "", False, "More text."),
    ]


def test_html_entities_decoded_and_whitespace_normalised():
    doc = _html("<p>Fish &amp; chips,\n   Lenin&#8217;s&nbsp;work &lt;tag&gt; &eacute;t&#xE9;.</p>")
    assert doc.blocks[0].body == "Fish & chips, Lenin’s work <tag> été."


def test_html_footnote_markers_removed_and_space_tidied():
    doc = _html(
        '<p>First<a href="endnotes.xhtml#note-1" id="noteref-1" epub:type="noteref">1</a>. '
        'Second <a role="doc-noteref" href="#n2">[2]</a>, third<sup>12</sup> and fourth <sup>*</sup>; '
        'fifth<a href="#fn5"><sup>5</sup></a> and <sup>th</sup> <a href="#fn-x">a link</a>.</p>'
    )
    assert doc.blocks[0].body == "First. Second, third and fourth; fifth and th a link."


def test_html_notes_nothing_refers_to_are_left_out_with_notice():
    doc = _html(
        "<p>Text.</p>"
        '<aside epub:type="footnote" id="fn-a"><p>A footnote.</p></aside>'
        '<section epub:type="endnotes" role="doc-endnotes"><ol><li id="note-1"><p>One.</p></li>'
        '<li id="note-2"><p>Two.</p></li></ol></section>'
        '<div class="footnotes"><ol><li>Three.</li></ol></div>'
    )
    assert [(b.body, b.footnotes) for b in doc.blocks] == [("Text.", [])]
    assert doc.notices == ["Left out 4 footnotes/endnotes that no passage refers to."]


def test_html_notes_are_kept_with_the_passage_that_refers_to_them():
    doc = _html(
        '<p>First<a href="#note-1" epub:type="noteref">1</a> and again<a href="#note-1">1</a>.</p>'
        '<p>Second <a role="doc-noteref" href="#fn2">[2]</a>, unresolved<a href="#fn-missing">3</a>.</p>'
        '<section epub:type="endnotes"><h2>Notes</h2><ol>'
        '<li id="note-1" epub:type="endnote"><p>The first note, <i>with</i> markup. '
        '<a href="#noteref-1" epub:type="backlink">↩</a></p></li>'
        '<li id="fn2"><p>2. A second note</p><p>in two paragraphs.</p></li>'
        '<li id="fn9"><p>Nobody refers to me.</p></li></ol></section>'
    )
    assert [(b.body, b.footnotes) for b in doc.blocks] == [
        ("First and again.", [Footnote("1", "The first note, with markup.")]),
        ("Second, unresolved.", [Footnote("2", "A second note in two paragraphs.")]),
    ]
    assert doc.notices == ["Left out 1 footnote/endnote that no passage refers to."]


def test_html_hr_is_not_a_block_and_br_is_a_space():
    doc = _html("<p>Line one<br/>line two</p><hr/><p>After the break.</p><div>Loose<br><br>split here</div>")
    assert [b.body for b in doc.blocks] == ["Line one line two", "After the break.", "Loose", "split here"]


def test_html_q_element_keeps_its_quotation_marks_and_attribution():
    doc = _html("<p>He said <q>all <q>power</q> now</q> (p 4).</p>")
    assert doc.blocks[0] == ParsedBlock(kind="paragraph", body="He said “all ‘power’ now” (p 4).", attribution="p 4")


def test_html_comments_and_declarations_are_not_text():
    doc = parse_document(
        '<?xml version="1.0"?><!-- note --><html><body><p>Only<!-- hidden --> this.</p></body></html>', "html"
    )
    assert [b.body for b in doc.blocks] == ["Only this."]


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><script>app()</script></head>"
        "<body><nav><a href='/'>Home</a></nav><noscript>JS</noscript></body></html>",
        "<html><body>   \n </body></html>",
        "",
    ],
)
def test_html_without_readable_text_raises(page):
    with pytest.raises(TextImportError) as caught:
        parse_document(page, "html")
    assert caught.value.field == "file"
    assert caught.value.message.startswith("The HTML page has no readable text.")


def test_html_no_markup_left_in_any_body():
    doc = parse_document((DATA / "se-chapter.xhtml").read_text(encoding="utf-8"), "html")
    for block in doc.blocks:
        assert "<" not in block.body
        assert ">" not in block.body
        assert "&" not in block.body.replace(" & ", "")


def test_html_standard_ebooks_chapter_imports_cleanly():
    doc = parse_document((DATA / "se-chapter.xhtml").read_text(encoding="utf-8"), "html")
    section = "III: The Reading Room"
    assert doc.title == section
    assert doc.format == "html"
    assert doc.notices == []
    assert [(b.kind, b.level, b.section, b.quoted, b.attribution, b.cited_works, b.body[:60]) for b in doc.blocks] == [
        ("heading", 2, "", False, "", [], "III: The Reading Room"),
        (
            "paragraph",
            0,
            section,
            False,
            "",
            ["The Mill on the Floss"],
            "The library of the Institute stood at the end of a long aven",
        ),
        (
            "paragraph",
            0,
            section,
            False,
            "",
            ["Middlemarch"],
            "“You will wear it out,” said the librarian, Mr. Hale, who ha",
        ),
        ("paragraph", 0, section, False, "", [], "She laughed, and told him that she preferred to read one thi"),
        ("quotation", 0, section, True, "", [], "“It is never too late to be what you might have been.”"),
        ("quotation", 0, section, True, "", [], "So the old saying went, and she had copied it into the front"),
        (
            "paragraph",
            0,
            section,
            False,
            "",
            ["On Reading Slowly", "Cornhill"],
            "Mr. Hale considered this for a moment. He was a thin, carefu",
        ),
        ("paragraph", 0, section, False, "", [], "The reading group met on Thursdays in a room above the Co-op"),
        ("paragraph", 0, section, False, "", [], "They read aloud by turns, and argued about what they read. T"),
        (
            "quotation",
            0,
            section,
            True,
            "Letters to His Son",
            ["Letters to His Son"],
            "“Whatever is worth doing at all is worth doing well.”",
        ),
        ("paragraph", 0, section, False, "", [], "The schoolmaster kept a list of the books they had finished,"),
        ("list_item", 0, section, False, "", ["Adam Bede"], "Adam Bede, finished in November;"),
        ("list_item", 0, section, False, "", ["Silas Marner"], "Silas Marner, finished at Christmas;"),
        ("list_item", 0, section, False, "", ["Essays"], "a volume of Essays & reviews, abandoned."),
        ("paragraph", 0, section, False, "", [], "It was not a long list, but Bell was proud of it. He said th"),
        ("paragraph", 0, section, False, "", [], "IV o’clock struck from the church of St. Mary as Margaret we"),
    ]


def test_html_standard_ebooks_chapter_noterefs_and_breaks_gone():
    doc = parse_document((DATA / "se-chapter.xhtml").read_text(encoding="utf-8"), "html")
    bodies = {b.body[:20]: b.body for b in doc.blocks}
    assert bodies["The library of the I"].endswith("which she had been reading since October.")
    assert bodies["She laughed, and tol"].endswith("with the air of a person quoting scripture.")
    assert "proud of it. He said" in bodies["It was not a long li"]
    assert bodies["IV o’clock struck fr"] == (
        "IV o’clock struck from the church of St. Mary as Margaret went down the stairs, "
        "and the lamps were already lit in the street."
    )


@pytest.mark.parametrize(
    ("page", "n"),
    [
        (lambda n: "<div>" * n + "deep text", 5_000),
        (lambda n: "<b>" * n + "bold text", 1_250),
        (lambda n: "<ul><li>" * n + "item", 500),
        (lambda n: "<p>Text" + "<sup>1</sup>" * n + " end.</p>", 5_000),
        (lambda n: "<p>" + "<cite>A Work</cite> " * n + "</p>", 5_000),
        (lambda n: "<p>" + "<script>x</script>" * n + "kept</p>", 5_000),
    ],
)
def test_html_pathological_markup_imports_in_linear_time(page, n):
    doc = parse_document(page(4 * n), "html")
    assert doc.blocks
    assert growth(lambda size: parse_document(page(size), "html"), n) < LINEAR
    for block in doc.blocks:
        assert "<" not in block.body
