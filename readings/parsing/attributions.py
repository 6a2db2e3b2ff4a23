"""Find attributions and cited works in a block body.

Both rules work on the plain-text body, so they behave the same whatever the
original format was. They rely on quotation marks paired by
:func:`textutil.quote_spans`, never on pairing marks across blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .textutil import (
    QuoteSpan,
    is_closing_mark,
    is_title_case,
    normalise_space,
    quote_spans,
    word_set,
)

# --- attributions -----------------------------------------------------------

# An attribution is a parenthetical straight after a closing quotation mark:
#   …revolution.”(Trotsky, Preface to The Year 1905).   …country” (p 93).
# A parenthetical anywhere else — "(who were hungry for land)" — is an aside.
_MAX_ATTRIBUTION_CHARS = 300
_MAX_GAP = 2  # spaces allowed between the closing mark and "("
_TRAILING_PUNCTUATION = frozenset(".;,:!?")

# Editorial remarks that follow quotations but say nothing about the source.
_EDITORIAL_RE = re.compile(
    r"(?:sic|emphasis (?:added|mine|in (?:the )?original)|my emphasis"
    r"|italics (?:added|mine|in (?:the )?original)|original emphasis"
    r"|\.{3}|…)\W*",
    re.IGNORECASE,
)

# Looks like a reference even in mid-sentence: "(p 93)", "(ibid.)", "(see …)".
_REFERENCE_RE = re.compile(
    r"\b(?:pp?\.?\s*\d|pages?\s+\d|ibid|op\.?\s*cit|loc\.?\s*cit|see|cf)\b",
    re.IGNORECASE,
)


def _matching_paren(text: str, start: int) -> int:
    """Index of the ")" closing the "(" at ``start``, or -1 if none is near."""
    depth = 0
    limit = min(len(text), start + _MAX_ATTRIBUTION_CHARS + 2)
    for index in range(start, limit):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _continues_sentence(text: str, close: int) -> bool:
    """True when the sentence runs on in lower case after the ")" at ``close``.

    A citation sits at the end of a clause ("…” (p 93)." or "…” (ibid.);"),
    while an aside is usually followed by more of the same sentence.
    """
    index = close + 1
    if index >= len(text) or text[index] in _TRAILING_PUNCTUATION:
        return False
    while index < len(text) and text[index].isspace():
        index += 1
    return index < len(text) and text[index].islower()


def _preceding_closing_mark(text: str, paren: int, closers: set[int]) -> bool:
    """True when a closing quotation mark precedes ``paren`` (spaces allowed)."""
    index = paren - 1
    while index >= 0 and paren - index <= _MAX_GAP and text[index].isspace():
        index -= 1
    return index >= 0 and is_closing_mark(text, index, closers)


def find_attributions(text: str, closers: set[int] | None = None) -> list[str]:
    """Return the attributions in ``text``, in order, without duplicates.

    Each is the inner text of a parenthetical that directly follows a closing
    quotation mark, without the parentheses: "Trotsky, Preface to The Year
    1905", "p 93", "ibid.". Editorial notes such as "(sic)" are not
    attributions, nor are asides after which the sentence simply continues
    (unless they read like a reference, e.g. "(p 5)").
    """
    if "(" not in text:
        return []
    if closers is None:
        _, closers = quote_spans(text)
    found: list[str] = []
    start = text.find("(")
    while start != -1:
        if _preceding_closing_mark(text, start, closers):
            close = _matching_paren(text, start)
            if close != -1:
                content = normalise_space(text[start + 1 : close])
                if _is_attribution(content, text, close):
                    found.append(content)
        start = text.find("(", start + 1)
    return list(dict.fromkeys(found))


def _is_attribution(content: str, text: str, close: int) -> bool:
    """Decide whether a parenthetical after a quotation names its source."""
    if not any(char.isalnum() for char in content):
        return False
    if _EDITORIAL_RE.fullmatch(content):
        return False
    return not _continues_sentence(text, close) or bool(_REFERENCE_RE.search(content))


# --- cited works ------------------------------------------------------------

# Nouns that present a quoted title as a work: "his book ‘On the Road to
# October’", "the piece we are studying: ‘…’".
WORK_NOUNS = word_set(
    """
    book article pamphlet work piece essay speech preface foreword afterword postscript
    introduction poem novel novella chapter letter report paper story play lecture
    address treatise tract manifesto thesis theses text volume collection memoir memoirs
    diary biography autobiography journal newspaper magazine periodical review editorial
    interview sermon song film documentary entitled titled
    """
)
# Words that may follow a title and present it as a work: "‘…’, his essay of
# 1920", "‘…’, which was written in 1923".
_AFTER_CUES = WORK_NOUNS | {"written", "published"}
_AFTER_FILLERS = word_set(
    """
    his her their its the a an is was which being first famous short long new early late
    later earlier great classic
    """
)
_BEFORE_WINDOW_WORDS = 6
_AFTER_WINDOW_WORDS = 4
_WINDOW_CHARS = 120
_MAX_TITLE_WORDS = 15
_MAX_TITLE_CHARS = 150
# The end of a sentence inside the look-behind window.
_SENTENCE_END_RE = re.compile(r"[.!?][”’\"')\]]*\s")
_WORD_EDGE_CHARS = "‘’'\"“”«»()[]{},.;:!?—–-…"


def _bare_word(word: str) -> str:
    """Lower-case ``word`` without surrounding punctuation or a possessive 's."""
    word = word.strip(_WORD_EDGE_CHARS).lower()
    for suffix in ("’s", "'s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    return word


def _is_work_noun(word: str) -> bool:
    """True for a work noun, singular or plural ("article", "speeches")."""
    if word in WORK_NOUNS:
        return True
    return (word.endswith("s") and word[:-1] in WORK_NOUNS) or (word.endswith("es") and word[:-2] in WORK_NOUNS)


def _cued_before(text: str, start: int) -> bool:
    """True when a work noun is among the few words before ``start``.

    Only the current sentence is looked at, so a noun that ended the
    previous sentence cannot present the quotation.
    """
    window = text[max(0, start - _WINDOW_CHARS) : start]
    sentence_start = 0
    for match in _SENTENCE_END_RE.finditer(window):
        sentence_start = match.end()
    window = window[sentence_start:]
    words = window.split()[-_BEFORE_WINDOW_WORDS:]
    return any(_is_work_noun(_bare_word(word)) for word in words)


def _cued_after(text: str, end: int) -> bool:
    """True when the words right after ``end`` present the title as a work."""
    window = text[end + 1 : end + 1 + _WINDOW_CHARS]
    words = [bare for bare in map(_bare_word, window.split()) if bare]
    for bare in words[:_AFTER_WINDOW_WORDS]:
        if bare in _AFTER_CUES or _is_work_noun(bare):
            return True
        if bare not in _AFTER_FILLERS:
            return False
    return False


def _title_text(text: str, span: QuoteSpan) -> str:
    """The candidate title inside ``span``, or "" when it cannot be a title."""
    title = text[span.start + 1 : span.end].strip().rstrip(",;:.").strip()
    if not title or len(title) > _MAX_TITLE_CHARS:
        return ""
    if len(title.split()) > _MAX_TITLE_WORDS or not is_title_case(title):
        return ""
    return title


def find_cited_works(
    text: str,
    spans: list[QuoteSpan] | None = None,
    marked: Iterable[tuple[int, str]] = (),
) -> list[str]:
    """Return the titles of works cited in ``text``, in order, no duplicates.

    A quoted span is a cited work when it is in title case and the sentence
    presents it as a work: a work noun within a few words before it ("his
    pamphlet ‘Our Revolution’") or right after it ("‘…’, his essay"). Scare
    quotes (‘skilfully’, ‘Left’) fail one test or the other. ``marked`` adds
    works identified by markup (HTML ``<cite>``) as ``(offset, title)``; all
    titles are ordered by their position in ``text``.
    """
    if spans is None:
        spans, _ = quote_spans(text)
    candidates: list[tuple[int, str]] = list(marked)
    for span in spans:
        title = _title_text(text, span)
        if title and (_cued_before(text, span.start) or _cued_after(text, span.end)):
            candidates.append((span.start, title))
    candidates.sort(key=lambda item: item[0])
    # dict keeps the first occurrence of each title, in order.
    return list(dict.fromkeys(title for _, title in candidates if title))
