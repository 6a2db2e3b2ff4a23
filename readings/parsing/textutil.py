"""Small text helpers shared by the format readers and the analysis rules.

Everything here works on plain ``str`` and runs in linear time: the regular
expressions have no nested quantifiers, so no input can make them backtrack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Characters that may open a quotation at the start of a paragraph. Closing
# marks (” ’ ») are included because real texts use them as openers too.
OPENING_MARKS = frozenset("“”„‟\"‘’‚‛'«»‹›「『")

# Quotation marks grouped by family; a span is paired within one family only.
_SINGLE_MARKS = "‘’‚‛'‹›"
_DOUBLE_MARKS = '“”„‟"«»'
_QUOTE_MARK_RE = re.compile("[" + re.escape(_SINGLE_MARKS + _DOUBLE_MARKS) + "]")

_ALL_MARKS = frozenset(_SINGLE_MARKS + _DOUBLE_MARKS)
# A quotation mark after one of these starts a quotation when a word follows.
_BRACKETS_AND_DASHES = frozenset("([{<—–-/")


def word_set(words: str) -> frozenset[str]:
    """A frozen set of the white-space separated words in ``words``."""
    return frozenset(words.split())


# Control characters other than tab, newline, carriage return and form feed.
# They are never part of a readable text and two of them (\x00, \x01, \x02)
# are used internally as sentinels, so they are removed up front.
_CONTROL_CHARS = dict.fromkeys([*range(0, 9), 11, *range(14, 32), 127])

# Words that may stay lower-case inside a title ("Six Red Months in Russia").
SMALL_WORDS = word_set(
    """
    a an the and but or nor for so yet as at by in of off on per to up via vs from into
    onto over upon with than de del della di da la le les du des von van der den et y
    """
)


def strip_control_chars(text: str) -> str:
    """Return ``text`` without C0 control characters (tab/newlines/form feed kept)."""
    return text.translate(_CONTROL_CHARS)


def normalise_newlines(text: str) -> str:
    """Return ``text`` with CRLF and lone CR turned into LF and any BOM removed."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def normalise_space(text: str) -> str:
    """Collapse every run of white space (incl. NBSP) to one space and strip."""
    return " ".join(text.split())


def opens_with_quote(text: str) -> bool:
    """True when ``text`` starts with a quotation mark of any style."""
    return bool(text) and text[0] in OPENING_MARKS


def _first_letter(word: str) -> str:
    """The first alphabetic character of ``word``, or "" when it has none."""
    for char in word:
        if char.isalpha():
            return char
    return ""


def is_title_case(text: str) -> bool:
    """True when ``text`` reads like a title: "The Road to October".

    The first word with letters must be capitalised (unless the text opens
    with a number, as in "1917 and After") and every later word must be
    capitalised unless it is a small word (of, in, the, and…). Words without
    letters (numbers, dashes) are ignored. Upper-case text counts as title
    case.
    """
    seen_word = False
    opens_with_number = False
    for index, word in enumerate(text.split()):
        letter = _first_letter(word)
        if not letter:
            opens_with_number = opens_with_number or index == 0
            continue
        if letter.isupper():
            seen_word = True
            continue
        core = word.strip("‘’'\"“”«»()[],.;:!?").lower()
        if (seen_word or opens_with_number) and core in SMALL_WORDS:
            continue
        return False
    return seen_word


@dataclass(frozen=True)
class QuoteSpan:
    """A paired quotation: ``text[start]`` opens it and ``text[end]`` closes it."""

    start: int
    end: int
    double: bool


def _mark_role(text: str, index: int) -> str:
    """Classify the quotation mark at ``index`` as "open", "close" or "".

    The role comes from the neighbouring characters, not from the glyph
    alone, because real texts use ’ and ” as openers, ' and " for both, and
    ’ as an apostrophe ("Lenin’s"). "" means an apostrophe or a stray mark.
    """
    mark = text[index]
    prev = text[index - 1] if index > 0 else " "
    nxt = text[index + 1] if index + 1 < len(text) else " "
    next_word = nxt.isalnum()
    if prev.isalnum() and next_word:
        return ""  # an apostrophe inside a word: Lenin’s, don't
    if mark in "‘‚‛„‟":
        return "" if prev.isalnum() else "open"
    prev_space = prev.isspace()
    prev_bracket = prev in _BRACKETS_AND_DASHES
    if mark in "“«‹":
        # German „…“ and Danish »…« (›…‹) close with these marks.
        return "open" if prev_space or prev_bracket or next_word else "close"
    # ’ ” » › ' " — closing when attached to the preceding text or followed
    # by white space; opening when they start a word ("’Tis", ”Stray).
    if prev_space or prev_bracket or prev in _ALL_MARKS:
        return "open" if next_word else "close"
    return "close"


def quote_spans(text: str) -> tuple[list[QuoteSpan], set[int]]:
    """Pair the quotation marks of ``text`` into innermost spans.

    Returns the spans (sorted by opening position) and the set of positions
    of every closing mark that closed a span. Single and double marks pair
    within their own family; a closing mark closes the most recent open mark
    of its family, so nested quotations (“… ‘…’ …”) pair correctly and stray
    marks stay unpaired instead of derailing the rest of the text.
    """
    stacks: dict[bool, list[int]] = {True: [], False: []}
    spans: list[QuoteSpan] = []
    closers: set[int] = set()
    for match in _QUOTE_MARK_RE.finditer(text):
        index = match.start()
        role = _mark_role(text, index)
        double = text[index] in _DOUBLE_MARKS
        if role == "open":
            stacks[double].append(index)
        elif role == "close" and stacks[double]:
            spans.append(QuoteSpan(stacks[double].pop(), index, double))
            closers.add(index)
    spans.sort(key=lambda span: span.start)
    return spans, closers


def is_closing_mark(text: str, index: int, paired_closers: set[int]) -> bool:
    """True when ``text[index]`` ends a quotation.

    Double marks count whenever they are in closing position (a
    multi-paragraph quotation may have its opening mark in an earlier block). Single marks
    only count when they closed a paired span, because ’ is also the
    apostrophe of a plural possessive ("the workers’ (…)").
    """
    if text[index] in _DOUBLE_MARKS:
        return _mark_role(text, index) == "close"
    return index in paired_closers
