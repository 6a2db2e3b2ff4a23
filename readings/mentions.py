"""@mentions in note bodies: `@username` not preceded by a letter, digit or `.` (email addresses are not mentions)."""

import re

# Django usernames are letters, digits and @ . + - _; a mention stops at "@" (the next mention) and
# gives back trailing dots and dashes (the end of a sentence: "thanks, @carol.").
_MENTION = re.compile(r"(?<![\w.@])@([\w.+-]+)")

MAX_MENTIONS = 20


def mentioned_usernames(body: str) -> list[str]:
    """The distinct usernames mentioned in `body`, in order of first mention (as written; compare casefolded)."""
    seen: dict[str, str] = {}
    for match in _MENTION.finditer(body or ""):
        name = match.group(1).rstrip(".-")
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())
