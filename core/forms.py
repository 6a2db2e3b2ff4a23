"""Form plumbing shared by every page: a service's errors on a form, ids from a query string."""

from django import forms
from django.core.exceptions import BadRequest, ValidationError


def apply_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: each message on its field (or the form if none)."""
    aliases = aliases or {}
    messages = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for field, problems in messages.items():
        field = aliases.get(field, field)
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


def is_id(value: str) -> bool:
    """Only ASCII digits: not "+5", " 5", "1_0" or "٥", which `int()` would take."""
    return value.isascii() and value.isdigit()


def id_from_request(value: str | None, name: str) -> int | None:
    """An object id a page takes from its query string or a form (`?edit=12`); None when absent.

    Anything but digits is a 400 (Django's plain error page: the value is never
    echoed back); a number that names nothing is left to the caller's 404.
    """
    if not value:
        return None
    if not is_id(value):
        raise BadRequest(f"{name} must be a number")
    return int(value)
