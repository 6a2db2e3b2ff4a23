"""Real parts for reminder tests: an SMTP server that records, Celery worker and redis-server processes, polling.

Nothing here sleeps to synchronise: `wait_for` polls a condition under a deadline.
"""

import asyncio
import contextlib
import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(ROOT / ".venv" / "bin" / "celery") if (ROOT / ".venv" / "bin" / "celery").exists() else "celery"


def database_url() -> str:
    """The test database, as a worker process must see it."""
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.05, tick=None):
    """Poll `condition` until it is truthy (returned) or `timeout` seconds pass (AssertionError).

    `tick`, if given, runs about every half second while waiting: the test's stand-in for beat.
    """
    deadline = time.monotonic() + timeout
    next_tick = 0.0
    while True:
        value = condition()
        if value:
            return value
        now = time.monotonic()
        if now >= deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")
        if tick is not None and now >= next_tick:
            tick()
            next_tick = now + 0.5
        time.sleep(every)


@dataclass(frozen=True)
class Received:
    message_id: str
    to: tuple[str, ...]
    subject: str
    message: email.message.EmailMessage


class SmtpRecorder:
    """An aiosmtpd server on 127.0.0.1 that records each message it accepts.

    `refuse` maps a recipient address to the reply its RCPT gets (e.g. "550 5.1.1 No such mailbox");
    `delay` slows every DATA down, so a test can catch a worker in the middle of a batch.
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.refuse: dict[str, str] = {}
        self.port: int | None = None
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._received.append(
                Received(str(message["Message-ID"]), tuple(envelope.rcpt_tos), str(message["Subject"]), message)
            )
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def start(self, port: int | None = None) -> None:
        self.port = port or self.port or free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class RedisNamespace:
    """A prefix for every key a test's processes write to a shared Redis (broker and cache), and their removal.

    Tests share one Redis database with each other (xdist) and with nothing
    else; each test's workers, publishers and caches keep their keys under
    their own prefix (kombu's `global_keyprefix`, Django's cache `KEY_PREFIX`),
    so `delete()` removes exactly what the test wrote, queues, bindings,
    unacked messages and heartbeats included.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"studycircle-test-{uuid.uuid4().hex[:12]}:"

    @property
    def transport_options(self) -> dict[str, str]:
        return {"global_keyprefix": self.prefix}

    def settings_env(self, folder: Path, base: str = "config.settings.base") -> dict[str, str]:
        """Environment for a Django process on `base` settings whose Redis keys all carry the prefix."""
        module = "redis_namespace_settings"
        (folder / f"{module}.py").write_text(
            f"from {base} import *  # noqa: F403\n"
            f"CACHES = {{'default': {{**CACHES['default'], 'KEY_PREFIX': {self.prefix!r}}}}}  # noqa: F405\n"
            f"CELERY_BROKER_TRANSPORT_OPTIONS = {self.transport_options!r}\n"
        )
        paths = [str(folder), str(ROOT), os.environ.get("PYTHONPATH", "")]
        return {"DJANGO_SETTINGS_MODULE": module, "PYTHONPATH": os.pathsep.join(filter(None, paths))}

    def _client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def stored_keys(self) -> list[bytes]:
        with contextlib.closing(self._client()) as client:
            return sorted(client.scan_iter(match=self.prefix + "*", count=1000))

    def delete(self) -> None:
        with contextlib.closing(self._client()) as client:
            for key in client.scan_iter(match=self.prefix + "*", count=1000):
                client.delete(key)


def forget_unbound_deadlines(client) -> None:
    """Drop kombu's binding deadlines (`_kombu.binding_deadlines`) whose binding table is gone.

    A stopped worker removes its bindings but leaves their deadline entry (e.g.
    `celery.pidbox`, its remote control), and with the last entry the key itself,
    in Redis. Entries of tables still bound (another test's worker) are kept.
    """
    deadlines = "_kombu.binding_deadlines"
    for member in client.zrange(deadlines, 0, -1):
        if not client.exists(b"_kombu.binding." + member):
            client.zrem(deadlines, member)


def redis_keys(url: str) -> set[bytes]:
    """Every key in the Redis database at `url`."""
    import redis

    with contextlib.closing(redis.Redis.from_url(url, socket_connect_timeout=2)) as client:
        return set(client.scan_iter(count=1000))


class Process:
    """A subprocess in its own process group, logging to a file; killed with its children."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path, cwd: Path = ROOT) -> None:
        self.args, self.env, self.log, self.cwd = args, env, log, cwd
        self.popen: subprocess.Popen | None = None
        self._offset = 0

    def start(self) -> "Process":
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.args, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def output(self, *, since_start: bool = False) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as log:
            log.seek(self._offset if since_start else 0)
            return log.read().decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole group: no cleanup, no acks, exactly like a crash."""
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class Worker(Process):
    """`celery -A config worker` (prefork, one child) consuming `queue`; `beat=True` embeds beat as `make run` does."""

    def __init__(self, name: str, *, env: dict[str, str], log: Path, queue: str | None = None, beat: bool = False):
        args = [CELERY, "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1", "-n", f"{name}@%h"]
        args += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        if queue:
            args += ["-Q", queue]
        if beat:
            args += ["--beat", f"--schedule={log.parent / (name + '-beat-schedule')}"]
        super().__init__(args, env=env, log=log)

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for(
            lambda: " ready." in self.output(since_start=True) or not self.alive(),
            timeout=timeout,
            what=f"worker {self.args[8]} to be ready",
        )
        assert self.alive(), self.output()[-3000:]


class RedisServer(Process):
    """A private redis-server on its own port, without persistence: a restart loses every queued message."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        binary = shutil.which("redis-server") or "redis-server"
        args = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        super().__init__(args, env=dict(os.environ), log=log)

    @staticmethod
    def binary() -> str | None:
        return shutil.which("redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> "RedisServer":
        super().start()
        wait_for(self.answers, timeout=15, what="redis-server to answer")
        return self
