"""The project's own wiring: compose file, settings, schema, management commands."""

import os
import re
import subprocess
import sys
from pathlib import Path
from shutil import which

import pytest
import yaml
from django.apps import apps
from django.contrib import admin

from sessions_app.models import User

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_runs_every_piece_on_real_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert set(services) == {"migrate", "web", "worker", "beat", "postgres", "redis", "mailpit"}
    assert services["web"]["command"].startswith("gunicorn config.wsgi:application ")
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["EMAIL_URL"] == "smtp://mailpit:1025"
        assert "SITE_URL" in env
        # Required, with no default to fall back on: `docker compose up` stops and says what to set.
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?set DJANGO_SECRET_KEY")
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["web"]["ports"] == ["8000:8000"]


def test_compose_migrates_once_before_web_worker_and_beat_start():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    migrate = services["migrate"]
    assert (migrate["command"], migrate["restart"]) == ("python manage.py migrate --noinput", "no")
    assert migrate["environment"] == services["web"]["environment"]
    for name in ("web", "worker", "beat"):
        assert "migrate" not in services[name]["command"]
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }


def test_compose_file_passes_docker_compose_config_where_available():
    if not which("docker") or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode:
        pytest.skip("docker compose is not installed here; the structural test above covers the file")
    result = subprocess.run(
        ["docker", "compose", "config", "-q"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_env_example_lists_every_variable_the_settings_read():
    settings_source = "\n".join(path.read_text() for path in (ROOT / "config" / "settings").glob("*.py"))
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))

    assert read - listed == set()


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )

    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.django_db
def test_admin_has_every_model_and_each_page_opens(client):
    User.objects.create_superuser("root", "root@example.org", "a long admin passphrase")
    client.post("/admin/login/", {"username": "root", "password": "a long admin passphrase"})
    ours = [model for model in apps.get_models() if model._meta.app_label in ("sessions_app", "readings", "reminders")]

    assert [model.__name__ for model in ours if model not in admin.site._registry] == []
    for model in ours:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
        assert client.get(url + "add/").status_code in (200, 403), url


def _our_gunicorn_serving(tmp_path, module: str, source: str):
    """(a started gunicorn with config/gunicorn.py and one worker, serving `source`'s `app`; its port)."""
    from tests.reminders.realparts import Process, free_port

    (tmp_path / f"{module}.py").write_text(source)
    port = free_port()
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    command = [
        str(gunicorn) if gunicorn.exists() else which("gunicorn"),
        "--config",
        str(ROOT / "config" / "gunicorn.py"),
    ]
    command += ["--workers", "1", "--bind", f"127.0.0.1:{port}", "--pythonpath", str(tmp_path), f"{module}:app"]
    server = Process(command, env=dict(os.environ), log=tmp_path / "gunicorn.log")
    server.start()
    return server, port


CYCLIC_GARBAGE_APP = """
import gc
import json

seen = {"inside": False, "collections inside": 0, "collections between": 0}


def count(phase, info):
    if phase == "start":
        seen["collections inside" if seen["inside"] else "collections between"] += 1


gc.callbacks.append(count)


class Node:
    pass


def app(environ, start_response):
    # Each request leaves PAIRS pairs of objects in cycles, for the collector alone to free.
    seen["inside"] = True
    try:
        for _ in range(int(environ["QUERY_STRING"])):
            first, second = Node(), Node()
            first.other, second.other = second, first
        body = json.dumps({**seen, "frozen": gc.get_freeze_count(), "pending": gc.get_count()[0]}).encode()
    finally:
        seen["inside"] = False
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
"""


def test_gunicorn_workers_collect_garbage_between_requests_never_inside_one(tmp_path):
    """With our gunicorn settings no request waits for a garbage collection (the slowest answers under load did),
    the loaded app is frozen out of every collection, and the garbage of requests is still collected."""
    import http.client
    import json

    from tests.reminders.realparts import wait_for

    server, port = _our_gunicorn_serving(tmp_path, "cyclic_garbage", CYCLIC_GARBAGE_APP)

    def get(pairs: int) -> dict | None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", f"/?{pairs}")
            return json.loads(conn.getresponse().read())
        except OSError:
            return None
        finally:
            conn.close()

    try:
        wait_for(lambda: get(0) or not server.alive(), timeout=30, what="gunicorn to answer", every=0.1)
        assert get(0) is not None, server.output()[-2000:]
        # 300 requests of 1,000 cyclic pairs: 600,000 objects, which Python's own thresholds would collect
        # inside about 850 requests' worth of code (every 700 objects), or 60 times at 10,000.
        answers = [get(1_000) for _ in range(300)]
    finally:
        server.stop()

    last = answers[-1]
    assert last["collections inside"] == 0, last
    assert last["collections between"] >= 50, last  # the garbage is collected, between requests
    assert max(answer["pending"] for answer in answers) < 15_000  # and never piles up
    assert last["frozen"] > 0  # what the worker loaded stays out of them


ECHO_SCHEME_APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["wsgi.url_scheme"].encode()]
"""


def test_gunicorn_believes_no_forwarded_header_from_a_client_on_the_same_machine(tmp_path):
    """With our gunicorn settings a client on 127.0.0.1 claiming https is still plain http to the app."""
    import http.client

    from tests.reminders.realparts import wait_for

    server, port = _our_gunicorn_serving(tmp_path, "echo_scheme", ECHO_SCHEME_APP)

    def scheme(headers: dict[str, str]) -> str | None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/", headers=headers)
            return conn.getresponse().read().decode()
        except OSError:
            return None
        finally:
            conn.close()

    try:
        wait_for(lambda: scheme({}) or not server.alive(), timeout=30, what="gunicorn to answer", every=0.1)
        assert scheme({}) == "http", server.output()[-2000:]
        assert scheme({"X-Forwarded-Proto": "https"}) == "http"
        assert scheme({"X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"}) == "http"
    finally:
        server.stop()
