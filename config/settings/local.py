"""`make run`: the embedded default on one machine."""

from .base import *  # noqa: F403 (settings modules extend base by design)
from .base import EMAIL_BACKEND, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The worker's output shows each email as it reads (decoded subject and text), not as MIME.
if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
    EMAIL_BACKEND = "config.mail.ReadableConsoleBackend"
