"""`GET /api/v1/health/`: the state of the database, Redis, the workers and beat, for probes and monitors.

The database and Redis are asked directly. Workers and beat report
themselves through the cache: each worker writes a heartbeat every
`WORKER_HEARTBEAT_SECONDS` while it consumes (`config.celery.WorkerHeartbeat`),
beat records each tick of its scheduler (`config.celery.BeatScheduler`). One
that has not reported for three of its intervals is down.

`HealthCheckMiddleware` answers the path first in the middleware stack, so a
local probe (compose's healthcheck, a load balancer asking by IP address)
gets its answer whatever `ALLOWED_HOSTS` and the TLS redirect say. The answer
never depends on the Host header, and every other path still goes through
both checks. It is always 200, with each part's state in the body; `?strict=1`
makes it 503 when a part is down, for monitors that only read the status.
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from core.rules import ANYONE

logger = logging.getLogger("config.health")

HEALTH_PATH = "/api/v1/health/"
WORKER_HEARTBEAT_KEY = "health:worker:last-seen"
BEAT_TICK_KEY = "health:beat:last-tick"
# How long a report is kept: long enough to say when a dead process was last seen.
REPORT_KEEP_SECONDS = 7 * 24 * 3600
# Answering a probe must not hang on a Redis that does not answer.
REDIS_TIMEOUT_SECONDS = 2


def _record(key: str) -> None:
    try:
        cache.set(key, timezone.now().timestamp(), timeout=REPORT_KEEP_SECONDS)
    except Exception:  # a cache outage must not stop the process that reports; health shows Redis down
        logger.warning("health: could not record %s", key, exc_info=True)


def record_worker_heartbeat() -> None:
    """A worker is consuming now (called every WORKER_HEARTBEAT_SECONDS by each worker)."""
    _record(WORKER_HEARTBEAT_KEY)


def record_beat_tick() -> None:
    """Beat's scheduler ticked now."""
    _record(BEAT_TICK_KEY)


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "down"; the class name says which kind
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def _redis() -> dict:
    if not settings.REDIS_URL:
        # The embedded default: filesystem broker and file cache, nothing to ask.
        return {"ok": True, "configured": False}
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return {"ok": False, "configured": True, "error": type(error).__name__}
    finally:
        client.close()
    return {"ok": True, "configured": True}


def _reported(key: str, *, every_seconds: int, now: datetime, cache_ok: bool) -> tuple[bool, str | None]:
    """(fresh, when) for a heartbeat: fresh if reported within three intervals."""
    stamp = None
    if cache_ok:
        try:
            stamp = cache.get(key)
        except Exception:
            logger.warning("health: could not read %s", key, exc_info=True)
    if stamp is None:
        return False, None
    when = datetime.fromtimestamp(stamp, tz=UTC)
    fresh = (now - when).total_seconds() <= 3 * every_seconds
    return fresh, when.strftime("%Y-%m-%dT%H:%M:%SZ")


def health_report() -> dict:
    """Each part's state, and `status` "ok" when all are up, else "degraded"."""
    now = timezone.now()
    database, redis_state = _database(), _redis()
    worker_ok, last_seen = _reported(
        WORKER_HEARTBEAT_KEY, every_seconds=settings.WORKER_HEARTBEAT_SECONDS, now=now, cache_ok=redis_state["ok"]
    )
    beat_ok, last_tick = _reported(
        BEAT_TICK_KEY, every_seconds=settings.REMINDER_DISPATCH_INTERVAL_SECONDS, now=now, cache_ok=redis_state["ok"]
    )
    parts = {
        "database": database,
        "redis": redis_state,
        "worker": {"ok": worker_ok, "last_seen": last_seen},
        "beat": {"ok": beat_ok, "last_tick": last_tick},
    }
    return {"status": "ok" if all(part["ok"] for part in parts.values()) else "degraded", **parts}


def health_response(*, strict: bool) -> JsonResponse:
    report = health_report()
    status = 503 if strict and report["status"] != "ok" else 200
    return JsonResponse(report, status=status, headers={"Cache-Control": "no-store"})


class HealthCheckMiddleware:
    """First in MIDDLEWARE: answers GET/HEAD of the health path before host validation and the TLS redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return health_response(strict=request.GET.get("strict") == "1")
        return self.get_response(request)


_part = inline_serializer("HealthPart", {"ok": serializers.BooleanField()})


@extend_schema(
    auth=[],
    parameters=[OpenApiParameter("strict", int, description="1: answer 503 when a part is down")],
    responses={
        (200, "application/json"): inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(choices=["ok", "degraded"]),
                "database": _part,
                "redis": inline_serializer(
                    "HealthRedis", {"ok": serializers.BooleanField(), "configured": serializers.BooleanField()}
                ),
                "worker": inline_serializer(
                    "HealthWorker",
                    {"ok": serializers.BooleanField(), "last_seen": serializers.DateTimeField(allow_null=True)},
                ),
                "beat": inline_serializer(
                    "HealthBeat",
                    {"ok": serializers.BooleanField(), "last_tick": serializers.DateTimeField(allow_null=True)},
                ),
            },
        ),
        503: OpenApiResponse(description="With ?strict=1, when a part is down (same body)."),
    },
)
class HealthView(APIView):
    """The health path in the API's schema. `HealthCheckMiddleware` answers it before a request gets here."""

    authentication_classes: list = []
    action_rules = {"get": ANYONE, "*": ANYONE}

    def get(self, request):
        return health_response(strict=request.query_params.get("strict") == "1")
