"""Plain-text parsing: the sample essay's facts, the splitting rules, the pipeline.

Pure-Python tests: no Django, no database. Run with
``python -m pytest -p no:django -p no:cacheprovider -o addopts="" --noconftest tests/readings/``.
"""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from readings.parsing import (
    ParsedBlock,
    TextImportError,
    decode_bytes,
    find_attributions,
    find_cited_works,
    parse_document,
)
from tests.scaling import LINEAR, growth

from .conftest import SAMPLE_CITED_WORKS as CITED_IN_SAMPLE

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample-texts" / "october-revolution-study-notes.txt"

TITLE = "The October revolution and the bolsheviks"
PROLETARIAN = "a) Proletarian Dictatorship"
SOCIALISM = "(b) Socialism in One Country"
SCARE_QUOTES = [
    "skilfully",
    "doom",
    "reconnaissance",
    "Russian",
    "Bolshevism",
    "Left",
    "allies",
    "battle of ideas",
]


@pytest.fixture(scope="module")
def sample():
    text, notices = decode_bytes(SAMPLE.read_bytes())
    assert notices == []
    return parse_document(text, "txt")


def _index(doc, prefix):
    """Index of the only block whose body starts with ``prefix``."""
    found = [i for i, block in enumerate(doc.blocks) if block.body.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def _txt(text):
    return parse_document(text, "txt")


# --- the sample essay --------------------------------------------------------


def test_sample_title_is_block_zero_heading(sample):
    assert sample.title == TITLE
    assert sample.format == "txt"
    assert sample.blocks[0] == ParsedBlock(kind="heading", body=TITLE, level=1, section="")


def test_sample_headings_are_exactly_title_and_two_sections(sample):
    headings = [(block.body, block.level, block.section) for block in sample.blocks if block.kind == "heading"]
    assert headings == [(TITLE, 1, ""), (PROLETARIAN, 2, ""), (SOCIALISM, 2, "")]


def test_sample_blocks_after_headings_carry_their_sections(sample):
    start_a = _index(sample, PROLETARIAN)
    start_b = _index(sample, SOCIALISM)
    end_b = _index(sample, "Having got some sense of where the Bolsheviks stood")
    assert {block.section for block in sample.blocks[1:start_a]} == {""}
    assert {block.section for block in sample.blocks[start_a + 1 : start_b]} == {PROLETARIAN}
    assert {block.section for block in sample.blocks[start_b + 1 : end_b]} == {SOCIALISM}
    assert sample.blocks[start_a + 1].body.startswith("Stalin begins with the question")
    assert sample.blocks[start_b + 1].body.startswith("Having explained how proletarian dictatorship")


def test_sample_double_blank_line_ends_socialism_section(sample):
    last_in_section = _index(sample, "Scratch the revolutionary phrasemaking")
    assert sample.blocks[last_in_section].section == SOCIALISM
    after = sample.blocks[last_in_section + 1 :]
    assert after[0].body.startswith("Having got some sense of where the Bolsheviks stood")
    assert {block.section for block in after} == {""}


def test_sample_supported_line_is_paragraph_not_heading(sample):
    block = sample.blocks[_index(sample, "It was supported by the working class")]
    assert block == ParsedBlock(kind="paragraph", body="It was supported by the working class")


def test_sample_paragraphs_opening_with_quote_are_quoted(sample):
    opening = [block for block in sample.blocks if block.body.startswith("“")]
    assert {(block.kind, block.quoted) for block in opening} == {("quotation", True), ("list_item", True)}
    assert [block.body[:3] for block in opening if block.kind == "list_item"] == ["“1)", "“2)", "“3)", "“4)", "“5)"]
    others = [block for block in sample.blocks if not block.body.startswith("“")]
    assert [block for block in others if block.quoted or block.kind == "quotation"] == []
    assert len(opening) == 50  # grep -c '^“' on the sample


def test_sample_numbered_points_are_quoted_list_items(sample):
    first = _index(sample, "“1) all through the period")
    points = sample.blocks[first : first + 5]
    assert [(block.kind, block.quoted, block.section) for block in points] == [("list_item", True, "")] * 5
    assert points[-1].body == (
        "“5) this preparation for October, in its turn, brought it about that as a result of the "
        "October uprising power was concentrated in the hands of one party, the Bolshevik Party.”"
    )
    assert (
        sample.blocks[first - 1].body == "“Obviously, it was not a question of ‘reconnaissance’, but of the following:"
    )


def test_sample_attributions_sit_on_their_blocks_only(sample):
    attributed = [(block.attribution, block.body[:46]) for block in sample.blocks if block.attribution]
    assert attributed == [
        ("Trotsky, Preface to The Year 1905", "Unbelievably, even after the October Revolutio"),
        ("see Preface to the French edition of Lenin’s Imperialism.", "“‘Capitalism has grown into a world system of "),
        ("ibid.", "“‘This ‘booty’ is shared between two or three "),
        ("p 93", "Sverdlov, the Bolshevik chairman of the Centra"),
        ("p 103", "At four in the morning, she records, “the Cron"),
    ]


def test_sample_aside_inside_quotation_is_not_attribution(sample):
    block = sample.blocks[_index(sample, "It was supported by the poor peasants")]
    assert "(who were hungry for land)" in block.body
    assert block.attribution == ""


def test_sample_cited_works_are_exactly_the_titles(sample):
    works = [work for block in sample.blocks for work in block.cited_works if work != "Postscript"]
    assert works == CITED_IN_SAMPLE


def test_sample_cited_works_sit_on_their_blocks(sample):
    # ‘Postscript’ ("in ‘Postscript’ for his new edition") may go either way.
    cited = {
        block.body[:30]: [work for work in block.cited_works if work != "Postscript"]
        for block in sample.blocks
        if block.cited_works
    }
    assert cited == {
        "At the end of 1924, as a Prefa": [
            "On the Road to October",
            "The October Revolution and the Tactics of the Russian Communists",
        ],
        "What heresy, what a betrayal o": ["On the Slogan for a United States of Europe"],
        "Stalin picks out one more quot": ["On Co-operation"],
        "In 1906, in his pamphlet ‘Our ": ["Our Revolution"],
        "When this and later gloomy ass": ["Peace Programme"],
        "U.S. journalist Louise Bryant ": ["Six Red Months in Russia"],
    }


def test_sample_scare_quotes_are_not_cited_works(sample):
    all_works = {work for block in sample.blocks for work in block.cited_works}
    assert all_works & set(SCARE_QUOTES) == set()
    for scare in SCARE_QUOTES:
        assert any(f"‘{scare}" in block.body for block in sample.blocks), scare


def test_sample_author_brackets_are_kept(sample):
    assert "comparatively [!] easy to overcome" in sample.blocks[_index(sample, "It was confronted by")].body
    assert (
        "Russian Communists’ [all quotations refer to this article, unless otherwise stated]. He begins"
        in sample.blocks[_index(sample, "At the end of 1924")].body
    )
    assert sample.blocks[-1].body.startswith("[The text of The October Revolution and the Tactics")
    assert sample.notices == []


def test_sample_block_kinds_and_bodies_are_clean(sample):
    assert Counter(block.kind for block in sample.blocks) == Counter(
        {"paragraph": 68, "quotation": 45, "list_item": 5, "heading": 3}
    )
    for block in sample.blocks:
        assert block.body == " ".join(block.body.split())
        assert block.body
        assert (block.level > 0) == (block.kind == "heading")


# --- plain-text rules ----------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "a) Proletarian Dictatorship",
        "(b) Socialism in One Country",
        "1. Introduction",
        "IV. The Storm",
        "Part 2",
        "Chapter 3: the middle years",
        "Section 1",
        "Conclusion",
        "The Road to Power in 1917",
    ],
)
def test_plaintext_short_line_is_heading_when_enumerated_or_title_case(line):
    doc = _txt(f"Title\n\n{line}\n\nBody text follows here.")
    assert doc.blocks[1] == ParsedBlock(kind="heading", body=line, level=2)
    assert doc.blocks[2].section == line


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("It was supported by the working class", "paragraph"),
        ("Stalin sums up like this:", "paragraph"),
        ("The End.", "paragraph"),
        ("“Quoted Title Case Line”", "quotation"),
        ("1) all through the period", "list_item"),
        ("- Bullet Item", "list_item"),
        ("A Title Case Line That Is Far Too Long To Be A Heading In Any Real Essay", "paragraph"),
    ],
)
def test_plaintext_line_is_not_heading_when_sentence_like(line, kind):
    doc = _txt(f"Title\n\n{line}\n\nBody text follows here.")
    assert doc.blocks[1].kind == kind
    assert doc.blocks[2].section == ""


def test_plaintext_title_case_line_inside_paragraph_is_not_heading():
    doc = _txt("Title\n\nSocialism in One Country\nis the theme of this paragraph.")
    assert [(b.kind, b.body) for b in doc.blocks[1:]] == [
        ("paragraph", "Socialism in One Country is the theme of this paragraph.")
    ]


def test_plaintext_first_line_is_title_even_without_blank_line():
    doc = _txt("\n\n  My Notes  \nThe first paragraph starts here\nand goes on.\n")
    assert doc.title == "My Notes"
    assert [(b.kind, b.level, b.body) for b in doc.blocks] == [
        ("heading", 1, "My Notes"),
        ("paragraph", 0, "The first paragraph starts here and goes on."),
    ]


def test_plaintext_lines_of_paragraph_joined_with_single_space():
    doc = _txt("T\n\nOne   line\n\ttwo\u00a0line  \r\nthree\r\n")
    assert doc.blocks[1].body == "One line two line three"


def test_plaintext_two_blank_lines_end_section_one_does_not():
    doc = _txt("T\n\nPart One\n\nin part one\n\nstill part one\n\n\nno section here\n\nPart Two\n\nin two")
    assert [(b.body, b.section) for b in doc.blocks[1:]] == [
        ("Part One", ""),
        ("in part one", "Part One"),
        ("still part one", "Part One"),
        ("no section here", ""),
        ("Part Two", ""),
        ("in two", "Part Two"),
    ]


def test_plaintext_bullet_paragraph_splits_into_items():
    doc = _txt("T\n\nShopping list:\n- milk\n- eggs\n  and more eggs\n* bread\n• tea")
    assert [(b.kind, b.body) for b in doc.blocks[1:]] == [
        ("paragraph", "Shopping list:"),
        ("list_item", "milk"),
        ("list_item", "eggs and more eggs"),
        ("list_item", "bread"),
        ("list_item", "tea"),
    ]


def test_plaintext_numbered_lines_keep_numbers():
    doc = _txt("T\n\n1. First point\nwrapped here\n2. Second point\n\n3) third\n\n(4) fourth")
    assert [(b.kind, b.body) for b in doc.blocks[1:]] == [
        ("list_item", "1. First point wrapped here"),
        ("list_item", "2. Second point"),
        ("list_item", "3) third"),
        ("list_item", "(4) fourth"),
    ]


def test_plaintext_wrapped_year_is_not_list_item():
    doc = _txt("T\n\nThe revolution came in\n1917. The masses rose\n- and then fell back.")
    assert [(b.kind, b.body) for b in doc.blocks[1:]] == [
        ("paragraph", "The revolution came in 1917. The masses rose - and then fell back.")
    ]


@pytest.mark.parametrize("mark", ["“", '"', "‘", "„", "«", "”", "’", "'"])
def test_plaintext_paragraph_opening_with_any_quote_mark_is_quoted(mark):
    doc = _txt(f"T\n\n{mark}Words of another writer, quoted at length.")
    block = doc.blocks[1]
    assert (block.kind, block.quoted) == ("quotation", True)


def test_plaintext_quotation_with_commentary_after_closing_mark_is_quoted():
    doc = _txt("T\n\n“Essentially, there is no difference.” This presentation makes it clear.")
    assert (doc.blocks[1].kind, doc.blocks[1].quoted) == ("quotation", True)


def test_plaintext_quotes_are_decided_per_paragraph_not_paired_across():
    doc = _txt("T\n\nHe says: ”\n\n“Well, then, a quotation.\n\nOrdinary text ‘again’.\n\n“Another.”")
    assert [(b.kind, b.quoted) for b in doc.blocks[1:]] == [
        ("paragraph", False),
        ("quotation", True),
        ("paragraph", False),
        ("quotation", True),
    ]


def test_plaintext_numeric_footnote_markers_removed_other_brackets_kept():
    doc = _txt("T\n\nA claim [1]. Another[23] one [sic] and [!] in [1917] with [n 3] [1a].")
    assert doc.blocks[1].body == "A claim. Another one [sic] and [!] in [1917] with [n 3] [1a]."
    assert doc.notices == ["Removed 2 footnote markers such as [1]."]


def test_plaintext_body_keeps_quote_marks_and_numbers_exactly():
    line = "“1) all through the period … the ‘Party’ [!] relied;"
    doc = _txt(f"T\n\n{line}")
    assert doc.blocks[1] == ParsedBlock(kind="list_item", body=line, quoted=True)


# --- attributions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He said “the end.”(Smith, Memoirs).", ["Smith, Memoirs"]),
        ("He said “the end” (p 93).", ["p 93"]),
        ("He said “the end”  (p 93);", ["p 93"]),
        ("He said “the end”, (p 93)", []),
        ('He said "the end" (Jones 1990), then left.', ["Jones 1990"]),
        ("“‘This ‘booty’ is shared by robbers’ (ibid.);", ["ibid."]),
        ("„Ein Zitat“ (S. 5).", ["S. 5"]),
        ("“Line one. ‘Nested.'” (p 103) So it ended.", ["p 103"]),
        ("“First” (p 1) and “second” (p 2).", ["p 1", "p 2"]),
    ],
)
def test_find_attributions_after_closing_quote(text, expected):
    assert find_attributions(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The poor peasants (who were hungry for land) rose.",
        "“The poor peasants (who were hungry for land) rose.”",
        "The slogan “All power” (which was popular) was dropped.",
        "He wrote “teh” (sic).",
        "He wrote “this” (emphasis added).",
        "The workers’ (mostly young) party grew.",
        "He said “the end” (",
    ],
)
def test_find_attributions_ignores_asides(text):
    assert find_attributions(text) == []


def test_plaintext_several_attributions_joined():
    doc = _txt("T\n\nHe quoted “one” (p 1) and later “two” (p 2).")
    assert doc.blocks[1].attribution == "p 1; p 2"


# --- cited works ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In his pamphlet ‘Our Revolution’, he warned.", ["Our Revolution"]),
        ("From the article ‘On Co-operation’, written in 1923.", ["On Co-operation"]),
        ("‘The State and Revolution’, his pamphlet of 1917, says so.", ["The State and Revolution"]),
        ("‘The State and Revolution’ was written in 1917.", ["The State and Revolution"]),
        ("In her essay “Politics and the English Language” she argues.", ["Politics and the English Language"]),
        ("His new edition of his pamphlet ‘Peace Programme': “The assertion”.", ["Peace Programme"]),
        ("The book ‘On the Road to October’ and the book ‘On the Road to October’.", ["On the Road to October"]),
        ("A poem entitled 'Six Red Months in Russia' appeared.", ["Six Red Months in Russia"]),
    ],
)
def test_find_cited_works_title_case_with_work_cue(text, expected):
    assert find_cited_works(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "A purely ‘Russian’ theory.",
        "It went more to the ‘Left’ than it should have.",
        "His book is about the ‘battle of ideas’ in politics.",
        "In his book, he says ‘skilfully’ a lot.",
        "The slogan ‘All Power to the Soviets!’ rang out.",
        "His book came out. ‘Bolshevism’, says Lenin, is a model.",
    ],
)
def test_find_cited_works_ignores_scare_quotes(text):
    assert find_cited_works(text) == []


def test_plaintext_cited_works_inside_quotation_paragraph():
    doc = _txt("T\n\n“As Lenin said in his article ‘On Co-operation’, co-operation matters.”")
    assert (doc.blocks[1].kind, doc.blocks[1].cited_works) == ("quotation", ["On Co-operation"])


# --- the pipeline --------------------------------------------------------------------


def test_parse_document_unknown_format_raises_on_format_field():
    with pytest.raises(TextImportError) as caught:
        parse_document("text", "docx")
    assert caught.value.field == "format"
    assert caught.value.message == (
        'Unknown format "docx". Use "txt" (plain text), "md" (Markdown), "html", "epub" or "pdf".'
    )


@pytest.mark.parametrize(("alias", "fmt"), [("TXT", "txt"), ("text", "txt"), ("markdown", "md"), (".htm", "html")])
def test_parse_document_format_aliases_normalised(alias, fmt):
    assert parse_document("Title", alias).format == fmt


@pytest.mark.parametrize("text", ["", "   \n\n\t\n", "\ufeff\r\n"])
def test_parse_document_text_without_words_raises(text):
    with pytest.raises(TextImportError) as caught:
        parse_document(text, "txt")
    assert (caught.value.field, caught.value.message) == (
        "file",
        "The file has no text: it is empty or only white space.",
    )


def test_parse_document_progress_reports_every_block(sample):
    calls = []
    doc = parse_document(
        SAMPLE.read_text(encoding="utf-8"), "txt", on_progress=lambda done, total: calls.append((done, total))
    )
    total = len(doc.blocks)
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {seen_total for _, seen_total in calls} == {total}


def test_parse_document_large_text_is_linear():
    sample = SAMPLE.read_text(encoding="utf-8") + "\n\n"
    doc = parse_document(sample * 32, "txt")
    # Every copy gives 121 blocks; in later copies the title line is a paragraph.
    assert len(doc.blocks) == 32 * 121
    assert growth(lambda copies: parse_document(sample * copies, "txt"), 8) < LINEAR


def test_parse_document_pathological_input_is_linear():
    def parse(n: int) -> None:
        parse_document("T\n\n" + "“(" * n + "\n\n" + "‘A " * n + "\n\n" + "[" * (2 * n), "txt")

    assert growth(parse, 12_500) < LINEAR


def test_parsing_package_imports_no_django():
    code = "import sys, readings.parsing; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
