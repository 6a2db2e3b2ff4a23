"""The secret address of a user's personal calendar feed."""

import secrets

from django.db import transaction

from ..models import CalendarFeed, User


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def calendar_feed_for(*, user: User) -> CalendarFeed:
    """The user's feed, created with a fresh secret the first time it is asked for."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user, defaults={"secret": _new_secret()})
    return feed


@transaction.atomic
def calendar_feed_rotate(*, user: User) -> CalendarFeed:
    """Give the feed a new secret; the old address stops working at once."""
    feed = calendar_feed_for(user=user)
    feed.secret = _new_secret()
    feed.save(update_fields=["secret", "created_at"])
    return feed
