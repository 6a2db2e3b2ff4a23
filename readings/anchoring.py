"""Selectors into passage bodies, and finding a quote again after a revision.

A selector is the W3C Web Annotation TextPositionSelector + TextQuoteSelector
pair, in Unicode code points (Python string indices): `start`, `end`, the
`exact` quote, and up to 32 characters of `prefix` and `suffix` around it.
Pure functions: no database here.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

CONTEXT_CHARS = 32


class SelectorError(ValueError):
    """The selector does not describe a span of the passage; the message says how."""


def make_selector(body: str, start: object, end: object, exact: object) -> dict:
    """Validate a span against `body` and return the full selector with its context.

    Requires 0 ≤ start < end ≤ len(body) and exact == body[start:end]; the
    prefix and suffix are always taken from the body, so they are right.
    """
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise SelectorError("start and end must be whole numbers (code points into the passage).")
    if not isinstance(exact, str):
        raise SelectorError("exact must be the quoted text.")
    if not 0 <= start < end <= len(body):
        raise SelectorError(f"start and end must satisfy 0 ≤ start < end ≤ {len(body)} (the passage's length).")
    if body[start:end] != exact:
        raise SelectorError(f"exact does not match the passage at {start}–{end}, which reads “{body[start:end]}”.")
    return selector_at(body, start, end)


def selector_at(body: str, start: int, end: int) -> dict:
    return {
        "start": start,
        "end": end,
        "exact": body[start:end],
        "prefix": body[max(0, start - CONTEXT_CHARS) : start],
        "suffix": body[end : end + CONTEXT_CHARS],
    }


def occurrences(body: str, exact: str) -> list[int]:
    """Every start offset of `exact` in `body`, overlapping ones included."""
    found, index = [], body.find(exact)
    while index != -1:
        found.append(index)
        index = body.find(exact, index + 1)
    return found


@dataclass(frozen=True)
class Place:
    """Where a quote could be: a passage and a start offset in its body."""

    passage_id: int
    start: int


def _in_context(body: str, start: int, selector: dict) -> bool:
    end = start + len(selector["exact"])
    prefix, suffix = selector.get("prefix", ""), selector.get("suffix", "")
    return body[max(0, start - len(prefix)) : start] == prefix and body[end : end + len(suffix)] == suffix


def find_again(selector: dict, bodies: Iterable[tuple[int, str]]) -> tuple[Place | None, list[Place]]:
    """Look for the selector's quote in `bodies` ((passage id, body) pairs).

    Returns (the one place, []) when the quote occurs exactly once, or once
    with the same prefix and suffix as before; otherwise (None, every place it
    occurs), so that an ambiguous quote is never attached to a lookalike.
    """
    bodies = list(bodies)
    places = [Place(pid, start) for pid, body in bodies for start in occurrences(body, selector["exact"])]
    if len(places) == 1:
        return places[0], []
    text_of = dict(bodies)
    in_context = [place for place in places if _in_context(text_of[place.passage_id], place.start, selector)]
    if len(in_context) == 1:
        return in_context[0], []
    return None, places


def segments(length: int, spans: list[tuple[int, int, object]]) -> list[tuple[int, int, list]]:
    """Cut a body of `length` code points at every span boundary.

    Returns (start, end, covering) for each piece in order, where `covering`
    lists the items whose (start, end, item) span contains the piece: how
    overlapping highlights are drawn with each character marked once.
    """
    cuts = sorted({0, length, *(start for start, _, _ in spans), *(end for _, end, _ in spans)})
    return [(start, end, [item for s, e, item in spans if s <= start and end <= e]) for start, end in pairwise(cuts)]
