"""User Markdown to safe HTML: markdown-it-py's `js-default` preset, then nh3."""

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("js-default")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr", "del", "s",
    "h1", "h2", "h3", "h4", "h5", "h6", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def render_markdown(source: str) -> str:
    """Render Markdown source to HTML that is safe to put in any page, email or pack.

    Raw HTML in the source is escaped by the preset; nh3 then keeps only the
    tags above, only http(s)/mailto links, and marks links noopener.
    """
    return nh3.clean(
        _markdown.render(source),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()
