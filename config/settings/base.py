"""Every setting lives here and is switched by environment variables.

`local`, `test` and `production` only change defaults; `.env.example` lists
every variable with its default.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def from_root(path: str) -> Path:
    """A path read from the environment; a relative one is taken from the project root, not the working folder."""
    return BASE_DIR / Path(path).expanduser()


# Local state of the embedded default (SQLite file, file cache, broker folders, beat schedule).
VAR_DIR = from_root(env.str("STUDYCIRCLE_VAR_DIR", default="var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me-0123456789abcdefghij")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The public address of the site: the base of every link that leaves a
# request (emails, .ics files, calendar feeds, invitation links in the API).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env("SITE_NAME", default="Studycircle")

# How many reverse proxies of ours stand in front of gunicorn. 0: clients reach
# gunicorn directly, X-Forwarded-For and X-Forwarded-Proto are ignored. N > 0:
# the client address is the Nth entry from the right of X-Forwarded-For (each
# proxy appends the address it was reached from; entries further left come from
# the client and are not believed), and production trusts X-Forwarded-Proto.
# Every throttle and lockout counts by this address (core/addresses.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    # First: its templates (registration/*) take precedence over the admin's of the same name.
    "pages",
    "django.contrib.admin",
    # Before django.contrib.auth: its `changepassword` command (which revokes API tokens) replaces auth's.
    "sessions_app",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "core",
    "readings",
    "reminders",
    "portability",
]

MIDDLEWARE = [
    # First: answers /api/v1/health/ to a local probe before host validation and the TLS redirect.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pages.middleware.ViewerTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a login refused by a lockout into the "locked, retry at …" answer.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy: every script is a file served by the app itself (no
# inline scripts, no eval, no CDN). Inline *styles* are allowed: the printable
# pack carries its CSS inline (the PDF renderer fetches nothing), and Swagger
# UI sets style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "sessions_app.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reminders.context_processors.notifications",
            ],
            "builtins": ["pages.templatetags.studycircle"],
        },
    },
]

# --- Database -----------------------------------------------------------------
# Default: a SQLite file for the embedded `make run`. WAL lets the web process
# read while the worker writes; IMMEDIATE transactions take the write lock up
# front so two processes queue on busy_timeout instead of failing with
# "database is locked" when a read transaction tries to upgrade.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'studycircle.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":
        DATABASES["default"]["NAME"] = str(from_root(DATABASES["default"]["NAME"]))
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that asks the socket instead of sending SELECT 1 (core/db/postgresql).
        DATABASES["default"]["ENGINE"] = "core.db.postgresql"
        # No JIT compilation: it pays off on analytic queries of seconds, and no query here is one. It once
        # took 89 of a search's 141 ms, once the planner's estimate for the notes visibility rule passed
        # jit_above_cost (docs/benchmarks.md, Search).
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = " ".join(filter(None, [options.get("options", ""), "-c jit=off"]))
        # Prepared statements: a query a connection has run 5 times (psycopg's prepare_threshold) is prepared
        # on it, and PostgreSQL plans it no more once its generic plan costs no more than planning it each time
        # (plan_cache_mode auto). Planning the visibility rule's joins cost PostgreSQL more CPU than running
        # them: about three quarters of a pack's time there, a third of a note's (docs/benchmarks.md, Load).
        # Needs server-side binding (parameters sent apart from the SQL): psycopg never prepares what Django's
        # default client-side binding sends. DATABASE_PREPARED_STATEMENTS=false turns both off, for a pooler
        # in transaction mode that cannot keep a connection's prepared statements (PgBouncer before 1.21).
        if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
            options.setdefault("server_side_binding", True)
            options.setdefault("prepare_threshold", 5)
# The request's transaction covers writes only, for every view: core/transactions.py (config/urls.py), not
# ATOMIC_REQUESTS, which would also wrap each read in BEGIN and COMMIT.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and shared cache -------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Keys of this installation in a Redis shared with others (and of one test in the suite's).
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    # One machine only: a file cache is shared by the web process and the worker.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery ---------------------------------------------------------------------
# Without Redis the embedded default runs one worker (with beat) on kombu's
# filesystem transport, so `make run` needs nothing but Python.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
)
if CELERY_BROKER_URL == "filesystem://":  # kombu's filesystem transport expects its folders to exist
    for _option in ("data_folder_in", "processed_folder", "control_folder"):
        Path(CELERY_BROKER_TRANSPORT_OPTIONS[_option]).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(
    from_root(env("CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")))
)

# --- Reminders ------------------------------------------------------------------
# The outbox (reminders.Reminder) is the schedule; beat only wakes the dispatcher.
# Each dispatch pass claims batches of due rows (one SMTP connection per batch)
# under a lease, until nothing is due or its time budget is spent.
REMINDER_DISPATCH_INTERVAL_SECONDS = env.int("REMINDER_DISPATCH_INTERVAL_SECONDS", default=60)
REMINDER_DISPATCH_MAX_SECONDS = env.int("REMINDER_DISPATCH_MAX_SECONDS", default=50)
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=100)
# Nudges: this long before a session, members going (or who have not answered) who have read less than
# this share of its required reading get one short email with their progress.
NUDGE_LEAD_MINUTES = env.int("NUDGE_LEAD_MINUTES", default=24 * 60)
NUDGE_BELOW_PERCENT = env.int("NUDGE_BELOW_PERCENT", default=50)
# The after-session summary goes out when a facilitator marks attendance, or this many hours after the
# session's end if nobody has; one not sent within SUMMARY_EXPIRES_DAYS of the end is skipped, never late.
SUMMARY_HOURS_AFTER_END = env.int("SUMMARY_HOURS_AFTER_END", default=24)
SUMMARY_EXPIRES_DAYS = env.int("SUMMARY_EXPIRES_DAYS", default=7)
# The facilitator's brief goes to the session's facilitators (its group's organizers when it lists none)
# this many hours before the session starts.
BRIEF_HOURS_BEFORE = env.int("BRIEF_HOURS_BEFORE", default=24)
# A claimed row belongs to its worker this long; after that (the worker died) it is claimed again.
# A batch stops starting new messages at half the lease, so keep EMAIL_TIMEOUT well below that.
REMINDER_LEASE_SECONDS = env.int("REMINDER_LEASE_SECONDS", default=300)
# Temporary failures wait base × 2^(attempt-1) seconds, at most the max, and are retried until the session starts.
REMINDER_RETRY_BASE_SECONDS = env.int("REMINDER_RETRY_BASE_SECONDS", default=60)
REMINDER_RETRY_MAX_SECONDS = env.int("REMINDER_RETRY_MAX_SECONDS", default=3600)
# Notifications to be emailed "at once" wait this long for others of the same kind, so a lively thread is one email.
NOTIFICATION_BATCH_SECONDS = env.int("NOTIFICATION_BATCH_SECONDS", default=300)
# --- Text imports -----------------------------------------------------------------
# Uploads larger than this are imported by a worker: the API answers 202 with the import's address.
IMPORT_ASYNC_BYTES = env.int("IMPORT_ASYNC_BYTES", default=1_000_000)
# ...and so are PDFs of more pages than this, whatever their size (each page costs 50-140 ms to lay out).
IMPORT_ASYNC_PDF_PAGES = env.int("IMPORT_ASYNC_PDF_PAGES", default=50)
# The Celery queue those imports go to (a worker must consume it; the default queue is "celery").
TEXT_IMPORT_QUEUE = env("TEXT_IMPORT_QUEUE", default="celery")
# An import still queued after this long (its message was lost) is queued again by beat.
IMPORT_RESUME_SECONDS = env.int("IMPORT_RESUME_SECONDS", default=600)

# Beat records each tick for /api/v1/health/; each worker writes a heartbeat this often while it consumes
# (health calls a worker down after three missed, beat after three missed dispatch intervals).
CELERY_BEAT_SCHEDULER = "config.celery:BeatScheduler"
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=30)
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-reminders": {
        "task": "reminders.dispatch_due_reminders",
        "schedule": REMINDER_DISPATCH_INTERVAL_SECONDS,
        # Ticks that piled up while no worker ran are dropped: one pass covers them all.
        "options": {"expires": max(2 * REMINDER_DISPATCH_INTERVAL_SECONDS, 30)},
    },
    "resume-text-imports": {
        "task": "readings.resume_text_imports",
        "schedule": 300,
        "options": {"expires": 300},
    },
}

# --- Email ----------------------------------------------------------------------
_email = env.email("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = str(from_root(_email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Studycircle <noreply@studycircle.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
INVITATION_DEFAULT_DAYS = env.int("INVITATION_DEFAULT_DAYS", default=14)
# API tokens (sessions_app.ApiToken, stored hashed) expire this many days after they are made.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)

# Lockout (django-axes) on every password login: the API token, the login page
# and the admin's. After LOGIN_FAILURE_LIMIT wrong passwords for one account
# from one client address, that pair is refused (even with the right password)
# for LOGIN_LOCKOUT_MINUTES. Keyed on the pair, so nobody can lock an account
# out from elsewhere; per-address rates (THROTTLE_LOGIN) bound the rest. Admins
# unlock in the admin (Axes › Access attempts: delete the row).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.addresses.client_address"
AXES_LOCKOUT_CALLABLE = "pages.lockout.lockout_response"
# A try during a lockout is refused without pushing the lock's end further, so "retry at" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful login forgets that pair's earlier failures (typos spread over a day never add up to a lock).
AXES_RESET_ON_SUCCESS = True

# --- I18N / time ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------
STATIC_URL = "static/"
# Where collectstatic gathers the files (the image: /app/staticfiles).
STATIC_ROOT = from_root(env("STATIC_ROOT", default="staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Whitenoise serves straight from the app folders while DEBUG is on, and from
# STATIC_ROOT (filled by collectstatic) in production.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Uploads --------------------------------------------------------------------
# Texts up to TEXT_MAX_BYTES import; Django's own request limits sit above it
# so an over-size body reaches our validation and gets a JSON 400, not
# Django's HTML error page.
TEXT_MAX_BYTES = env.int("TEXT_MAX_BYTES", default=5 * 1024 * 1024)
# How long a rendered PDF or EPUB pack is kept (it is keyed by the pack's version,
# so a stale one is never served; this only bounds the cache's size).
PACK_CACHE_SECONDS = env.int("PACK_CACHE_SECONDS", default=7 * 24 * 3600)
# Extra font folders for PDF packs (e.g. /usr/share/fonts/opentype/noto for CJK). The PDF
# uses the fonts inside the typst wheel (Libertinus Serif, DejaVu Sans Mono) and these, never the system's.
PACK_PDF_FONT_DIRS = env.list("PACK_PDF_FONT_DIRS", default=[])
# Typst compiles each PDF in a child process, killed after this long (the render then fails and is retried later).
PACK_PDF_TIMEOUT_SECONDS = env.int("PACK_PDF_TIMEOUT_SECONDS", default=60)
# PDF and EPUB packs are rendered by a worker into the shared cache, never in a request:
# until the file is there, the pack URL answers 202 with Retry-After (seconds).
PACK_RETRY_AFTER_SECONDS = env.int("PACK_RETRY_AFTER_SECONDS", default=2)
# The first request claims the render for this long; if its task is lost, a request after that queues it again.
PACK_RENDER_CLAIM_SECONDS = env.int("PACK_RENDER_CLAIM_SECONDS", default=120)
# After a render fails, requests get a 503 for this long, then a new attempt is queued.
PACK_RENDER_RETRY_SECONDS = env.int("PACK_RENDER_RETRY_SECONDS", default=60)
# The Celery queue of render tasks (a worker must consume it; "celery" is the default queue).
PACK_RENDER_QUEUE = env("PACK_RENDER_QUEUE", default="celery")
# Reading progress: the reader counts a passage read once it has been on screen for its words at this
# pace, but never asks for more than the cap (a long passage on a small screen never fits whole).
READING_PACE_WORDS_PER_MINUTE = env.int("READING_PACE_WORDS_PER_MINUTE", default=300)
READING_CAP_SECONDS = env.int("READING_CAP_SECONDS", default=45)
# The reader sends what was read in one batch at most this often (and when the page is left).
READING_BATCH_SECONDS = env.int("READING_BATCH_SECONDS", default=15)
# The longest note body, in characters of Markdown source.
NOTE_BODY_MAX_CHARS = env.int("NOTE_BODY_MAX_CHARS", default=20_000)
# How often an open reading view asks for others' new notes (an unchanged answer is a cheap 304); 0: never.
READER_POLL_SECONDS = env.int("READER_POLL_SECONDS", default=15)
# EPUB and PDF files are larger than texts (figures, fonts): their own limits.
PDF_MAX_BYTES = env.int("PDF_MAX_BYTES", default=50 * 1024 * 1024)
PDF_MAX_PAGES = env.int("PDF_MAX_PAGES", default=2000)
# What a PDF's compressed streams may unpack to, in all (decompression bombs stop here).
PDF_MAX_DECODED_BYTES = env.int("PDF_MAX_DECODED_BYTES", default=512 * 1024 * 1024)
EPUB_MAX_BYTES = env.int("EPUB_MAX_BYTES", default=50 * 1024 * 1024)
# What an EPUB may unpack to and how many files it may hold (zip bombs stop here).
EPUB_MAX_UNCOMPRESSED_BYTES = env.int("EPUB_MAX_UNCOMPRESSED_BYTES", default=250 * 1024 * 1024)
EPUB_MAX_ENTRIES = env.int("EPUB_MAX_ENTRIES", default=5000)
# JSON bodies (pasted `content`) are held in memory: sized for texts. Uploaded
# files are not counted there (Django streams them to a temporary file past
# FILE_UPLOAD_MAX_MEMORY_SIZE); the import views refuse a request over
# UPLOAD_MAX_BYTES before reading it, and each format's own limit then applies.
# The most passages one text (or one revision of it) may split into: past it the import is refused,
# before anything is stored (a 4 MB file of one-line "a) H" items made 700,000 once).
TEXT_MAX_PASSAGES = env.int("TEXT_MAX_PASSAGES", default=25_000)
# The most "[" one Markdown source (a note, an imported .md text) may hold; each costs the parser
# a link search (see readings/rendering.py).
MARKDOWN_MAX_BRACKETS = env.int("MARKDOWN_MAX_BRACKETS", default=2_000)
# The longest description, reading instructions or facilitator notes, in characters.
DESCRIPTION_MAX_CHARS = env.int("DESCRIPTION_MAX_CHARS", default=10_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = TEXT_MAX_BYTES * 3
FILE_UPLOAD_MAX_MEMORY_SIZE = TEXT_MAX_BYTES * 3
# The reading view serves a long reading this many passages at a time (about 0.5 MB of HTML per page).
READER_PAGE_PASSAGES = env.int("READER_PAGE_PASSAGES", default=300)
UPLOAD_MAX_BYTES = max(TEXT_MAX_BYTES * 3, PDF_MAX_BYTES, EPUB_MAX_BYTES) + 1024 * 1024

# --- REST API -------------------------------------------------------------------
# How deeply a JSON request body may nest lists and objects (ours need a few levels).
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header turns "no credentials" into a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each view names the rule of each action (`action_rules`; core/rules.py, docs/architecture.md).
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.ActionRules"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.FilterBackend"],
    # Request bodies are JSON (our parser refuses deep nesting); only the endpoints that take an
    # uploaded file read multipart (the texts/ views). One content type per operation is what
    # clients generated from the schema can handle.
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # Counted per client address (core/addresses.py) or per account (`*_account`: per email).
    "DEFAULT_THROTTLE_RATES": {
        "login": env("THROTTLE_LOGIN", default="10/min"),
        "signup": env("THROTTLE_SIGNUP", default="20/hour"),
        "signup_account": env("THROTTLE_SIGNUP_ACCOUNT", default="3/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET", default="10/hour"),
        "password_reset_account": env("THROTTLE_PASSWORD_RESET_ACCOUNT", default="3/hour"),
    },
    # DRF's own address lookup, should a built-in throttle ever be used, trusts the same proxies.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Studycircle API",
    "DESCRIPTION": "Study groups, sessions, readings, notes and session packs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets are served by the app itself, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "sessions_app.enums.Role",
        "SessionStatusEnum": "sessions_app.enums.SessionStatus",
        "RSVPStatusEnum": "sessions_app.enums.RSVPStatus",
        "NewSessionStatusEnum": "sessions_app.enums.SESSION_STATUSES_ON_CREATE",
        "EditableSessionStatusEnum": "sessions_app.enums.SESSION_STATUSES_ON_EDIT",
        "PassageKindEnum": "readings.enums.PassageKind",
        "QuestionKindEnum": "readings.enums.QuestionKind",
        "QuestionStateEnum": "readings.enums.QuestionState",
        "NoteVisibilityEnum": "readings.enums.NoteVisibility",
        "AnchorStateEnum": "readings.enums.AnchorState",
        "TextFormatEnum": "readings.enums.TextFormat",
        "ProgressStatusEnum": "readings.enums.ProgressStatus",
        "DeliveryEnum": "reminders.enums.Delivery",
        "NotificationKindEnum": "reminders.enums.NotificationKind",
        "SummaryAttendanceEnum": "sessions_app.enums.SummaryAttendance",
    },
}

# Run the test suite's "service not available" skips as failures (CI).
REQUIRE_SERVICES = env.bool("REQUIRE_SERVICES", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
