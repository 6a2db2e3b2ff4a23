"""An email backend for `make run`: each message printed as a person would read it.

Django's console backend prints the raw MIME (quoted-printable, base64,
encoded headers). This one builds the same message, then prints its
decoded headers, its plain-text part and the names of its other parts.
It writes to the process's real stdout, so a Celery worker (which turns
`sys.stdout` into log lines) prints it whole, not line by line as warnings.
"""

import email
import email.policy
import sys

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend

RULE = "─" * 72
SHOWN_HEADERS = ("From", "To", "Cc", "Subject", "Date")


def readable(message) -> str:
    """An EmailMessage as text: headers, the plain-text body, then what else it carries."""
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    # Decoded, and unfolded: a long header comes back with the line breaks of its encoding.
    lines = [f"{name}: {' '.join(str(parsed[name]).split())}" for name in SHOWN_HEADERS if parsed[name]]
    body = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    extras = [f"{part.get_filename() or 'unnamed'} ({part.get_content_type()})" for part in parsed.iter_attachments()]
    if html is not None and html is not body:
        extras.insert(0, "an HTML version of this text")
    if extras:
        lines.append("Also carries: " + ", ".join(extras))
    text = body.get_content().rstrip() if body is not None else "(no plain-text part)"
    return "\n".join([RULE, *lines, "", text, RULE, ""])


class ReadableConsoleBackend(ConsoleEmailBackend):
    """The console backend, printing each message decoded (see `readable`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("stream", sys.__stdout__)
        super().__init__(*args, **kwargs)

    def write_message(self, message):
        self.stream.write(readable(message) + "\n")
