"""Validators shared by models, forms and API serializers, and the render-time clean-up that matches them."""

import re
import zoneinfo
from datetime import date
from functools import cache

from django.core.exceptions import ValidationError


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    """An IANA name such as `Europe/London`; abbreviations like `EST` are not enough."""
    if value not in known_timezones():
        raise ValidationError(
            "“%(value)s” is not a known IANA timezone; use a name such as “Europe/London” or “America/New_York”.",
            code="invalid_timezone",
            params={"value": value},
        )


# The dates we schedule: wide enough for any study circle, and narrow enough
# that a time moved into any timezone, by a series' rule or by a reminder's
# lead is still a date Python and PostgreSQL can hold (year 9999 was not).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2999
OUT_OF_RANGE = f"Give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}."


def validate_schedulable_date(value: date) -> None:
    """A date or datetime within the years we schedule (EARLIEST_YEAR to LATEST_YEAR)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(OUT_OF_RANGE, code="out_of_range")


# Control characters (Unicode category Cc: C0, DEL, C1 including NEL) and the
# Unicode line and paragraph separators. A single-line field (a title, a name,
# a place) goes into .ics content lines, email headers and Markdown headings,
# where any of these would end the line or corrupt the file.
_NOT_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NOT_SINGLE_LINE_RUN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# In text that may span lines (a description, a note), line breaks and tabs
# are welcome; the other control characters are not (XML, and so EPUB, cannot
# even carry most of them).
_NOT_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_LINE_BREAKS = {"\n": "a line break", "\r": "a line break", "\x85": "a line break", "\u2028": "a line break"}
_LINE_BREAKS["\u2029"] = "a paragraph break"


def _describe(character: str) -> str:
    if character in _LINE_BREAKS:
        return _LINE_BREAKS[character]
    if character == "\t":
        return "a tab"
    return f"the control character U+{ord(character):04X}"


def validate_single_line(value: str) -> None:
    """One line of plain text: no line breaks, tabs or other control characters."""
    if isinstance(value, str) and (found := _NOT_SINGLE_LINE.search(value)):
        raise ValidationError(
            "Keep this on one line: it contains %(what)s; remove it (and any other control character).",
            code="not_single_line",
            params={"what": _describe(found.group())},
        )


def validate_multiline_text(value: str) -> None:
    """Text that may span lines: line breaks and tabs are fine, other control characters are not."""
    if isinstance(value, str) and (found := _NOT_MULTI_LINE.search(value)):
        raise ValidationError(
            "This text contains %(what)s; remove it.",
            code="control_character",
            params={"what": _describe(found.group())},
        )


def single_line(value: str) -> str:
    """`value` made safe for one line of output: each run of control characters becomes one space.

    For rendering what was stored before `validate_single_line` existed (or
    written around it): .ics properties, email headers, Markdown headings.
    """
    return _NOT_SINGLE_LINE_RUN.sub(" ", value).strip() if value else value
