"""Behind a TLS-terminating proxy, on real PostgreSQL, Redis and SMTP."""

import sys

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403 (settings modules extend base by design)
from .base import TRUSTED_PROXY_COUNT, env

# Values people leave in by mistake: .env.example's, the image build's, the usual placeholders.
PLACEHOLDER_SECRET_KEYS = ("change-me", "changeme", "change_me", "insecure", "placeholder", "build-only", "secret-key")
SECRET_KEY_MIN_LENGTH = 50
HOW_TO_SET_SECRET_KEY = (
    "Set DJANGO_SECRET_KEY to 50 or more random characters, the same on every web node, worker and beat, "
    "e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
)


def checked_secret_key(value: str) -> str:
    """`value` if it will do as a production secret key; otherwise ImproperlyConfigured naming DJANGO_SECRET_KEY.

    Refused: missing, shorter than 50 characters, fewer than 5 distinct characters,
    Django's `django-insecure-` keys and known placeholders (never echoed back).
    """
    if not value:
        problem = "is not set"
    elif any(word in value.lower() for word in PLACEHOLDER_SECRET_KEYS) or value.startswith("django-insecure-"):
        problem = "is a placeholder"
    elif len(value) < SECRET_KEY_MIN_LENGTH or len(set(value)) < 5:
        problem = f"is too short or too simple ({len(value)} characters)"
    else:
        return value
    raise ImproperlyConfigured(f"DJANGO_SECRET_KEY {problem}. {HOW_TO_SET_SECRET_KEY}")


# `collectstatic` at image build time signs nothing and has no secret to use, so it is exempt.
_BUILDING_STATIC_FILES = sys.argv[1:2] == ["collectstatic"]

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not _BUILDING_STATIC_FILES:
    SECRET_KEY = checked_secret_key(SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# X-Forwarded-Proto is believed only from proxies of ours (TRUSTED_PROXY_COUNT > 0): without
# one, any client could claim https. Behind a TLS proxy, set the count.
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Off only for a plain-http trial of `docker compose up`; behind TLS keep it on.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
