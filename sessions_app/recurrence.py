"""RFC 5545 recurrence rules, expanded at a fixed local wall-clock time.

A series is defined in local time ("Thursdays at 19:00 in New York"), so the
rule is expanded on naive local datetimes and each occurrence is converted to
UTC on its own date. That keeps 19:00 at 19:00 across a DST change.
"""

import re
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

MAX_OCCURRENCES = 200
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")
ALLOWED_PARTS = {"FREQ", "COUNT", "UNTIL", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "WKST"}
_WEEKDAYS = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
_DAYS_IN_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_UNTIL = re.compile(r"UNTIL=([0-9]{8})(?:T([0-9]{6})(Z?))?", re.IGNORECASE)


class RecurrenceError(ValueError):
    """The rule breaks one of our limits or cannot be parsed; the message says which."""


def local_to_utc(local: datetime, tz_name: str) -> datetime:
    """Convert a naive local wall-clock time in `tz_name` to an aware UTC datetime.

    A time that does not exist (inside a spring-forward gap) moves forward by
    the gap: 02:30 on a day that jumps from 02:00 to 03:00 becomes 03:30. An
    ambiguous time (inside a fall-back overlap) takes its first occurrence.
    Both follow from PEP 495's `fold=0`, which uses the offset in force before
    the transition.
    """
    return local.replace(tzinfo=ZoneInfo(tz_name), fold=0).astimezone(UTC)


def _parts(rule: str) -> dict[str, str]:
    parts = {}
    for chunk in rule.split(";"):
        if not chunk:
            continue
        key, sep, value = chunk.partition("=")
        if not sep or not key or not value:
            raise RecurrenceError(f"“{chunk}” is not a KEY=VALUE part of an RRULE, e.g. “FREQ=WEEKLY;COUNT=4”.")
        parts[key.upper()] = value
    return parts


def normalise_rrule(rule: str) -> str:
    """Check a rule against our limits and return it without an `RRULE:` prefix.

    Allowed: FREQ of DAILY, WEEKLY or MONTHLY, ended by COUNT or UNTIL. The
    200-occurrence cap is checked by `expand`, which knows the start.
    """
    rule = rule.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    if "\n" in rule or "\r" in rule:
        raise RecurrenceError("Give a single RRULE line, e.g. “FREQ=WEEKLY;COUNT=4”.")
    parts = _parts(rule)
    freq = parts.get("FREQ", "").upper()
    if not freq:
        raise RecurrenceError("The RRULE needs a FREQ, e.g. “FREQ=WEEKLY;COUNT=4”.")
    if freq not in ALLOWED_FREQUENCIES:
        raise RecurrenceError(f"FREQ={freq} is not supported; use DAILY, WEEKLY or MONTHLY.")
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise RecurrenceError(f"The RRULE needs COUNT or UNTIL so that it ends (at most {MAX_OCCURRENCES} sessions).")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("Give COUNT or UNTIL, not both.")
    if "COUNT" in parts and not parts["COUNT"].isdigit():
        raise RecurrenceError("COUNT must be a whole number.")
    if "INTERVAL" in parts and (not parts["INTERVAL"].isdigit() or int(parts["INTERVAL"]) < 1):
        raise RecurrenceError("INTERVAL must be a whole number from 1 (2 means every other week, month or day).")
    if unsupported := sorted(set(parts) - ALLOWED_PARTS):
        raise RecurrenceError(
            f"{', '.join(unsupported)} is not supported: a series meets once per day it occurs, at one time."
        )
    _check_can_occur(freq, parts)
    return rule


def _numbers(value: str, part: str) -> list[int]:
    try:
        return [int(item) for item in value.split(",")]
    except ValueError:
        raise RecurrenceError(f"{part} must list whole numbers, e.g. {part}=1,15.") from None


def _check_can_occur(freq: str, parts: dict[str, str]) -> None:
    """Refuse rules that can never produce a date (dateutil would search to the year 9999 for one)."""
    months = _numbers(parts["BYMONTH"], "BYMONTH") if "BYMONTH" in parts else list(range(1, 13))
    if any(not 1 <= month <= 12 for month in months):
        raise RecurrenceError("BYMONTH takes months 1 to 12.")
    if "BYMONTHDAY" in parts:
        days = _numbers(parts["BYMONTHDAY"], "BYMONTHDAY")
        if any(day == 0 or not -31 <= day <= 31 for day in days):
            raise RecurrenceError("BYMONTHDAY takes days 1 to 31 (or -1 to -31 from the month's end).")
        longest = max(_DAYS_IN_MONTH[month] for month in months)
        if all(abs(day) > longest for day in days):
            raise RecurrenceError("No month in the rule has that day, so it produces no sessions.")
    for day in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        if day[-2:].upper() not in _WEEKDAYS:
            raise RecurrenceError(f"BYDAY takes weekdays such as MO,TH; “{day}” is not one.")
        ordinal = day[:-2]
        if ordinal and (freq != "MONTHLY" or not ordinal.lstrip("+-").isdigit() or not 1 <= abs(int(ordinal)) <= 5):
            raise RecurrenceError("A numbered weekday (e.g. 2TU) works with FREQ=MONTHLY, from 1 to 5 or -1 to -5.")


def _until_as_local(rule: str, tz_name: str) -> str:
    """Rewrite UNTIL as local wall-clock time, the frame our DTSTART lives in.

    A UTC UNTIL (`...Z`) is converted; a bare date includes that whole day.
    """

    def replace(match: re.Match[str]) -> str:
        day, clock, zulu = match.group(1), match.group(2), match.group(3)
        if clock is None:
            return f"UNTIL={day}T235959"
        if zulu:
            moment = datetime.strptime(day + clock, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            local = moment.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)
            return f"UNTIL={local:%Y%m%dT%H%M%S}"
        return match.group(0)

    return _UNTIL.sub(replace, rule)


def expand(rule: str, first_local: datetime, tz_name: str) -> list[datetime]:
    """Every occurrence of `rule` from `first_local`, as aware UTC datetimes.

    An empty rule means a single occurrence. Raises RecurrenceError when the
    rule is malformed, outside our limits, or produces no occurrence at all.
    """
    if first_local.tzinfo is not None:
        raise RecurrenceError("The first start is local wall-clock time and must not carry an offset.")
    if not rule.strip():
        return [local_to_utc(first_local, tz_name)]
    rule = normalise_rrule(rule)
    try:
        recurrence = rrulestr(_until_as_local(rule, tz_name), dtstart=first_local)
        local_starts = list(islice(iter(recurrence), MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, OverflowError) as error:
        raise RecurrenceError(f"The RRULE could not be read: {error}.") from error
    if len(local_starts) > MAX_OCCURRENCES:
        raise RecurrenceError(f"The RRULE produces more than {MAX_OCCURRENCES} sessions; end it sooner.")
    if not local_starts:
        raise RecurrenceError("The RRULE produces no sessions; check UNTIL against the first start.")
    return [local_to_utc(start, tz_name) for start in local_starts]


def occurrence_end(start: datetime, duration_minutes: int) -> datetime:
    return start + timedelta(minutes=duration_minutes)
