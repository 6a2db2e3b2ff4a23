"""`docker compose up` under production settings, proven without a Docker engine.

The test reads docker-compose.yml (and the Dockerfile) and runs each of our
services' commands as processes here, in the order and on the conditions its
`depends_on` gives, with the environment the compose file gives them, for a
deployment behind a TLS proxy as the compose file says to set one up. Only
what cannot exist here is replaced:

- the hosts `postgres`, `redis` and `mailpit` become 127.0.0.1: a fresh
  database made (and dropped) for the test on the machine's PostgreSQL, a
  redis-server of its own (the stack's queue and keys are unprefixed, like
  compose's private Redis, so it must not share the test run's), and an
  aiosmtpd server on a free port that records what it receives;
- `/app` (the image's code, `.dockerignore` applied, with `collectstatic` run
  as the Dockerfile runs it) is a copy in a temporary folder, so `/app/var`
  is in there too; the published port 8000 is a free port;
- the TLS proxy in front is a small header-setting proxy in this process.

Then it runs web's healthcheck, logs in on the login page, imports a text
through the API, schedules a session and receives its reminder by SMTP.
"""

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import threading
import uuid
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from graphlib import TopologicalSorter
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
import yaml

from .conftest import service_unavailable
from .reminders.realparts import ROOT, Process, RedisServer, SmtpRecorder, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.worker]

PUBLIC_HOST = "circle.example.org"
PUBLIC_URL = f"https://{PUBLIC_HOST}"
ADMIN = {"username": "admin", "email": "admin@example.org", "password": "a long admin passphrase for the test"}
# What an admin puts in .env for a deployment behind one TLS proxy (the compose file's header says which).
DEPLOYMENT = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": PUBLIC_HOST,
    "DJANGO_CSRF_TRUSTED_ORIGINS": PUBLIC_URL,
    "SITE_URL": PUBLIC_URL,
    "TRUSTED_PROXY_COUNT": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_COOKIES": "true",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
}
VENV_BIN = ROOT / ".venv" / "bin"
STARTING_SUBJECT = "Starting soon: “Compose evening”"


# --- Reading the compose file as compose does --------------------------------------------


_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class MissingVariable(Exception):
    pass


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        present = name in variables
        empty = not variables.get(name)
        if operator in (":-", "-") and (empty if operator == ":-" else not present):
            return argument
        if operator in (":?", "?") and (empty if operator == ":?" else not present):
            raise MissingVariable(f"{name}: {argument}")
        return variables.get(name, "")

    return _VARIABLE.sub(replace, value)


def test_interpolation_reads_defaults_and_refuses_a_missing_secret_key():
    assert interpolate("${A:-x}/${B-y}/${C:-z}/$$", {"A": "", "B": "", "C": "c"}) == "x//c/$"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    secret = compose["services"]["web"]["environment"]["DJANGO_SECRET_KEY"]
    with pytest.raises(MissingVariable, match="DJANGO_SECRET_KEY: set DJANGO_SECRET_KEY to 50"):
        interpolate(secret, {})


def ours(compose: dict) -> dict[str, dict]:
    """The services built from this project's image (the others are postgres, redis, mailpit)."""
    return {name: service for name, service in compose["services"].items() if "build" in service}


def dockerfile_env() -> dict[str, str]:
    """The image's ENV instruction (one, continued over lines)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (line,) = re.findall(r"^ENV (.+)$", text, re.MULTILINE)
    return dict(word.split("=", 1) for word in shlex.split(line))


def build_app(target: Path) -> Path:
    """What the image holds in /app: the project as `COPY . .` copies it, then the Dockerfile's collectstatic."""
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()]

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(ROOT)
        return {name for name in names if any(fnmatch(str(relative / name), pattern) for pattern in ignored)}

    app = target / "app"
    shutil.copytree(ROOT, app, ignore=ignore, symlinks=True)
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (build_step,) = [
        step.strip() for step in re.findall(r"^RUN (.*)$", dockerfile, re.MULTILINE) if "collectstatic" in step
    ]
    collectstatic = build_step.split("&&")[0]
    (app / "var").mkdir()  # `mkdir -p /app/var`, the rest of that step
    # The same files and manifest, without whitenoise's compressed copies: brotli takes minutes here.
    # (Production's storage serves the plain files when a compressed one is missing.)
    build_settings = target / "build_settings"
    build_settings.mkdir()
    (build_settings / "uncompressed_static.py").write_text(
        "from config.settings.production import *  # noqa: F403\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "
        "'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'}}\n"
    )
    environment = {
        **base_env(app),
        "DJANGO_SETTINGS_MODULE": "uncompressed_static",
        "PYTHONPATH": os.pathsep.join([str(app), str(build_settings)]),
    }
    result = subprocess.run(
        ["sh", "-c", collectstatic], cwd=app, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return app


def base_env(app: Path) -> dict[str, str]:
    """A container's environment before compose adds its own: the image's ENV, its PATH, HOME and locale."""
    return {
        "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(app),
        "LANG": "C.UTF-8",
        **dockerfile_env(),
    }


# --- What stands in for postgres, redis and mailpit ------------------------------------------


class Stand:
    """The machine's PostgreSQL (a fresh database), a private redis-server and an SMTP recorder."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.database = f"sc_compose_{uuid.uuid4().hex[:10]}"
        self.pg = self._pg_settings()
        self.redis = RedisServer(tmp / "redis.log")
        self.smtp = SmtpRecorder()

    @staticmethod
    def _pg_settings() -> dict:
        from django.db import connection

        db = connection.settings_dict
        if connection.vendor != "postgresql":
            service_unavailable("PostgreSQL", "set DATABASE_URL to the machine's PostgreSQL")
        return {
            "host": db["HOST"] or "127.0.0.1",
            "port": int(db["PORT"] or 5432),
            "user": db["USER"],
            "password": db["PASSWORD"],
        }

    def _admin(self):
        import psycopg

        return psycopg.connect(dbname="postgres", autocommit=True, **self.pg)

    def start(self) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        if not RedisServer.binary():
            service_unavailable("redis-server", "the binary is not on PATH")
        self.redis.start()
        self.smtp.start()

    def stop(self) -> None:
        self.smtp.stop()
        self.redis.stop()
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def url_for(self, service: str, url: str) -> str:
        """`url` pointing at this machine's stand-in for `service` (only the host, port and what must go with them)."""
        parts = urlsplit(url)
        if service == "postgres":
            auth = self.pg["user"] + (f":{self.pg['password']}" if self.pg["password"] else "")
            return urlunsplit(
                parts._replace(netloc=f"{auth}@{self.pg['host']}:{self.pg['port']}", path=f"/{self.database}")
            )
        port = {"redis": self.redis.port, "mailpit": self.smtp.port}[service]
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


def with_stand_ins(environment: dict[str, str], stand: Stand, replaced: set[str]) -> dict[str, str]:
    """The service's environment with every URL to postgres, redis or mailpit pointed here."""
    result = {}
    for key, value in environment.items():
        host = urlsplit(value).hostname if "://" in value else None
        if host in ("postgres", "redis", "mailpit"):
            value = stand.url_for(host, value)
            replaced.add(key)
        result[key] = value
    return result


def localised(words: list[str], app: Path, port: int) -> list[str]:
    """A compose command with /app as the copy here and the published port 8000 as a free one."""
    return [
        word.replace("0.0.0.0:8000", f"127.0.0.1:{port}")
        .replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        .replace("/app/", f"{app}/")
        for word in words
    ]


# --- The TLS proxy and a browser-like client ----------------------------------------------------


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def tls_proxy(backend_port: int) -> ThreadingHTTPServer:
    """What a TLS-terminating proxy hands gunicorn: the public Host, X-Forwarded-Proto and -For."""

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
            headers.update(
                {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": self.client_address[0]}
            )
            upstream = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=30)
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            upstream.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Browser:
    """Requests to the public address through the proxy, keeping cookies as a browser would over https."""

    def __init__(self, proxy_port: int) -> None:
        self.port = proxy_port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, form=None, data=None, headers=None) -> tuple[int, dict, bytes]:
        headers = {"Host": PUBLIC_HOST, **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie = SimpleCookie(value)
                self.cookies.update({key: morsel.value for key, morsel in cookie.items()})
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content

    def api(self, method: str, path: str, token: str | None, data=None) -> tuple[int, dict]:
        headers = {"Authorization": f"Token {token}"} if token else {}
        status, _headers, content = self.request(method, path, data=data, headers=headers)
        return status, json.loads(content) if content else {}


# --- The test ----------------------------------------------------------------------------------


@pytest.fixture
def stand(tmp_path):
    stand = Stand(tmp_path)
    try:
        stand.start()
        yield stand
    finally:
        stand.stop()


def test_the_compose_stack_runs_under_production_settings_behind_a_tls_proxy(stand, tmp_path):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = ours(compose)
    app = build_app(tmp_path)
    web_port = free_port()
    replaced: set[str] = set()
    environments = {
        name: with_stand_ins(
            {key: interpolate(str(value), DEPLOYMENT) for key, value in service["environment"].items()},
            stand,
            replaced,
        )
        for name, service in services.items()
    }
    commands = {name: localised(shlex.split(service["command"]), app, web_port) for name, service in services.items()}
    running: dict[str, Process] = {}
    proxy = None

    def start(name: str) -> Process:
        environment = {**base_env(app), **environments[name]}
        running[name] = Process(commands[name], env=environment, log=tmp_path / f"{name}.log", cwd=app).start()
        return running[name]

    try:
        # Start in compose's order, on compose's conditions; postgres, redis and mailpit are up already.
        order = TopologicalSorter(
            {name: set(service.get("depends_on", {})) & set(services) for name, service in services.items()}
        )
        waited = {}
        for name in order.static_order():
            for dependency, condition in services[name].get("depends_on", {}).items():
                if dependency not in services:
                    continue
                waited[(name, dependency)] = condition["condition"]
                if condition["condition"] == "service_completed_successfully":
                    dependency_process = running[dependency]
                    assert dependency_process.popen.wait(timeout=300) == 0, dependency_process.output()[-3000:]
            start(name)
        migrate_log = running["migrate"].output()

        # web's healthcheck, as compose runs it inside the container: a local probe over plain http.
        check = services["web"]["healthcheck"]["test"]
        assert check[0] == "CMD"
        probe = localised(check[1:], app, web_port)

        def healthy() -> bool:
            result = subprocess.run(probe, cwd=app, env={**base_env(app), **environments["web"]}, capture_output=True)
            return result.returncode == 0

        wait_for(healthy, timeout=120, every=0.5, what="web's healthcheck to pass")
        for name in ("web", "worker", "beat"):
            assert running[name].alive(), running[name].output()[-3000:]

        proxy = tls_proxy(web_port)
        browser = Browser(proxy.server_address[1])
        strict = wait_for(
            lambda: (lambda r: r if r[0] == 200 else None)(browser.request("GET", "/api/v1/health/?strict=1")),
            timeout=60,
            every=0.5,
            what="every part, the worker's heartbeat and beat's tick included, to be up",
        )
        # Production's checks are on: the wrong host is refused, plain http is sent to https.
        direct = http.client.HTTPConnection("127.0.0.1", web_port, timeout=10)
        direct.request("GET", "/accounts/login/", headers={"Host": f"127.0.0.1:{web_port}"})
        wrong_host = direct.getresponse().status
        direct.close()
        direct = http.client.HTTPConnection("127.0.0.1", web_port, timeout=10)
        direct.request("GET", "/accounts/login/", headers={"Host": PUBLIC_HOST})
        plain = direct.getresponse()
        plain_http = (plain.status, plain.getheader("Location"))
        direct.close()

        # The admin, made as the README says (`docker compose exec web python manage.py createsuperuser`).
        made = subprocess.run(
            [
                "python",
                "manage.py",
                "createsuperuser",
                "--noinput",
                "--username",
                ADMIN["username"],
                "--email",
                ADMIN["email"],
            ],
            cwd=app,
            env={**base_env(app), **environments["web"], "DJANGO_SUPERUSER_PASSWORD": ADMIN["password"]},
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr[-3000:]

        # Log in on the login page, as a browser over https.
        status, _headers, page = browser.request("GET", "/accounts/login/")
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        login = browser.request(
            "POST",
            "/accounts/login/",
            form={"username": ADMIN["username"], "password": ADMIN["password"], "csrfmiddlewaretoken": csrf},
            headers={"Origin": PUBLIC_URL, "Referer": f"{PUBLIC_URL}/accounts/login/"},
        )
        dashboard = browser.request("GET", "/")

        # Import a text and schedule a session starting in half an hour: its reminders are due at once.
        client = Browser(browser.port)  # an API client (no cookies): tokens, as curl would
        _status, token = client.api(
            "POST", "/api/v1/auth/token/", None, {"username": ADMIN["username"], "password": ADMIN["password"]}
        )
        key = token["token"]
        _status, group = client.api(
            "POST", "/api/v1/groups/", key, {"name": "Compose Circle", "timezone": "Europe/Berlin"}
        )
        sample = (ROOT / "sample-texts" / "october-revolution-study-notes.txt").read_text()
        imported_status, text = client.api("POST", "/api/v1/texts/", key, {"group": group["id"], "content": sample})
        starts = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
        _status, session = client.api(
            "POST",
            "/api/v1/sessions/",
            key,
            {
                "group": group["id"],
                "title": "Compose evening",
                "starts_at": starts.isoformat().replace("+00:00", "Z"),
                "ends_at": (starts + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            },
        )
        received = wait_for(
            lambda: [m for m in stand.smtp.received if " ".join(m.subject.split()).startswith(STARTING_SUBJECT)],
            timeout=180,
            every=0.5,
            what="the starting reminder at the SMTP server (beat ticks every minute)",
        )
    finally:
        if proxy is not None:
            proxy.shutdown()
            proxy.server_close()
        for process in running.values():
            process.stop(timeout=20)

    # The order and conditions compose would apply.
    assert waited == {(name, "migrate"): "service_completed_successfully" for name in ("web", "worker", "beat")}
    assert "Applying sessions_app.0001_initial... OK" in migrate_log
    assert replaced == {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    # Health, through the proxy.
    body = json.loads(strict[2])
    assert (body["status"], body["database"], body["redis"]) == ("ok", {"ok": True}, {"ok": True, "configured": True})
    assert body["worker"]["ok"]
    assert body["beat"]["ok"]
    assert wrong_host == 400
    assert plain_http == (301, f"{PUBLIC_URL}/accounts/login/")
    # The login, the page after it, the import.
    assert status == 200
    assert (login[0], login[1]["location"]) == (302, "/")
    assert "sessionid" in browser.cookies
    assert dashboard[0] == 200
    assert b"Log out" in dashboard[2]
    assert imported_status == 201
    assert (text["title"], text["format"], text["passage_count"]) == (
        "The October revolution and the bolsheviks",
        "txt",
        121,
    )
    # The reminder, as the admin's mail client gets it, with links to the public https address.
    (message,) = received
    assert message.to == (ADMIN["email"],)
    plain_text = message.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"Session page: {PUBLIC_URL}/sessions/{session['id']}/\n" in plain_text
    assert str(message.message["List-Unsubscribe"]).strip().startswith(f"<{PUBLIC_URL}/reminders/unsubscribe/")
