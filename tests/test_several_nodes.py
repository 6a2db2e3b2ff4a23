"""The README's "Running on several machines", proven on one: web nodes are stateless.

Two gunicorn nodes on different ports, two Celery workers and one beat, all
separate processes sharing only the test's PostgreSQL database and Redis
(every key under this test's prefix, removed afterwards), and an aiosmtpd
server here. Then, as people would notice it:

- a login on node A (its session cookie) and an API token made on node A
  work on node B;
- a PDF pack asked for on node A is rendered once by a worker, and node B
  serves the same file from the shared cache at the first request;
- a session scheduled through node A sends each of its reminders exactly once;
- a worker stopped (SIGTERM, as an upgrade stops it) in the middle of a batch
  loses nothing: every reminder still arrives, once.

Beat ticks every two seconds here (REMINDER_DISPATCH_INTERVAL_SECONDS) and
batches are small, so a batch is easy to catch in the middle.
"""

import http.client
import json
import os
import re
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from reminders.models import Reminder
from sessions_app.enums import Role
from sessions_app.models import User
from sessions_app.services.groups import group_create, membership_add
from sessions_app.services.schedule import session_create

from .conftest import service_unavailable
from .readings.conftest import SAMPLE
from .reminders.realparts import (
    CELERY,
    ROOT,
    Process,
    RedisNamespace,
    SmtpRecorder,
    Worker,
    database_url,
    forget_unbound_deadlines,
    free_port,
    redis_answers,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase for the nodes test"
MEMBERS = 12
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


class Node:
    """`gunicorn config.wsgi` on its own port, and an HTTP client for it that keeps cookies when asked."""

    def __init__(self, name: str, env: dict[str, str], tmp: Path) -> None:
        self.name = name
        self.port = free_port()
        args = [GUNICORN, "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"]
        self.process = Process(args, env=env, log=tmp / f"{name}.log")

    def start(self) -> "Node":
        self.process.start()
        wait_for(
            lambda: self._answers() or not self.process.alive(),
            timeout=60,
            what=f"web node {self.name} to answer",
            every=0.2,
        )
        assert self.process.alive(), self.process.output()[-3000:]
        return self

    def _answers(self) -> bool:
        try:
            return self.request("GET", "/api/v1/health/")[0] == 200
        except OSError:
            return False

    def request(self, method, path, *, cookies=None, form=None, data=None, token=None, headers=None):
        """(status, headers, body); `cookies` (a dict) is sent, and updated from Set-Cookie."""
        headers = {"Host": "127.0.0.1", **(headers or {})}
        body = None
        if form is not None:
            body, headers["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif data is not None:
            body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        if cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        if cookies is not None:
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookies.update({key: morsel.value for key, morsel in SimpleCookie(value).items()})
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content


@pytest.fixture
def stack(transactional_db, tmp_path):
    """Starts nothing yet: holds the environment and what the test starts, and stops and removes it all."""
    if connection.vendor != "postgresql":
        service_unavailable("PostgreSQL", "the nodes share the test's PostgreSQL database")
    url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    if not url or not redis_answers(url):
        service_unavailable("Redis", f"nothing answers at {url!r}")
    namespace = RedisNamespace(url)
    smtp = SmtpRecorder(delay=0.2)  # a batch of four takes ~0.8 s: long enough to be caught in
    smtp.start()
    # Base settings with this test's Redis prefix; static files found in the apps, as collectstatic
    # would gather them on each node (the manifest it writes is not what this test is about).
    namespaced = namespace.settings_env(tmp_path, base="config.settings.base")
    (tmp_path / "nodes_settings.py").write_text(
        f"from {namespaced['DJANGO_SETTINGS_MODULE']} import *  # noqa: F403\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
        "WHITENOISE_USE_FINDERS = True\n"
    )
    env = {
        **os.environ,
        **namespaced,
        "DJANGO_SETTINGS_MODULE": "nodes_settings",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "SITE_URL": "http://127.0.0.1",
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": url,
        "CELERY_BROKER_URL": url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "EMAIL_TIMEOUT": "5",
        "REMINDER_DISPATCH_INTERVAL_SECONDS": "2",
        "REMINDER_DISPATCH_MAX_SECONDS": "3",
        "REMINDER_BATCH_SIZE": "4",
        "REMINDER_LEASE_SECONDS": "20",
        "WORKER_HEARTBEAT_SECONDS": "2",
        "REQUIRE_SERVICES": "0",
        "PYTHONUNBUFFERED": "1",
    }
    started: list[Process] = []

    class Stack:
        def __init__(self):
            self.env, self.smtp, self.tmp = env, smtp, tmp_path

        def node(self, name: str) -> Node:
            node = Node(name, env, tmp_path)
            started.append(node.process)
            return node.start()

        def worker(self, name: str) -> Worker:
            worker = Worker(name, env=env, log=tmp_path / f"{name}.log")
            started.append(worker)
            worker.start()
            worker.wait_ready()
            return worker

        def beat(self) -> Process:
            args = [CELERY, "-A", "config", "beat", "--loglevel=INFO", f"--schedule={tmp_path / 'beat-schedule'}"]
            beat = Process(args, env=env, log=tmp_path / "beat.log")
            started.append(beat)
            return beat.start()

    try:
        yield Stack()
    finally:
        for process in reversed(started):
            process.stop(timeout=30)
        smtp.stop()
        namespace.delete()
        import redis

        client = redis.Redis.from_url(url)
        forget_unbound_deadlines(client)
        client.close()


def received_ids(lines: str, task: str, state: str) -> set[str]:
    return set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] {state}", lines))


def test_two_web_nodes_two_workers_and_one_beat_share_only_postgresql_and_redis(stack, settings):
    # The nodes run production's password hashers, not the suite's fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    organizer = User.objects.create_user("ada", "ada@example.org", PASSWORD)
    group = group_create(creator=organizer, name="Nodes Circle", timezone="Europe/Berlin")
    for number in range(MEMBERS):
        membership_add(group=group, user=User.objects.create_user(f"member{number}", f"member{number}@example.org"))
    membership_add(group=group, user=User.objects.create_user("bo", "bo@example.org"), role=Role.FACILITATOR)
    essay = text_import(group=group, created_by=organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    in_a_week = datetime.now(UTC) + timedelta(days=7)
    evening = session_create(
        group=group, title="Next week", starts_at=in_a_week, ends_at=in_a_week + timedelta(hours=1)
    )
    passages = list(essay.passages.order_by("position"))
    assignment_create(session=evening, text=essay, start_passage=passages[10], end_passage=passages[25])

    a, b = stack.node("node-a"), stack.node("node-b")
    w1, w2 = stack.worker("w1"), stack.worker("w2")
    beat = stack.beat()

    # --- A login on node A is a login on node B; so is a token made on node A. ---
    cookies: dict[str, str] = {}
    _status, _headers, page = a.request("GET", "/accounts/login/", cookies=cookies)
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    login = a.request(
        "POST",
        "/accounts/login/",
        cookies=cookies,
        form={"username": "ada", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    dashboard_on_b = b.request("GET", "/", cookies=dict(cookies))
    anonymous_on_b = b.request("GET", "/")
    _status, _headers, made = a.request("POST", "/api/v1/auth/token/", data={"username": "ada", "password": PASSWORD})
    assert _status == 200, made
    token = json.loads(made)["token"]
    me_on_b = b.request("GET", "/api/v1/me/", token=token)

    assert (login[0], login[1]["location"]) == (302, "/")
    assert dashboard_on_b[0] == 200
    assert b"Log out" in dashboard_on_b[2]
    assert b"Nodes Circle" in dashboard_on_b[2]
    assert b"Log out" not in anonymous_on_b[2]  # node B does not simply let anyone in
    assert me_on_b[0] == 200
    assert json.loads(me_on_b[2])["username"] == "ada"

    # --- A PDF asked for on node A is rendered once; node B serves it from the shared cache. ---
    pdf_path = f"/api/v1/sessions/{evening.pk}/pack/?format=pdf"
    first = a.request("GET", pdf_path, token=token)
    ready_on_a = wait_for(
        lambda: (answer := a.request("GET", pdf_path, token=token))[0] == 200 and answer,
        timeout=120,
        every=0.5,
        what="node A to serve the rendered PDF",
    )
    on_b = b.request("GET", pdf_path, token=token)
    renders = sum(worker.output().count("rendered the pdf pack of session") for worker in (w1, w2))

    assert first[0] == 202
    assert ready_on_a[2].startswith(b"%PDF-")
    assert on_b[0] == 200
    assert on_b[2] == ready_on_a[2]
    assert on_b[1]["etag"] == ready_on_a[1]["etag"]
    assert renders == 1

    # --- A session scheduled through node A: its reminders go out once, though a worker stops mid-batch. ---
    # Drafted, given a question (so its reading reminder has something to say), then scheduled: every
    # reminder is due at once.
    starts = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    created = a.request(
        "POST",
        "/api/v1/sessions/",
        token=token,
        data={
            "group": group.pk,
            "title": "Half an hour from now",
            "status": "draft",
            "starts_at": starts.isoformat().replace("+00:00", "Z"),
            "ends_at": (starts + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        },
    )
    assert created[0] == 201, created[2]
    session_id = json.loads(created[2])["id"]
    asked = a.request(
        "POST", f"/api/v1/sessions/{session_id}/questions/", token=token, data={"prompt": "What is the main claim?"}
    )
    assert asked[0] == 201, asked[2]
    scheduled = a.request("PATCH", f"/api/v1/sessions/{session_id}/", token=token, data={"status": "scheduled"})
    assert scheduled[0] == 200, scheduled[2]
    rows = Reminder.objects.filter(session_id=session_id)
    expected = rows.count()  # all due now: reading and starting for each of the group's people, and the brief

    def w1_mid_batch() -> bool:
        log = w1.output()
        running = received_ids(log, "reminders.dispatch_due_reminders", "received") - received_ids(
            log, "reminders.dispatch_due_reminders", "succeeded"
        )
        return bool(running) and rows.filter(state="sending").exists() and len(stack.smtp.received) >= 2

    wait_for(w1_mid_batch, timeout=120, every=0.05, what="worker w1 to be in the middle of a batch")
    sent_before_stop = len(stack.smtp.received)
    os.kill(w1.popen.pid, signal.SIGTERM)  # to the worker's main process, as `docker compose stop` does
    wait_for(lambda: not w1.alive(), timeout=60, what="w1 to finish its task and stop")
    wait_for(
        lambda: rows.filter(state="sent").count() == expected,
        timeout=120,
        every=0.2,
        what="every reminder to be sent by the worker left",
    )
    # Beat keeps ticking: a few more passes must not send anything again.
    ticks = beat.output().count("Scheduler: Sending due task")
    wait_for(
        lambda: beat.output().count("Scheduler: Sending due task") >= ticks + 3,
        timeout=60,
        what="three more ticks of beat",
    )

    assert not rows.exclude(state="sent").exists()
    mine = [message for message in stack.smtp.received if f".session-{session_id}@" in message.message_id]
    per_message = Counter(message.message_id for message in mine)
    per_person_and_subject = Counter((message.to, message.subject) for message in mine)
    # Reading and starting for everyone; the facilitator's brief for the organizer (the session lists no facilitators).
    assert Counter(rows.values_list("kind", flat=True)) == {"reading": MEMBERS + 2, "starting": MEMBERS + 2, "brief": 1}
    assert expected == 2 * (MEMBERS + 2) + 1
    assert 2 <= sent_before_stop < expected  # stopped in the middle of the work, not before or after it
    assert len(per_message) == expected
    assert set(per_message.values()) == {1}
    assert set(per_person_and_subject.values()) == {1}
    assert w1.popen.returncode == 0  # a warm shutdown: its task finished, nothing abandoned
    assert w2.alive()
