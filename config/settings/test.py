"""The test suite: same behaviour as production, faster hashing."""

import atexit
import os
import shutil
import tempfile

# The suite keeps its local state in a temporary folder, never in the project's var/
# (a `make run` may be using it). Subprocesses and xdist workers inherit the folder;
# the process that made it removes it when it exits.
if not os.environ.get("STUDYCIRCLE_VAR_DIR"):
    os.environ["STUDYCIRCLE_VAR_DIR"] = tempfile.mkdtemp(prefix="studycircle-test-")
    atexit.register(shutil.rmtree, os.environ["STUDYCIRCLE_VAR_DIR"], ignore_errors=True)

from .base import *  # noqa: F403 (settings modules extend base by design)
from .base import VAR_DIR, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests must not share throttle counters or cached files with a running
# `make run`; each pytest process gets its own in-memory cache. The rate
# limits and lockouts are the real ones (the cache and the axes tables are
# emptied between tests).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or env("REDIS_URL", default="") or "memory://"
MEDIA_ROOT = VAR_DIR / "test-media"

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
