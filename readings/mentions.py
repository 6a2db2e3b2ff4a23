"""@mentions in note bodies: `@username` not preceded by a letter, digit or `.` (email addresses are not mentions)."""

import re
from collections.abc import Callable, Iterable, Mapping

from django.utils.html import escape

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


# A tag of sanitised HTML (nh3 writes attributes in double quotes; a quoted value may hold ">").
_TAG = re.compile(r"""(<(?:[^>"']|"[^"]*"|'[^']*')*>)""")
_VERBATIM = re.compile(r"<(/?)(code|pre)\b", re.IGNORECASE)


def mention_names(note) -> dict[str, str]:
    """Who `note` mentions, as casefolded username → their display name now (reads `note.mentions`, so prefetch
    it with `selectors.mentions_prefetch()` for a list of notes)."""
    return {mention.user.username.casefold(): mention.user.name for mention in note.mentions.all()}


def mention_refs(note) -> list[dict]:
    """Who `note` mentions as a pack note lists them (`[{"id", "username", "name"}]`, the name as it is now);
    reads `note.mentions` as `mention_names` does."""
    return [
        {"id": mention.user_id, "username": mention.user.username, "name": mention.user.name}
        for mention in note.mentions.all()
    ]


def note_text(note: Mapping) -> str:
    """A note dict's (pack, brief, summary) source with its mentions written by display name: for plain text."""
    return text_with_mention_names(note["body"], mention_map(note.get("mentions", ())))


def mention_map(mentions: Iterable[Mapping]) -> dict[str, str]:
    """A pack note's `mentions` (`[{"id", "username", "name"}]`) as casefolded username → display name."""
    return {mention["username"].casefold(): mention["name"] for mention in mentions}


def _replace(text: str, names: Mapping[str, str], shown: Callable[[str, str], str]) -> str:
    def one(match: re.Match) -> str:
        written = match.group(1).rstrip(".-")
        name = names.get(written.casefold())
        if name is None:
            return match.group(0)
        return shown(written, name) + match.group(1)[len(written) :]

    return _MENTION.sub(one, text)


def text_with_mention_names(
    text: str, names: Mapping[str, str], *, shown: Callable[[str, str], str] | None = None
) -> str:
    """Plain `text` (a note's source) with each `@username` of `names` written as `@Display Name`.

    `shown(username, name)` writes one mention (default: "@" + name); a caller that escapes its output
    (Markdown) passes its own. Usernames that nobody was mentioned by stay as written.
    """
    if not names or "@" not in text:
        return text
    return _replace(text, names, shown or (lambda _username, name: f"@{name}"))


def html_with_mention_names(body_html: str, names: Mapping[str, str]) -> str:
    """Sanitised note HTML with each `@username` of `names` shown as `<span class="mention">@Display Name</span>`.

    Only text between tags changes (never an attribute, nor code), and the name is escaped, so a display
    name is text whatever it holds. Rendering time is the point: a member who renames is shown by the
    new name everywhere, without rewriting any note.
    """
    if not names or "@" not in body_html:
        return body_html
    parts = _TAG.split(body_html)
    verbatim = 0
    for index, part in enumerate(parts):
        if index % 2:
            tag = _VERBATIM.match(part)
            if tag:
                verbatim = max(0, verbatim + (-1 if tag.group(1) else 1))
        elif part and not verbatim and "@" in part:
            parts[index] = _replace(
                part,
                names,
                lambda username, name: f'<span class="mention" title="@{username}">@{escape(name)}</span>',
            )
    return "".join(parts)
