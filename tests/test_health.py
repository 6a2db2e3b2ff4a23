"""`GET /api/v1/health/`: a local probe gets the state of each part, whatever the host and TLS settings."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from config.health import BEAT_TICK_KEY, HEALTH_PATH, WORKER_HEARTBEAT_KEY, record_beat_tick, record_worker_heartbeat

from .conftest import service_unavailable
from .reminders.realparts import ROOT, RedisNamespace, Worker, database_url, free_port, wait_for

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def redis_part() -> dict:
    """Redis as the test run has it: the machine's (REDIS_URL) or none (the embedded default)."""
    return {"ok": True, "configured": bool(settings.REDIS_URL)}


@pytest.fixture
def deployed(settings):
    """Production's host and TLS settings: one public name, https only."""
    settings.ALLOWED_HOSTS = ["circle.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.fixture
def all_reported(time_machine):
    """A worker heartbeat and a beat tick, both just now."""
    time_machine.move_to(NOW, tick=False)
    record_worker_heartbeat()
    record_beat_tick()
    return time_machine


def test_the_route_and_the_middleware_agree_on_the_path():
    assert reverse("health") == HEALTH_PATH


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "10.0.3.7", "localhost", "unknown.example.net"])
def test_a_local_probe_gets_200_over_plain_http_whatever_the_host(client, deployed, all_reported, host):
    response = client.get(HEALTH_PATH, HTTP_HOST=host)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True},
        "redis": redis_part(),
        "worker": {"ok": True, "last_seen": "2030-03-01T12:00:00Z"},
        "beat": {"ok": True, "last_tick": "2030-03-01T12:00:00Z"},
    }


def test_other_paths_still_refuse_unknown_hosts_and_redirect_to_https(client, deployed):
    assert client.get("/api/v1/groups/", HTTP_HOST="unknown.example.net").status_code == 400
    assert client.get(HEALTH_PATH + "x", HTTP_HOST="unknown.example.net").status_code == 400
    assert client.post(HEALTH_PATH, HTTP_HOST="unknown.example.net").status_code == 400
    redirect = client.get("/api/v1/groups/", HTTP_HOST="circle.example.org")
    assert (redirect.status_code, redirect["Location"]) == (301, "https://circle.example.org/api/v1/groups/")
    over_tls = client.get("/api/v1/groups/", HTTP_HOST="circle.example.org", HTTP_X_FORWARDED_PROTO="https")
    assert over_tls.status_code == 401


def test_nothing_reported_yet_is_200_but_503_when_strict(client):
    relaxed = client.get(HEALTH_PATH)
    strict = client.get(HEALTH_PATH, {"strict": "1"})

    expected = {
        "status": "degraded",
        "database": {"ok": True},
        "redis": redis_part(),
        "worker": {"ok": False, "last_seen": None},
        "beat": {"ok": False, "last_tick": None},
    }
    assert (relaxed.status_code, relaxed.json()) == (200, expected)
    assert (strict.status_code, strict.json()) == (503, expected)


def test_strict_is_200_when_every_part_is_up(client, all_reported):
    response = client.get(HEALTH_PATH, {"strict": "1"})

    assert (response.status_code, response.json()["status"]) == (200, "ok")


def test_a_worker_is_down_after_three_missed_heartbeats(client, all_reported, settings):
    settings.WORKER_HEARTBEAT_SECONDS = 30
    settings.REMINDER_DISPATCH_INTERVAL_SECONDS = 600  # beat stays fresh throughout
    all_reported.move_to(NOW + timedelta(seconds=90), tick=False)
    still_up = client.get(HEALTH_PATH, {"strict": "1"})
    all_reported.move_to(NOW + timedelta(seconds=91), tick=False)
    down = client.get(HEALTH_PATH, {"strict": "1"})

    assert (still_up.status_code, still_up.json()["worker"]) == (200, {"ok": True, "last_seen": "2030-03-01T12:00:00Z"})
    assert (down.status_code, down.json()["status"]) == (503, "degraded")
    assert down.json()["worker"] == {"ok": False, "last_seen": "2030-03-01T12:00:00Z"}
    assert down.json()["beat"] == {"ok": True, "last_tick": "2030-03-01T12:00:00Z"}


def test_beat_is_down_after_three_missed_dispatch_intervals(client, all_reported, settings):
    settings.REMINDER_DISPATCH_INTERVAL_SECONDS = 60
    all_reported.move_to(NOW + timedelta(seconds=150), tick=False)
    record_worker_heartbeat()  # the worker is still there
    all_reported.move_to(NOW + timedelta(seconds=181), tick=False)

    response = client.get(HEALTH_PATH, {"strict": "1"})

    assert response.status_code == 503
    assert response.json()["beat"] == {"ok": False, "last_tick": "2030-03-01T12:00:00Z"}
    assert response.json()["worker"] == {"ok": True, "last_seen": "2030-03-01T12:02:30Z"}


def test_database_and_redis_that_do_not_answer_are_reported_down(tmp_path):
    """A real process pointed at ports where nothing listens: 200 relaxed, 503 strict, and why."""
    probe = (
        "import django, json; django.setup(); from django.test import Client; c = Client(HTTP_HOST='anything');"
        "r1, r2 = c.get('/api/v1/health/'), c.get('/api/v1/health/?strict=1');"
        "print(json.dumps([r1.status_code, r2.status_code, r1.json()]))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nowhere",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "LOG_LEVEL": "CRITICAL",
    }

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    relaxed, strict, body = json.loads(result.stdout)
    assert (relaxed, strict) == (200, 503)
    assert body == {
        "status": "degraded",
        "database": {"ok": False, "error": "OperationalError"},
        "redis": {"ok": False, "configured": True, "error": "ConnectionError"},
        "worker": {"ok": False, "last_seen": None},
        "beat": {"ok": False, "last_tick": None},
    }


def health_when(client, condition, *, what: str) -> dict:
    """Poll the health check until `condition(response)` holds; its body."""
    return wait_for(
        lambda: (lambda response: response if condition(response) else None)(client.get(HEALTH_PATH, {"strict": "1"})),
        timeout=30,
        what=what,
    ).json()


@pytest.mark.worker
def test_a_real_worker_and_beat_report_themselves_and_a_stopped_worker_goes_down(client, settings, tmp_path):
    """`celery worker --beat` on Redis: the health check sees both, then the worker stop."""
    redis_url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    if not redis_url:
        service_unavailable("Redis", "REDIS_URL is not set")
    if connection.vendor != "postgresql":
        service_unavailable("PostgreSQL", "the worker's dispatch passes need a database it shares with the test")
    namespace = RedisNamespace(redis_url)
    # This process reads the heartbeats from the same Redis, under the worker's prefix.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": namespace.prefix,
        }
    }
    settings.REDIS_URL = redis_url
    settings.WORKER_HEARTBEAT_SECONDS = 1
    settings.REMINDER_DISPATCH_INTERVAL_SECONDS = 1
    worker = Worker(
        "health",
        env={
            **os.environ,
            **namespace.settings_env(tmp_path),
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "DATABASE_URL": database_url(),  # nothing is due there: beat's dispatch passes find nothing
            "WORKER_HEARTBEAT_SECONDS": "1",
            "REMINDER_DISPATCH_INTERVAL_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        },
        log=tmp_path / "worker.log",
        beat=True,
    )
    try:
        worker.start()
        worker.wait_ready()
        up = health_when(client, lambda r: r.status_code == 200, what="the worker's heartbeat and beat's tick")
        stored = sorted(key.decode() for key in namespace.stored_keys() if b"health:" in key)
        worker.stop()
        down = health_when(
            client,
            lambda r: not (r.json()["worker"]["ok"] or r.json()["beat"]["ok"]),
            what="the stopped worker and its beat to be reported down",
        )
    finally:
        worker.stop()
        namespace.delete()

    assert up["status"] == "ok"
    assert stored == [f"{namespace.prefix}:1:{BEAT_TICK_KEY}", f"{namespace.prefix}:1:{WORKER_HEARTBEAT_KEY}"]
    assert down["status"] == "degraded"
    assert down["worker"]["last_seen"] >= up["worker"]["last_seen"]  # when it was last seen, for the operator
    assert down["beat"]["last_tick"] >= up["beat"]["last_tick"]
