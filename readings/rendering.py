"""User Markdown to safe HTML: markdown-it-py's `js-default` preset, then nh3.

One policy for every place a note is shown (the reader, the API's
`body_html`, every pack format): raw HTML is text, only http(s) and mailto
links survive (any other link becomes its text), and an image becomes a link
to it with its alt text, because an `<img>` pointing at a member's server is a
tracking pixel for everyone who opens the page, the PDF or the e-book.

What Markdown costs: markdown-it parses in time linear in the source, but
each `[` costs as much as `maxNesting` levels of inline rules. An unmatched
`[` opens a link label; the label scan skips the next token by running every
inline rule on it, and a `[` there opens another label one level deeper, down
to `maxNesting`, where the scan gives up and skips to the end of the
paragraph. At js-default's 100 levels that is about 90 µs per `[` (300 µs per
`![`), so a page of brackets took seconds. Notes therefore run at CommonMark's
20 levels (plenty for lists in a note), and a source may hold at most
`MARKDOWN_MAX_BRACKETS` `[` (`markdown_problem`), which bounds the work of
the label scans whatever the text around them.
"""

import re
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from markdown_it import MarkdownIt
from markdown_it.token import Token

SAFE_URL_SCHEMES = {"http", "https", "mailto"}

MAX_NESTING = 20
_markdown = MarkdownIt("js-default", {"maxNesting": MAX_NESTING})
# Every link is parsed as a link, so `inert_tokens` can apply one policy to all of them (markdown-it's own
# check leaves `[x](javascript:…)` as literal brackets and lets `data:` images through).
_markdown.validateLink = lambda url: True

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr", "del", "s",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}

# C0 and C1 control characters but tab, line feed and carriage return: never text, and not even allowed in
# the XML of an EPUB.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_controls(text: str) -> str:
    """`text` without control characters (tab and line breaks stay)."""
    return _CONTROL.sub("", text)


def safe_url(url: str | None) -> bool:
    """Whether a note may link to `url`: http, https and mailto only (no relative, javascript:, data:…)."""
    return bool(url) and urlsplit(url.strip()).scheme.lower() in SAFE_URL_SCHEMES


def inert_tokens(source: str) -> list[Token]:
    """The Markdown's tokens with the link policy applied: what every rendering of a note starts from."""
    tokens = _markdown.parse(without_controls(source))
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _inert_inline(token.children)
    return tokens


def inert_inline_tokens(source: str) -> list[Token]:
    """The Markdown read as one run of inline text (no blocks), with the link policy applied.

    For exports that keep a note on one line: block markers stay as the author typed them.
    """
    [inline] = _markdown.parseInline(without_controls(source))
    return _inert_inline(inline.children or [])


def _inert_inline(children: list[Token]) -> list[Token]:
    out: list[Token] = []
    links: list[bool] = []  # for each open link, whether it is kept
    for token in children:
        if token.type == "link_open":
            href = token.attrGet("href")
            links.append(safe_url(href))
            if links[-1]:
                token.attrs = {"href": href}
                out.append(token)
        elif token.type == "link_close":
            if links.pop():
                out.append(token)
        elif token.type == "image":
            src = token.attrGet("src")
            alt = _markdown.renderer.renderInlineAsText(token.children or [], _markdown.options, {})
            if safe_url(src) and not any(links):
                out += [
                    Token("link_open", "a", 1, attrs={"href": src}),
                    Token("text", "", 0, content=alt or src),
                    Token("link_close", "a", -1),
                ]
            elif alt:
                out.append(Token("text", "", 0, content=alt))
        else:
            out.append(token)
    return out


def render_markdown(source: str) -> str:
    """Render Markdown source to HTML that is safe to put in any page, email or pack.

    Raw HTML in the source is escaped by the preset; links and images follow
    the policy above; nh3 then keeps only the tags above and only
    http(s)/mailto links, and marks links noopener.
    """
    return nh3.clean(
        _markdown.renderer.render(inert_tokens(source), _markdown.options, {}),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=SAFE_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ).strip()


def markdown_problem(source: str, *, what: str) -> str | None:
    """Why `source` is too costly to parse as Markdown (a message naming `what` it is), or None."""
    brackets, limit = source.count("["), settings.MARKDOWN_MAX_BRACKETS
    if brackets > limit:
        return (
            f"The {what} has {brackets:,} “[” brackets; the limit is {limit:,}, because each one makes "
            "the Markdown reader look for a link. Remove some of them."
        )
    return None
