"""Note bodies as plain data for the PDF: what each piece of Markdown becomes, and which links survive."""

from readings.pack.note_blocks import note_blocks
from readings.rendering import render_markdown


def blocks(markdown: str) -> list[dict]:
    return note_blocks(render_markdown(markdown))


def test_inline_styles_become_runs_with_flags():
    assert blocks("Plain **strong _both_** *em* `code` ~~gone~~") == [
        {
            "type": "paragraph",
            "runs": [
                {"text": "Plain "},
                {"text": "strong ", "strong": True},
                {"text": "both", "strong": True, "em": True},
                {"text": " "},
                {"text": "em", "em": True},
                {"text": " "},
                {"text": "code", "code": True},
                {"text": " "},
                {"text": "gone", "strike": True},
            ],
        }
    ]


def test_only_http_and_mailto_links_stay_links_and_an_image_becomes_a_link_with_its_words():
    runs = blocks(
        "[web](https://example.org/) [mail](mailto:a@example.org) [ftp](ftp://example.org/) "
        "![the map](http://example.org/map.png) ![](https://example.org/bare.png)"
    )[0]["runs"]

    assert runs == [
        {"text": "web", "link": "https://example.org/"},
        {"text": " "},
        {"text": "mail", "link": "mailto:a@example.org"},
        {"text": " ftp "},
        {"text": "the map", "link": "http://example.org/map.png"},
        {"text": " "},
        {"text": "https://example.org/bare.png", "link": "https://example.org/bare.png"},
    ]


def test_raw_html_stays_words_and_a_script_link_is_its_text():
    assert blocks("<b>bold?</b> [x](javascript:alert(1))") == [
        {"type": "paragraph", "runs": [{"text": "<b>bold?</b> x"}]}
    ]


def test_line_breaks_lists_quotes_code_rules_and_tables_keep_their_shape():
    source = (
        "one  \ntwo\nthree\n\n"
        "3. third\n4. fourth\n   - inner\n\n"
        "> quoted\n\n"
        "```\nkeep   spaces\n```\n\n"
        "---\n\n"
        "## Heading\n\n"
        "| a | b |\n|---|---|\n| 1 |  |\n"
    )

    assert blocks(source) == [
        {"type": "paragraph", "runs": [{"text": "one"}, {"break": True}, {"text": "two three"}]},
        {
            "type": "list",
            "ordered": True,
            "start": 3,
            "items": [
                [{"type": "paragraph", "runs": [{"text": "third"}]}],
                [
                    {"type": "paragraph", "runs": [{"text": "fourth"}]},
                    {
                        "type": "list",
                        "ordered": False,
                        "start": 1,
                        "items": [[{"type": "paragraph", "runs": [{"text": "inner"}]}]],
                    },
                ],
            ],
        },
        {"type": "quote", "blocks": [{"type": "paragraph", "runs": [{"text": "quoted"}]}]},
        {"type": "code", "text": "keep   spaces"},
        {"type": "rule"},
        {"type": "heading", "runs": [{"text": "Heading"}]},
        {"type": "table", "rows": [[[{"text": "a"}], [{"text": "b"}]], [[{"text": "1"}], []]]},
    ]


def test_an_empty_body_has_no_blocks():
    assert note_blocks("") == []
    assert blocks("   ") == []
