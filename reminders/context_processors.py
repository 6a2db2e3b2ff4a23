"""What every page shows about notifications: the bell's unread count (counted only when a page shows it)."""

from functools import partial

from .selectors import unread_notification_count


def notifications(request) -> dict:
    """`unread_notifications`: a callable the template calls (once, in base.html's `{% with %}`)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": partial(unread_notification_count, user)}
