"""API tokens: made, used, revoked. Only a hash of each key is stored (sessions_app/tokens.py)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.validators import validate_single_line

from ..models import ApiToken, User
from ..tokens import key_digest, new_key, shown_prefix

# last_used_at is exact to this much: a token in steady use costs one write a minute, not one per request.
API_TOKEN_USE_RESOLUTION = timedelta(minutes=1)
DEFAULT_TOKEN_NAME = "API token"


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Make a token for `user` expiring in API_TOKEN_DAYS; return it with its key, which is not stored.

    The user's expired tokens are deleted on the way, so they do not pile up.
    """
    name = " ".join(name.split()) or DEFAULT_TOKEN_NAME
    try:
        validate_single_line(name)
    except ValidationError as error:
        raise ValidationError({"name": error.messages}) from None
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValidationError({"name": "Keep the name to 100 characters."})
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    key = new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=shown_prefix(key),
        digest=key_digest(key),
        created_at=now,
        expires_at=now + timedelta(days=settings.API_TOKEN_DAYS),
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    """Delete the token; its key stops working at once."""
    token.delete()


@transaction.atomic
def api_tokens_revoke_all(*, user: User) -> int:
    """Delete every token of `user` (a password change or reset); return how many there were."""
    count, _ = ApiToken.objects.filter(user=user).delete()
    return count


def api_token_mark_used(*, token: ApiToken, now: datetime) -> None:
    """Record that the token was used at `now`, unless that was already recorded less than a minute ago.

    The condition is repeated in the UPDATE, so concurrent requests write the row at most once a minute.
    One statement, so no transaction of its own: most requests return before it, without a query.
    """
    if token.last_used_at is not None and now - token.last_used_at < API_TOKEN_USE_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - API_TOKEN_USE_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
