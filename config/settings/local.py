"""`make run`: the embedded default on one machine."""

from .base import *  # noqa: F403 (settings modules extend base by design)
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
