"""What a person is told when a login is refused: locked out (django-axes) or too many tries (a throttle).

Both say so and say when to try again: the API as JSON with `Retry-After`,
the pages in the site's layout. Axes calls `lockout_response` (settings.
AXES_LOCKOUT_CALLABLE) from its middleware for every login path.
"""

import math
from datetime import UTC, datetime, timedelta

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_STATUS = 429


def lock_ends_at(request: HttpRequest, credentials: dict | None) -> datetime:
    """When the lock on this account from this address lifts: its last counted failure plus the cool-off."""
    cool_off = get_cool_off(request) or timedelta(0)
    last_failure = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials), ip_address=request.axes_ip_address
    ).aggregate(last=Max("attempt_time"))["last"]
    return (last_failure or timezone.now()) + cool_off


def retry_message(what: str, until: datetime) -> tuple[str, int]:
    """A sentence saying what happened and when to try again (UTC), and the seconds to wait."""
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    when = until.astimezone(UTC).strftime("%H:%M UTC")
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{what} Try again after {when} (in {wait}).", seconds


def refused_response(request: HttpRequest, message: str, seconds: int) -> HttpResponse:
    """The answer to a refused login or form: JSON under /api/, else a page in the site's layout."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=LOCKED_STATUS)
    else:
        response = render(request, "registration/refused.html", {"message": message}, status=LOCKED_STATUS)
    response["Retry-After"] = str(seconds)
    return response


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """Axes' lockout answer: this account is locked from this address, until when."""
    message, seconds = retry_message(
        "This account is locked from your address after too many failed logins.",
        lock_ends_at(request, credentials),
    )
    return refused_response(request, message, seconds)
